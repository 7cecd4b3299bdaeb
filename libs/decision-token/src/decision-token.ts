/**
 * The decision token: the policy service's Ed25519 signature over exactly what it decided
 * may be signed (ARCHITECTURE "trust model" 1). The signer trusts this, not messages.
 *
 * Format `custody.decision-token.v1` (docs/policies.md):
 *
 *   token   = base64url(payload) "." base64url(signature)      (RFC 4648 §5, no padding)
 *   signed  = "custody.decision-token.v1" 0x00 payload          (domain separation)
 *   payload = field(0x01 key id) field(0x02 decision id) field(0x03 withdrawal id)
 *             field(0x04 asset) field(0x05 source wallet) field(0x06 destination address)
 *             field(0x07 destination tag, empty when none) field(0x08 amount)
 *             field(0x09 bundle digest) field(0x0a quorum) field(0x0b roles)
 *             field(0x0c issued at) field(0x0d expires at)
 *   field   = tag:u8 length:u32be value
 *
 * Values: identifiers are printable ASCII; amount is the canonical decimal string of the
 * base-unit integer; bundle digest the 32 raw bytes of the bundle's SHA-256; quorum
 * u32be; roles are the sorted, distinct role names, each length:u8 name; times are
 * u64be Unix seconds. Every field is present exactly once, in tag order, and nothing
 * follows the last one, so one set of claims has exactly one encoding and a decoder
 * accepts only that encoding.
 *
 * Verification checks, in order: encoding, key id among the trusted keys, signature
 * (RFC 8032, strict: noble `zip215: false`), time against an injected clock, and that
 * every bound field equals what the verifier derived on its own (the withdrawal it is
 * about to sign). A refusal is a value, not an exception.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { base64urlnopad, hex } from '@scure/base';
import type { Clock } from './clock.js';
import { DecisionTokenClaimsError, DecisionTokenKeyError } from './errors.js';

export const DECISION_TOKEN_DOMAIN = 'custody.decision-token.v1';

export interface TokenDestination {
  readonly address: string;
  /** Memo / destination tag for chains that have one; absent otherwise (never empty). */
  readonly tag?: string;
}

export interface TokenApprovals {
  readonly quorum: number;
  /** Sorted, distinct. */
  readonly roles: readonly string[];
}

export interface DecisionTokenClaims {
  /** Which policy-service key signed (rotation); bound by the signature. */
  readonly keyId: string;
  /** Unique per decision; the signer's single-use store keys on it. */
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly asset: string;
  readonly sourceWallet: string;
  readonly destination: TokenDestination;
  /** Base units. */
  readonly amount: bigint;
  /** SHA-256 of the policy bundle archive, lowercase hex: the policy version that decided. */
  readonly bundleDigest: string;
  /** Approvals the signer must see besides this token. */
  readonly approvals: TokenApprovals;
  /** Unix seconds. */
  readonly issuedAt: number;
  /** Unix seconds; the token is refused from this second on. */
  readonly expiresAt: number;
}

export type UnsignedDecisionToken = Omit<DecisionTokenClaims, 'keyId'>;

export interface DecisionSigningKey {
  readonly keyId: string;
  /** 32-byte Ed25519 seed. */
  readonly secretKey: Uint8Array;
}

/** What the verifier derived on its own; the token must match it field for field. */
export interface TokenBinding {
  readonly withdrawalId: string;
  readonly asset: string;
  readonly sourceWallet: string;
  readonly destination: TokenDestination;
  readonly amount: bigint;
  /** Accepted policy versions; when given, the token's bundle digest must be one of them. */
  readonly bundleDigests?: readonly string[];
}

export interface VerifyDecisionTokenOptions {
  /** Key id → 32-byte Ed25519 public key of the policy service. */
  readonly trustedKeys: ReadonlyMap<string, Uint8Array>;
  readonly clock: Clock;
  readonly expected: TokenBinding;
  /** How far issuedAt may lie in the verifier's future (clock skew). Default 30 s. */
  readonly maxClockSkewSeconds?: number;
}

export type TokenRefusal = 'malformed' | 'unknown_key' | 'bad_signature' | 'expired' | 'not_yet_valid' | 'binding_mismatch';

export type TokenVerification =
  | { readonly ok: true; readonly claims: DecisionTokenClaims }
  | { readonly ok: false; readonly reason: TokenRefusal; readonly detail: string };

const TAG = {
  keyId: 0x01,
  decisionId: 0x02,
  withdrawalId: 0x03,
  asset: 0x04,
  sourceWallet: 0x05,
  destinationAddress: 0x06,
  destinationTag: 0x07,
  amount: 0x08,
  bundleDigest: 0x09,
  quorum: 0x0a,
  roles: 0x0b,
  issuedAt: 0x0c,
  expiresAt: 0x0d,
} as const;

const IDENTIFIER = /^[!-~]{1,256}$/;
const ASSET = /^[A-Za-z0-9._-]{1,32}$/;
const ROLE = /^[a-z][a-z0-9_]{0,63}$/;
const DIGEST = /^[0-9a-f]{64}$/;
const AMOUNT = /^[1-9]\d{0,77}$/;
const MAX_QUORUM = 64;
const MAX_ROLES = 64;
const MAX_TOKEN_CHARS = 8192;
const DEFAULT_SKEW_SECONDS = 30;

const DOMAIN_PREFIX = Uint8Array.from([...new TextEncoder().encode(DECISION_TOKEN_DOMAIN), 0x00]);
const ascii = new TextEncoder();
const strictAscii = new TextDecoder('utf-8', { fatal: true });

/** Signs the claims with the policy service key; returns the token string. */
export function signDecisionToken(claims: UnsignedDecisionToken, key: DecisionSigningKey): string {
  if (typeof key.keyId !== 'string' || !IDENTIFIER.test(key.keyId)) throw new DecisionTokenKeyError('signing key id must be 1-256 printable ASCII characters');
  if (!(key.secretKey instanceof Uint8Array) || key.secretKey.length !== 32) throw new DecisionTokenKeyError('signing key must be a 32-byte Ed25519 seed');
  const payload = encodeDecisionTokenPayload({ ...claims, keyId: key.keyId });
  const signature = ed25519.sign(signingBytes(payload), key.secretKey);
  return `${base64urlnopad.encode(payload)}.${base64urlnopad.encode(signature)}`;
}

/** The Ed25519 public key that verifies tokens signed with this seed. */
export function decisionTokenPublicKey(secretKey: Uint8Array): Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new DecisionTokenKeyError('signing key must be a 32-byte Ed25519 seed');
  return ed25519.getPublicKey(secretKey);
}

/** Verifies a token: encoding, key, signature, time, and binding to the expected withdrawal. */
export function verifyDecisionToken(token: string, options: VerifyDecisionTokenOptions): TokenVerification {
  const parts = splitToken(token);
  if (typeof parts === 'string') return refuse('malformed', parts);
  const claims = decodeDecisionTokenPayload(parts.payload);
  if (typeof claims === 'string') return refuse('malformed', claims);

  const publicKey = options.trustedKeys.get(claims.keyId);
  if (publicKey === undefined) return refuse('unknown_key', `no trusted key with id ${claims.keyId}`);
  if (!verifySignature(parts.signature, signingBytes(parts.payload), publicKey)) {
    return refuse('bad_signature', `signature does not verify under key ${claims.keyId}`);
  }

  const now = Math.floor(options.clock.now().getTime() / 1000);
  if (!Number.isSafeInteger(now)) return refuse('expired', 'the clock gave no valid time');
  if (now >= claims.expiresAt) return refuse('expired', `token expired at ${claims.expiresAt}, now ${now}`);
  const skew = options.maxClockSkewSeconds ?? DEFAULT_SKEW_SECONDS;
  if (claims.issuedAt > now + skew) return refuse('not_yet_valid', `token issued at ${claims.issuedAt}, now ${now}`);

  const mismatch = bindingMismatch(claims, options.expected);
  if (mismatch !== undefined) return refuse('binding_mismatch', `${mismatch} differs from the expected withdrawal`);
  return Object.freeze({ ok: true, claims });
}

/** The canonical payload bytes of the claims (throws DecisionTokenClaimsError on bad claims). */
export function encodeDecisionTokenPayload(claims: DecisionTokenClaims): Uint8Array {
  const problem = checkClaims(claims);
  if (problem !== undefined) throw new DecisionTokenClaimsError(problem[0], problem[1]);
  const roles = [...claims.approvals.roles].sort();
  const fields: Array<[number, Uint8Array]> = [
    [TAG.keyId, ascii.encode(claims.keyId)],
    [TAG.decisionId, ascii.encode(claims.decisionId)],
    [TAG.withdrawalId, ascii.encode(claims.withdrawalId)],
    [TAG.asset, ascii.encode(claims.asset)],
    [TAG.sourceWallet, ascii.encode(claims.sourceWallet)],
    [TAG.destinationAddress, ascii.encode(claims.destination.address)],
    [TAG.destinationTag, ascii.encode(claims.destination.tag ?? '')],
    [TAG.amount, ascii.encode(claims.amount.toString(10))],
    [TAG.bundleDigest, hex.decode(claims.bundleDigest)],
    [TAG.quorum, u32(claims.approvals.quorum)],
    [TAG.roles, concatBytes(roles.map((role) => concatBytes([Uint8Array.of(role.length), ascii.encode(role)])))],
    [TAG.issuedAt, u64(claims.issuedAt)],
    [TAG.expiresAt, u64(claims.expiresAt)],
  ];
  return concatBytes(fields.map(([tag, value]) => concatBytes([Uint8Array.of(tag), u32(value.length), value])));
}

/** Reads payload bytes back into claims; a string says why they are not a canonical payload. */
export function decodeDecisionTokenPayload(payload: Uint8Array): DecisionTokenClaims | string {
  const reader = new FieldReader(payload);
  try {
    const keyId = reader.text(TAG.keyId, 'keyId');
    const decisionId = reader.text(TAG.decisionId, 'decisionId');
    const withdrawalId = reader.text(TAG.withdrawalId, 'withdrawalId');
    const asset = reader.text(TAG.asset, 'asset');
    const sourceWallet = reader.text(TAG.sourceWallet, 'sourceWallet');
    const address = reader.text(TAG.destinationAddress, 'destination.address');
    const tag = reader.text(TAG.destinationTag, 'destination.tag');
    const amountText = reader.text(TAG.amount, 'amount');
    if (!AMOUNT.test(amountText)) return 'amount is not a canonical positive decimal';
    const digest = reader.field(TAG.bundleDigest, 'bundleDigest');
    if (digest.length !== 32) return 'bundleDigest is not 32 bytes';
    const quorum = reader.field(TAG.quorum, 'quorum');
    if (quorum.length !== 4) return 'quorum is not a u32';
    const roles = readRoles(reader.field(TAG.roles, 'roles'));
    if (typeof roles === 'string') return roles;
    const issuedAt = reader.field(TAG.issuedAt, 'issuedAt');
    const expiresAt = reader.field(TAG.expiresAt, 'expiresAt');
    if (issuedAt.length !== 8 || expiresAt.length !== 8) return 'times are not u64';
    if (!reader.done()) return 'bytes after the last field';

    const claims: DecisionTokenClaims = {
      keyId,
      decisionId,
      withdrawalId,
      asset,
      sourceWallet,
      destination: tag === '' ? { address } : { address, tag },
      amount: BigInt(amountText),
      bundleDigest: hex.encode(digest),
      approvals: { quorum: readU32(quorum), roles },
      issuedAt: readU64(issuedAt),
      expiresAt: readU64(expiresAt),
    };
    const problem = checkClaims(claims);
    if (problem !== undefined) return `${problem[0]}: ${problem[1]}`;
    // Canonical: the only accepted encoding of these claims is the one we produce.
    if (!equalBytes(encodeDecisionTokenPayload(claims), payload)) return 'payload is not in canonical form';
    return freezeClaims(claims);
  } catch (error) {
    if (error instanceof MalformedPayload) return error.message;
    throw error;
  }
}

function checkClaims(c: DecisionTokenClaims): [string, string] | undefined {
  const ids: Array<[string, unknown]> = [
    ['keyId', c.keyId],
    ['decisionId', c.decisionId],
    ['withdrawalId', c.withdrawalId],
    ['sourceWallet', c.sourceWallet],
    ['destination.address', c.destination?.address],
  ];
  for (const [field, value] of ids) {
    if (typeof value !== 'string' || !IDENTIFIER.test(value)) return [field, 'must be 1-256 printable ASCII characters'];
  }
  if (typeof c.asset !== 'string' || !ASSET.test(c.asset)) return ['asset', 'must be 1-32 of A-Z a-z 0-9 . _ -'];
  const tag = c.destination.tag;
  if (tag !== undefined && (typeof tag !== 'string' || !IDENTIFIER.test(tag))) return ['destination.tag', 'must be absent or 1-256 printable ASCII characters'];
  if (typeof c.amount !== 'bigint' || c.amount <= 0n || c.amount.toString(10).length > 78) return ['amount', 'must be a positive bigint of at most 78 digits'];
  if (typeof c.bundleDigest !== 'string' || !DIGEST.test(c.bundleDigest)) return ['bundleDigest', 'must be 64 lowercase hex digits'];
  const { quorum, roles } = c.approvals ?? {};
  if (!Number.isSafeInteger(quorum) || (quorum as number) < 0 || (quorum as number) > MAX_QUORUM) return ['approvals.quorum', `must be an integer from 0 to ${MAX_QUORUM}`];
  if (!Array.isArray(roles) || roles.length > MAX_ROLES || !roles.every((r) => typeof r === 'string' && ROLE.test(r))) return ['approvals.roles', 'must be role names'];
  if (new Set(roles).size !== roles.length) return ['approvals.roles', 'must be distinct'];
  if (roles.length > (quorum as number)) return ['approvals.roles', 'must not outnumber the quorum'];
  if (!Number.isSafeInteger(c.issuedAt) || c.issuedAt < 0) return ['issuedAt', 'must be Unix seconds'];
  if (!Number.isSafeInteger(c.expiresAt) || c.expiresAt <= c.issuedAt) return ['expiresAt', 'must be Unix seconds after issuedAt'];
  return undefined;
}

function bindingMismatch(claims: DecisionTokenClaims, expected: TokenBinding): string | undefined {
  if (claims.withdrawalId !== expected.withdrawalId) return 'withdrawalId';
  if (claims.asset !== expected.asset) return 'asset';
  if (claims.sourceWallet !== expected.sourceWallet) return 'sourceWallet';
  if (claims.destination.address !== expected.destination.address) return 'destination.address';
  if ((claims.destination.tag ?? '') !== (expected.destination.tag ?? '')) return 'destination.tag';
  if (claims.amount !== expected.amount) return 'amount';
  if (expected.bundleDigests !== undefined && !expected.bundleDigests.includes(claims.bundleDigest)) return 'bundleDigest';
  return undefined;
}

function splitToken(token: unknown): { payload: Uint8Array; signature: Uint8Array } | string {
  if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS) return 'token is not a string of at most 8192 characters';
  const parts = token.split('.');
  if (parts.length !== 2) return 'token is not payload.signature';
  const [payloadText, signatureText] = parts as [string, string];
  try {
    const payload = base64urlnopad.decode(payloadText);
    const signature = base64urlnopad.decode(signatureText);
    // Reject alternative spellings of the same bytes (non-zero padding bits).
    if (base64urlnopad.encode(payload) !== payloadText || base64urlnopad.encode(signature) !== signatureText) {
      return 'token is not canonical base64url';
    }
    if (signature.length !== 64) return 'signature is not 64 bytes';
    return { payload, signature };
  } catch {
    return 'token is not base64url';
  }
}

function verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

function signingBytes(payload: Uint8Array): Uint8Array {
  return concatBytes([DOMAIN_PREFIX, payload]);
}

function readRoles(bytes: Uint8Array): string[] | string {
  const roles: string[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = bytes[offset] ?? 0;
    const end = offset + 1 + length;
    if (length === 0 || end > bytes.length) return 'roles are not length-prefixed names';
    const role = decodeAscii(bytes.subarray(offset + 1, end));
    if (role === undefined || !ROLE.test(role)) return 'roles contain an invalid name';
    const previous = roles[roles.length - 1];
    if (previous !== undefined && previous >= role) return 'roles are not sorted and distinct';
    roles.push(role);
    offset = end;
  }
  return roles;
}

class MalformedPayload extends Error {}

class FieldReader {
  private offset = 0;

  constructor(private readonly bytes: Uint8Array) {}

  field(tag: number, name: string): Uint8Array {
    const header = this.offset + 5;
    if (header > this.bytes.length || this.bytes[this.offset] !== tag) throw new MalformedPayload(`field ${name} missing or out of order`);
    const length = readU32(this.bytes.subarray(this.offset + 1, header));
    const end = header + length;
    if (end > this.bytes.length) throw new MalformedPayload(`field ${name} runs past the end`);
    this.offset = end;
    return this.bytes.subarray(header, end);
  }

  text(tag: number, name: string): string {
    const value = decodeAscii(this.field(tag, name));
    if (value === undefined) throw new MalformedPayload(`field ${name} is not printable ASCII`);
    return value;
  }

  done(): boolean {
    return this.offset === this.bytes.length;
  }
}

function decodeAscii(bytes: Uint8Array): string | undefined {
  if (!bytes.every((b) => b >= 0x21 && b <= 0x7e)) return undefined;
  return strictAscii.decode(bytes);
}

function u32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, false);
  return out;
}

function u64(value: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), false);
  return out;
}

function readU32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, false);
}

function readU64(bytes: Uint8Array): number {
  const value = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, false);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new MalformedPayload('time beyond the safe integer range');
  return Number(value);
}

function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function freezeClaims(claims: DecisionTokenClaims): DecisionTokenClaims {
  Object.freeze(claims.destination);
  Object.freeze(claims.approvals.roles);
  Object.freeze(claims.approvals);
  return Object.freeze(claims);
}

function refuse(reason: TokenRefusal, detail: string): TokenVerification {
  return Object.freeze({ ok: false, reason, detail });
}
