// The canonical encodings the audit chain hashes and signs (docs/audit.md defines them; the
// known-answer tests in canonical.spec.ts pin them). Plain functions over Uint8Array.
//
//   record_hash    = SHA-256( "custody.audit.v1.record" 0x00 || F(sequence) || F(prev_hash)
//                      || F(occurred_at) || F(recorded_at) || F(kind) || F(actor) || F(action)
//                      || F(event_id) || F(correlation_id) || F(causation_id) || F(producer)
//                      || F(payload_digest) )
//   checkpoint msg = "custody.audit.v1.checkpoint" 0x00 || F(sequence) || F(record_hash)
//                      || F(created_at) || F(key_id)
//   F(x)           = u32 big-endian byte length of x || x
//   integers       = u64 big-endian (sequence) / i64 big-endian milliseconds since the epoch (times)
//   strings        = UTF-8; an absent causation id is the empty string
import { sha256 } from '@noble/hashes/sha2.js';

export const RECORD_DOMAIN = 'custody.audit.v1.record';
export const CHECKPOINT_DOMAIN = 'custody.audit.v1.checkpoint';
export const HASH_LENGTH = 32;
/** prev_hash of the first record (sequence 1). */
export const GENESIS_HASH: Uint8Array = new Uint8Array(HASH_LENGTH);

export type RecordKind = 'event' | 'operator';

/** Everything record_hash covers. */
export interface RecordContent {
  readonly sequence: bigint;
  readonly prevHash: Uint8Array;
  readonly occurredAt: Date;
  readonly recordedAt: Date;
  readonly kind: RecordKind;
  readonly actor: string;
  readonly action: string;
  readonly eventId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly producer: string;
  readonly payloadDigest: Uint8Array;
}

const utf8 = new TextEncoder();
const MAX_U64 = (1n << 64n) - 1n;

function u64(value: bigint, label: string): Uint8Array {
  if (value < 0n || value > MAX_U64) throw new RangeError(`${label} must fit in an unsigned 64-bit integer`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, false);
  return out;
}

function millis(date: Date, label: string): Uint8Array {
  const ms = date.getTime();
  if (!Number.isSafeInteger(ms)) throw new RangeError(`${label} must be a valid date`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, BigInt(ms), false);
  return out;
}

function hash32(value: Uint8Array, label: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== HASH_LENGTH) throw new TypeError(`${label} must be ${HASH_LENGTH} bytes`);
  return value;
}

function concatFields(domain: string, fields: readonly Uint8Array[]): Uint8Array {
  const head = utf8.encode(domain);
  const total = head.length + 1 + fields.reduce((n, f) => n + 4 + f.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  out.set(head, 0);
  let at = head.length + 1; // the 0x00 separator is already zero
  for (const field of fields) {
    view.setUint32(at, field.length, false);
    out.set(field, at + 4);
    at += 4 + field.length;
  }
  return out;
}

/** The exact bytes record_hash is computed over. */
export function encodeRecord(r: RecordContent): Uint8Array {
  return concatFields(RECORD_DOMAIN, [
    u64(r.sequence, 'sequence'),
    hash32(r.prevHash, 'prevHash'),
    millis(r.occurredAt, 'occurredAt'),
    millis(r.recordedAt, 'recordedAt'),
    utf8.encode(r.kind),
    utf8.encode(r.actor),
    utf8.encode(r.action),
    utf8.encode(r.eventId),
    utf8.encode(r.correlationId),
    utf8.encode(r.causationId),
    utf8.encode(r.producer),
    hash32(r.payloadDigest, 'payloadDigest'),
  ]);
}

export function recordHash(r: RecordContent): Uint8Array {
  return sha256(encodeRecord(r));
}

export function payloadDigest(payload: Uint8Array): Uint8Array {
  return sha256(payload);
}

export interface CheckpointContent {
  readonly sequence: bigint;
  readonly recordHash: Uint8Array;
  readonly createdAt: Date;
  readonly keyId: string;
}

/** The exact bytes a checkpoint signature covers. */
export function encodeCheckpoint(c: CheckpointContent): Uint8Array {
  return concatFields(CHECKPOINT_DOMAIN, [u64(c.sequence, 'sequence'), hash32(c.recordHash, 'recordHash'), millis(c.createdAt, 'createdAt'), utf8.encode(c.keyId)]);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
