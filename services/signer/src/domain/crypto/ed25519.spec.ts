import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { bytesToBigint } from './bytes.js';
import { ed25519GetPublicKey, ed25519Sign, ed25519Verify } from './ed25519.js';

const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });
const RUNS = { numRuns: 40 };
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

function le32(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let rest = value;
  for (let i = 0; i < 32; i++) {
    out[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return out;
}

describe('C-5.5.3.2-a Ed25519: properties', () => {
  it('sign → verify round trip', () => {
    fc.assert(
      fc.property(bytes32, fc.uint8Array({ maxLength: 300 }), (secretKey, message) => {
        const sig = ed25519Sign(message, secretKey);
        expect(ed25519Verify(sig, message, ed25519GetPublicKey(secretKey))).toBe(true);
      }),
      RUNS,
    );
  });

  it('a mutated signature or message fails', () => {
    fc.assert(
      fc.property(bytes32, bytes32, fc.integer({ min: 0, max: 511 }), (secretKey, message, bit) => {
        const sig = ed25519Sign(message, secretKey);
        const publicKey = ed25519GetPublicKey(secretKey);
        const badSig = Uint8Array.from(sig);
        badSig[bit >> 3] = (badSig[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(ed25519Verify(badSig, message, publicKey)).toBe(false);
        const badMessage = Uint8Array.from(message);
        badMessage[0] = (badMessage[0] ?? 0) ^ 0x80;
        expect(ed25519Verify(sig, badMessage, publicKey)).toBe(false);
      }),
      RUNS,
    );
  });

  it('refuses a malleated signature (s + L) in both modes', () => {
    const secretKey = new Uint8Array(32).fill(9);
    const message = new Uint8Array([1, 2, 3]);
    const sig = ed25519Sign(message, secretKey);
    const s = bytesToBigint(Uint8Array.from(sig.subarray(32)).reverse());
    const malleated = Uint8Array.from(sig);
    malleated.set(le32(s + L), 32);
    expect(ed25519Verify(malleated, message, ed25519GetPublicKey(secretKey))).toBe(false);
    expect(ed25519Verify(malleated, message, ed25519GetPublicKey(secretKey), { zip215: true })).toBe(false);
  });

  it('verifies strictly by default: a non-canonical point encoding passes only with the ZIP-215 opt-in', () => {
    // y = p + 1 ≡ 1: a non-canonical encoding of the identity, used as public key and R, with s = 0.
    const p = 2n ** 255n - 19n;
    const nonCanonicalIdentity = le32(p + 1n);
    const sig = new Uint8Array(64);
    sig.set(nonCanonicalIdentity, 0);
    const message = new TextEncoder().encode('any message at all');
    // the permissive rule really accepts it (checked against noble directly) …
    expect(ed25519.verify(sig, message, nonCanonicalIdentity, { zip215: true })).toBe(true);
    expect(ed25519Verify(sig, message, nonCanonicalIdentity, { zip215: true })).toBe(true);
    // … and the kernel's default refuses it
    expect(ed25519Verify(sig, message, nonCanonicalIdentity)).toBe(false);
  });

  it('labels wrong lengths', () => {
    expect(() => ed25519Sign(new Uint8Array(1), new Uint8Array(31))).toThrow('secretKey: must be 32 bytes, got 31');
    expect(() => ed25519Verify(new Uint8Array(63), new Uint8Array(1), new Uint8Array(32))).toThrow('signature: must be 64 bytes, got 63');
  });
});
