// The canonical request encoding integrators sign (Ed25519) — docs/intake.md spells it out
// byte by byte so any client can implement it. Injective by construction: every element
// is length-prefixed, and the elements come in a fixed order.
//
//   signing_input = "CUSTODY-INTAKE-REQUEST-V1"
//                   || item(method) || item(client_id) || item(key_id)
//                   || item(timestamp) || item(nonce) || item(body)
//   body          = item(name_1) || item(value_1) || ... in ascending proto field number
//   item(x)       = uint32_be(byte_length(x)) || x        (strings as UTF-8)
//
// `timestamp` is the decimal Unix time in milliseconds; `method` the full gRPC path, e.g.
// "/custody.intake.v1.CustodyGatewayService/SubmitWithdrawal". Body values: strings as
// UTF-8; repeated strings as the concatenation of item(v) for each element.

export const SIGNING_DOMAIN = 'CUSTODY-INTAKE-REQUEST-V1';

/** One body field: proto (snake_case) name and value. */
export type BodyField = readonly [name: string, value: string | readonly string[]];

export interface SigningEnvelope {
  readonly method: string;
  readonly clientId: string;
  readonly keyId: string;
  readonly timestampMs: number;
  readonly nonce: string;
  /** Fields in ascending proto field number. */
  readonly body: readonly BodyField[];
}

const utf8 = new TextEncoder();

function item(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + bytes.length);
  new DataView(out.buffer).setUint32(0, bytes.length, false);
  out.set(bytes, 4);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** The canonical body (also what idempotency compares: same key + same body = same request). */
export function encodeBody(body: readonly BodyField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, value] of body) {
    parts.push(item(utf8.encode(name)));
    parts.push(typeof value === 'string' ? item(utf8.encode(value)) : item(concat(value.map((v) => item(utf8.encode(v))))));
  }
  return concat(parts);
}

export function encodeSigningInput(envelope: SigningEnvelope): Uint8Array {
  if (!Number.isSafeInteger(envelope.timestampMs) || envelope.timestampMs < 0) throw new RangeError('timestampMs must be a non-negative safe integer');
  return concat([
    utf8.encode(SIGNING_DOMAIN),
    item(utf8.encode(envelope.method)),
    item(utf8.encode(envelope.clientId)),
    item(utf8.encode(envelope.keyId)),
    item(utf8.encode(String(envelope.timestampMs))),
    item(utf8.encode(envelope.nonce)),
    item(encodeBody(envelope.body)),
  ]);
}

/** Inverse of encodeSigningInput (used by tests and by evidence verification tools). */
export function decodeSigningInput(bytes: Uint8Array): SigningEnvelope {
  const text = new TextDecoder('utf-8', { fatal: true });
  const domain = utf8.encode(SIGNING_DOMAIN);
  if (bytes.length < domain.length || !domain.every((b, i) => bytes[i] === b)) throw new TypeError('not a CUSTODY-INTAKE-REQUEST-V1 signing input');
  let offset = domain.length;
  const read = (buf: Uint8Array, at: number): [Uint8Array, number] => {
    if (at + 4 > buf.length) throw new TypeError('truncated length prefix');
    const len = new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getUint32(at, false);
    if (at + 4 + len > buf.length) throw new TypeError('truncated item');
    return [buf.subarray(at + 4, at + 4 + len), at + 4 + len];
  };
  const next = (): Uint8Array => {
    const [v, o] = read(bytes, offset);
    offset = o;
    return v;
  };
  const method = text.decode(next());
  const clientId = text.decode(next());
  const keyId = text.decode(next());
  const timestampMs = Number(text.decode(next()));
  const nonce = text.decode(next());
  const bodyBytes = next();
  if (offset !== bytes.length) throw new TypeError('trailing bytes');
  const body: BodyField[] = [];
  let at = 0;
  while (at < bodyBytes.length) {
    const [name, a1] = read(bodyBytes, at);
    const [value, a2] = read(bodyBytes, a1);
    body.push([text.decode(name), text.decode(value)]);
    at = a2;
  }
  return { method, clientId, keyId, timestampMs, nonce, body };
}
