/**
 * DecisionSigner on a local Ed25519 seed (a file or an environment value, hex or base64,
 * 32 bytes). For development and the embedded deployment; production plugs an HSM-backed
 * signer into the same port. The seed is held in a closure, never in a property a logger
 * could serialise, and never appears in an error.
 */
import { readFileSync } from 'node:fs';
import { decisionTokenPublicKey, signDecisionToken, type UnsignedDecisionToken } from '../../domain/decision-token.js';
import { DecisionTokenKeyError } from '../../domain/errors.js';
import type { DecisionSigner } from '../../application/ports.js';

export function parseSeed(text: string): Uint8Array {
  const t = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (bytes.length !== 32) throw new DecisionTokenKeyError('decision signing key must be a 32-byte Ed25519 seed (64 hex or base64 characters)');
  return new Uint8Array(bytes);
}

export function localDecisionSigner(keyId: string, seed: Uint8Array): DecisionSigner {
  const secret = Uint8Array.from(seed);
  const publicKey = decisionTokenPublicKey(secret);
  const signer: DecisionSigner = {
    keyId,
    publicKey,
    sign: (claims: UnsignedDecisionToken) => signDecisionToken(claims, { keyId, secretKey: secret }),
  };
  // A logger that serialises the signer shows the key id and public key only.
  Object.defineProperty(signer, 'toJSON', { value: () => ({ keyId, publicKey: Buffer.from(publicKey).toString('hex') }), enumerable: false });
  return Object.freeze(signer);
}

export function decisionSignerFromFile(keyId: string, path: string): DecisionSigner {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new DecisionTokenKeyError(`cannot read the decision signing key file`, error);
  }
  return localDecisionSigner(keyId, parseSeed(text));
}
