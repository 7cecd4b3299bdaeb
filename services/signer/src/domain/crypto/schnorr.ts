/**
 * BIP-340 Schnorr signatures over secp256k1 (Taproot key-path spends).
 *
 * The auxiliary randomness is an explicit, required argument: BIP-340 recommends fresh
 * randomness per signature (it hardens the deterministic nonce against side channels and
 * fault injection) and randomness is a port in this codebase, so the caller supplies it
 * from the randomness port. All-zero aux is legal (the test vectors use it) but is the
 * caller's decision, never a silent default.
 *
 * Messages may be of any length (BIP-340 as amended in 2022), Taproot signs 32-byte
 * sighashes.
 */
import { schnorr } from '@noble/curves/secp256k1.js';
import { assertBytes, bytesToBigint } from './bytes.js';
import { SignerInputError } from './errors.js';

function assertSecretKey(secretKey: unknown): Uint8Array {
  const key = assertBytes(secretKey, 'secretKey', 32);
  if (!isValidScalar(key)) {
    throw new SignerInputError('INVALID_SECRET_KEY', 'secretKey', 'must be an integer in [1, n-1]');
  }
  return key;
}

const N = schnorr.Point.Fn.ORDER;
function isValidScalar(bytes: Uint8Array): boolean {
  const value = bytesToBigint(bytes);
  return value > 0n && value < N;
}

/** 32-byte x-only public key. */
export function schnorrGetPublicKey(secretKey: Uint8Array): Uint8Array {
  return schnorr.getPublicKey(assertSecretKey(secretKey));
}

/** 64-byte BIP-340 signature; noble verifies it before returning. */
export function schnorrSign(message: Uint8Array, secretKey: Uint8Array, auxRand: Uint8Array): Uint8Array {
  const msg = assertBytes(message, 'message');
  const key = assertSecretKey(secretKey);
  const aux = assertBytes(auxRand, 'auxRand', 32);
  return schnorr.sign(msg, key, aux);
}

/**
 * BIP-340 verification. Wrong lengths throw; a public key that is not a valid x
 * coordinate, or a signature that does not verify, returns false.
 */
export function schnorrVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  const sig = assertBytes(signature, 'signature', 64);
  const msg = assertBytes(message, 'message');
  const key = assertBytes(publicKey, 'publicKey', 32);
  return schnorr.verify(sig, msg, key);
}
