/**
 * Ed25519 (RFC 8032, pure EdDSA) for Ed25519 chains.
 *
 * Hardened default: verification follows RFC 8032 strictly (canonical encodings, s < L,
 * cofactorless check: noble's `zip215: false`). ZIP-215's permissive rules are consensus
 * rules of some chains, not a signer's; they are an explicit opt-in.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { assertBytes } from './bytes.js';

export interface Ed25519VerifyOptions {
  /** Accept the permissive ZIP-215 encodings (non-canonical points, cofactored check). */
  readonly zip215?: boolean;
}

/** 32-byte public key from a 32-byte secret seed. */
export function ed25519GetPublicKey(secretKey: Uint8Array): Uint8Array {
  return ed25519.getPublicKey(assertBytes(secretKey, 'secretKey', 32));
}

/** 64-byte deterministic signature (RFC 8032 §5.1.6). */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  const msg = assertBytes(message, 'message');
  const key = assertBytes(secretKey, 'secretKey', 32);
  return ed25519.sign(msg, key);
}

/** RFC 8032 §5.1.7 verification; wrong lengths throw, anything else invalid is false. */
export function ed25519Verify(
  signature: Uint8Array,
  message: Uint8Array,
  publicKey: Uint8Array,
  options: Ed25519VerifyOptions = {},
): boolean {
  const sig = assertBytes(signature, 'signature', 64);
  const msg = assertBytes(message, 'message');
  const key = assertBytes(publicKey, 'publicKey', 32);
  try {
    return ed25519.verify(sig, msg, key, { zip215: options.zip215 === true });
  } catch {
    return false;
  }
}
