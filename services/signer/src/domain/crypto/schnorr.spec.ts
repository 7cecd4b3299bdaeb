import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { bigintToBytes } from './bytes.js';
import { SignerInputError } from './errors.js';
import { schnorrGetPublicKey, schnorrSign, schnorrVerify } from './schnorr.js';
import { SECP256K1_N } from './secp256k1.js';

const secretKeyArb = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map((d) => bigintToBytes(d, 32));
const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const RUNS = { numRuns: 40 };

describe('C-5.5.3.2-a BIP-340 Schnorr: properties', () => {
  it('sign → verify round trip for messages of any length', () => {
    fc.assert(
      fc.property(secretKeyArb, fc.uint8Array({ maxLength: 200 }), bytes32, (secretKey, message, aux) => {
        const sig = schnorrSign(message, secretKey, aux);
        expect(sig).toHaveLength(64);
        expect(schnorrVerify(sig, message, schnorrGetPublicKey(secretKey))).toBe(true);
      }),
      RUNS,
    );
  });

  it('the aux randomness changes the signature, and both verify', () => {
    fc.assert(
      fc.property(secretKeyArb, bytes32, bytes32, bytes32, (secretKey, message, auxA, auxB) => {
        fc.pre(auxA.some((byte, i) => byte !== auxB[i]));
        const a = schnorrSign(message, secretKey, auxA);
        const b = schnorrSign(message, secretKey, auxB);
        expect(a).not.toEqual(b);
        const publicKey = schnorrGetPublicKey(secretKey);
        expect(schnorrVerify(a, message, publicKey)).toBe(true);
        expect(schnorrVerify(b, message, publicKey)).toBe(true);
      }),
      RUNS,
    );
  });

  it('a mutated signature or message fails verification', () => {
    fc.assert(
      fc.property(secretKeyArb, bytes32, bytes32, fc.integer({ min: 0, max: 511 }), (secretKey, message, aux, bit) => {
        const sig = schnorrSign(message, secretKey, aux);
        const publicKey = schnorrGetPublicKey(secretKey);
        const badSig = Uint8Array.from(sig);
        badSig[bit >> 3] = (badSig[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(schnorrVerify(badSig, message, publicKey)).toBe(false);
        const badMessage = Uint8Array.from(message);
        badMessage[(bit >> 3) % 32] = (badMessage[(bit >> 3) % 32] ?? 0) ^ 1;
        expect(schnorrVerify(sig, badMessage, publicKey)).toBe(false);
      }),
      RUNS,
    );
  });

  it('aux randomness is a required, labelled 32-byte argument', () => {
    const key = bigintToBytes(3n, 32);
    const call = (aux: unknown) => () => schnorrSign(new Uint8Array(32), key, aux as Uint8Array);
    expect(call(undefined)).toThrow(SignerInputError);
    expect(call(undefined)).toThrow('auxRand: must be a Uint8Array');
    expect(call(new Uint8Array(31))).toThrow('auxRand: must be 32 bytes, got 31');
    expect(() => schnorrSign(new Uint8Array(32), new Uint8Array(32), new Uint8Array(32))).toThrow('secretKey: must be an integer in [1, n-1]');
    expect(() => schnorrVerify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(33))).toThrow('publicKey: must be 32 bytes, got 33');
  });
});
