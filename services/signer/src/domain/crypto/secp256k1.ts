/**
 * secp256k1 ECDSA over a 32-byte digest (Bitcoin, EVM).
 *
 * Hardened defaults:
 * - the nonce is RFC 6979 deterministic (no extra entropy), so the same key and digest
 *   always give the same signature and a broken RNG can never leak the key;
 * - signatures are produced low-S (s <= n/2) and `verifyDigest` / `recoverPublicKey`
 *   refuse high-S unless the caller opts in with `allowHighS: true`;
 * - the message is never hashed here (`prehash: false`): callers pass the digest their
 *   chain defines (keccak256 for EVM, double SHA-256 for Bitcoin).
 *
 * `normaliseLowS` and `computeRecoveryId` exist for signers that return a bare (r, s),
 * possibly high-S and without recovery id: a PKCS#11 HSM does exactly that.
 */
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { assertBigint, assertBytes, bigintToBytes, bytesToBigint, copyBytes, equalBytes } from './bytes.js';
import { SignerInputError } from './errors.js';

/** Group order n. */
export const SECP256K1_N: bigint = secp256k1.Point.Fn.ORDER;
const HALF_N = SECP256K1_N >> 1n;

export type RecoveryId = 0 | 1;

export interface EcdsaSignature {
  readonly r: bigint;
  readonly s: bigint;
}

export interface RecoverableSignature extends EcdsaSignature {
  readonly recovery: RecoveryId;
}

export interface VerifyOptions {
  /** Accept s > n/2. Off by default: Bitcoin (BIP-146) and Ethereum (EIP-2) reject it. */
  readonly allowHighS?: boolean;
}

export interface PublicKeyOptions {
  /** 33-byte SEC1 compressed (default) or 65-byte uncompressed. */
  readonly compressed?: boolean;
}

function assertSecretKey(secretKey: unknown, field = 'secretKey'): Uint8Array {
  const key = assertBytes(secretKey, field, 32);
  if (!secp256k1.utils.isValidSecretKey(key)) {
    throw new SignerInputError('INVALID_SECRET_KEY', field, 'must be an integer in [1, n-1]');
  }
  return key;
}

function assertDigest(digest: unknown, field = 'digest'): Uint8Array {
  return assertBytes(digest, field, 32);
}

function parsePoint(publicKey: unknown, field: string) {
  const bytes = assertBytes(publicKey, field, 33, 65);
  try {
    return secp256k1.Point.fromBytes(bytes);
  } catch {
    throw new SignerInputError('INVALID_PUBLIC_KEY', field, 'must be a SEC1 encoding of a point on secp256k1');
  }
}

function assertScalarComponent(value: unknown, field: string): bigint {
  return assertBigint(value, field, 1n, SECP256K1_N - 1n);
}

function assertRecovery(value: unknown, field: string): RecoveryId {
  if (value !== 0 && value !== 1) throw new SignerInputError('OUT_OF_RANGE', field, 'must be 0 or 1');
  return value;
}

function assertSignatureShape(signature: unknown, field: string): EcdsaSignature {
  if (typeof signature !== 'object' || signature === null) {
    throw new SignerInputError('INVALID_TYPE', field, 'must be an object { r, s }');
  }
  const { r, s } = signature as { r?: unknown; s?: unknown };
  return { r: assertScalarComponent(r, `${field}.r`), s: assertScalarComponent(s, `${field}.s`) };
}

export function isHighS(s: bigint): boolean {
  return s > HALF_N;
}

/** Public key of a secret key; compressed (33 bytes) unless asked otherwise. */
export function getPublicKey(secretKey: Uint8Array, options: PublicKeyOptions = {}): Uint8Array {
  const key = assertSecretKey(secretKey);
  return secp256k1.getPublicKey(key, options.compressed ?? true);
}

/**
 * ECDSA signature of a 32-byte digest: RFC 6979 deterministic k, low-S, with the
 * recovery id (parity of R.y after normalisation).
 */
export function signDigest(digest: Uint8Array, secretKey: Uint8Array): RecoverableSignature {
  const message = assertDigest(digest);
  const key = assertSecretKey(secretKey);
  const encoded = secp256k1.sign(message, key, { prehash: false, lowS: true, extraEntropy: false, format: 'recovered' });
  const parsed = secp256k1.Signature.fromBytes(encoded, 'recovered');
  return Object.freeze({ r: parsed.r, s: parsed.s, recovery: assertRecovery(parsed.recovery, 'recovery') });
}

/**
 * Verifies (r, s) over a 32-byte digest. Malformed arguments throw; a well-formed
 * signature that does not verify, or is high-S without `allowHighS`, returns false.
 */
export function verifyDigest(
  signature: EcdsaSignature,
  digest: Uint8Array,
  publicKey: Uint8Array,
  options: VerifyOptions = {},
): boolean {
  if (typeof signature !== 'object' || signature === null) {
    throw new SignerInputError('INVALID_TYPE', 'signature', 'must be an object { r, s }');
  }
  const r = assertBigint(signature.r, 'signature.r', 0n, (1n << 256n) - 1n);
  const s = assertBigint(signature.s, 'signature.s', 0n, (1n << 256n) - 1n);
  const message = assertDigest(digest);
  const point = parsePoint(publicKey, 'publicKey');
  if (r === 0n || s === 0n || r >= SECP256K1_N || s >= SECP256K1_N) return false;
  if (isHighS(s) && options.allowHighS !== true) return false;
  return secp256k1.verify(signatureToCompact({ r, s }), message, point.toBytes(true), {
    prehash: false,
    lowS: options.allowHighS !== true,
    format: 'compact',
  });
}

/**
 * Public key that produced a recoverable signature over a digest. High-S is refused
 * unless `allowHighS`; the recovery id must belong to the signature as given.
 */
export function recoverPublicKey(
  digest: Uint8Array,
  signature: RecoverableSignature,
  options: VerifyOptions & PublicKeyOptions = {},
): Uint8Array {
  const message = assertDigest(digest);
  const { r, s } = assertSignatureShape(signature, 'signature');
  const recovery = assertRecovery(signature.recovery, 'signature.recovery');
  if (isHighS(s) && options.allowHighS !== true) {
    throw new SignerInputError('HIGH_S_SIGNATURE', 'signature.s', 'must be at most n/2 (normaliseLowS first)');
  }
  let point;
  try {
    point = new secp256k1.Signature(r, s, recovery).recoverPublicKey(message);
  } catch {
    throw new SignerInputError('RECOVERY_FAILED', 'signature', 'no public key recovers from this signature');
  }
  return point.toBytes(options.compressed ?? true);
}

/**
 * Low-S form of a signature: s' = n - s when s > n/2. Negating s mirrors R, so a
 * recovery id, when present, flips. Idempotent.
 */
export function normaliseLowS(signature: RecoverableSignature): RecoverableSignature;
export function normaliseLowS(signature: EcdsaSignature): EcdsaSignature;
export function normaliseLowS(signature: EcdsaSignature | RecoverableSignature): EcdsaSignature | RecoverableSignature {
  const { r, s } = assertSignatureShape(signature, 'signature');
  const rawRecovery = (signature as { recovery?: unknown }).recovery;
  const high = isHighS(s);
  const lowS = high ? SECP256K1_N - s : s;
  if (rawRecovery === undefined) return Object.freeze({ r, s: lowS });
  const recovery = assertRecovery(rawRecovery, 'signature.recovery');
  return Object.freeze({ r, s: lowS, recovery: high ? ((recovery ^ 1) as RecoveryId) : recovery });
}

/**
 * Recovery id of a bare (r, s) made by `publicKey` over `digest` — for signatures from an
 * HSM that returns no recovery id. Works on the signature as given (high or low S); call
 * `normaliseLowS` before or after (it flips the id consistently). Throws RECOVERY_FAILED
 * if neither id recovers `publicKey`, i.e. the signature is not valid for that key.
 */
export function computeRecoveryId(digest: Uint8Array, signature: EcdsaSignature, publicKey: Uint8Array): RecoveryId {
  const message = assertDigest(digest);
  const { r, s } = assertSignatureShape(signature, 'signature');
  const expected = parsePoint(publicKey, 'publicKey').toBytes(true);
  for (const recovery of [0, 1] as const) {
    try {
      const candidate = new secp256k1.Signature(r, s, recovery).recoverPublicKey(message).toBytes(true);
      if (equalBytes(candidate, expected)) return recovery;
    } catch {
      // this id recovers no point; try the other
    }
  }
  throw new SignerInputError('RECOVERY_FAILED', 'signature', 'does not recover to publicKey under recovery id 0 or 1');
}

/** 33-byte compressed form of a valid SEC1 public key (33 or 65 bytes). */
export function compressPublicKey(publicKey: Uint8Array): Uint8Array {
  return parsePoint(publicKey, 'publicKey').toBytes(true);
}

/** 65-byte uncompressed form (0x04 || x || y) of a valid SEC1 public key. */
export function decompressPublicKey(publicKey: Uint8Array): Uint8Array {
  return parsePoint(publicKey, 'publicKey').toBytes(false);
}

/** 64-byte r || s (the PKCS#11 CKM_ECDSA output format). */
export function signatureToCompact(signature: EcdsaSignature): Uint8Array {
  if (typeof signature !== 'object' || signature === null) {
    throw new SignerInputError('INVALID_TYPE', 'signature', 'must be an object { r, s }');
  }
  const r = assertBigint(signature.r, 'signature.r', 0n, SECP256K1_N - 1n);
  const s = assertBigint(signature.s, 'signature.s', 0n, SECP256K1_N - 1n);
  const out = new Uint8Array(64);
  out.set(bigintToBytes(r, 32), 0);
  out.set(bigintToBytes(s, 32), 32);
  return out;
}

/** Parses 64-byte r || s; each component must be in [1, n-1]. High-S is kept as is. */
export function signatureFromCompact(bytes: Uint8Array): EcdsaSignature {
  const raw = copyBytes(assertBytes(bytes, 'signature', 64));
  const r = bytesToBigint(raw.subarray(0, 32));
  const s = bytesToBigint(raw.subarray(32, 64));
  if (r === 0n || r >= SECP256K1_N) throw new SignerInputError('INVALID_SIGNATURE', 'signature.r', 'must be in [1, n-1]');
  if (s === 0n || s >= SECP256K1_N) throw new SignerInputError('INVALID_SIGNATURE', 'signature.s', 'must be in [1, n-1]');
  return Object.freeze({ r, s });
}
