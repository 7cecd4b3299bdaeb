import { describe, expect, it } from '@jest/globals';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import fc from 'fast-check';
import { bigintToBytes } from './bytes.js';
import { SignerInputError } from './errors.js';
import {
  compressPublicKey,
  computeRecoveryId,
  decompressPublicKey,
  getPublicKey,
  isHighS,
  normaliseLowS,
  recoverPublicKey,
  SECP256K1_N,
  signatureFromCompact,
  signatureToCompact,
  signDigest,
  verifyDigest,
} from './secp256k1.js';

const secretKeyArb = fc.bigInt({ min: 1n, max: SECP256K1_N - 1n }).map((d) => bigintToBytes(d, 32));
const digestArb = fc.uint8Array({ minLength: 32, maxLength: 32 });
const RUNS = { numRuns: 60 };

function expectInputError(fn: () => unknown, code: string, field?: string): void {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SignerInputError);
    expect((error as SignerInputError).code).toBe(code);
    if (field !== undefined) expect((error as SignerInputError).field).toBe(field);
    return;
  }
  throw new Error(`expected SignerInputError ${code}`);
}

describe('C-5.5.3.2-a secp256k1 ECDSA: properties of the kernel', () => {
  it('sign → verify round trip, checked by our verifier and by noble directly', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, (secretKey, digest) => {
        const sig = signDigest(digest, secretKey);
        const publicKey = getPublicKey(secretKey);
        expect(verifyDigest(sig, digest, publicKey)).toBe(true);
        expect(secp256k1.verify(signatureToCompact(sig), digest, publicKey, { prehash: false })).toBe(true);
      }),
      RUNS,
    );
  });

  it('every signature is low-S and deterministic (same key + digest → same signature)', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, (secretKey, digest) => {
        const a = signDigest(digest, secretKey);
        const b = signDigest(digest, secretKey);
        expect(a.s <= SECP256K1_N / 2n).toBe(true);
        expect(isHighS(a.s)).toBe(false);
        expect(b).toEqual(a);
        expect(Object.isFrozen(a)).toBe(true);
      }),
      RUNS,
    );
  });

  it('recovery returns the signer, compressed and uncompressed', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, (secretKey, digest) => {
        const sig = signDigest(digest, secretKey);
        expect(recoverPublicKey(digest, sig)).toEqual(getPublicKey(secretKey));
        expect(recoverPublicKey(digest, sig, { compressed: false })).toEqual(getPublicKey(secretKey, { compressed: false }));
      }),
      RUNS,
    );
  });

  it('signatures over distinct digests never share r (no nonce reuse)', () => {
    fc.assert(
      fc.property(secretKeyArb, fc.uniqueArray(digestArb, { minLength: 2, maxLength: 6, selector: (d) => d.join(',') }), (secretKey, digests) => {
        const rs = digests.map((digest) => signDigest(digest, secretKey).r);
        expect(new Set(rs).size).toBe(rs.length);
      }),
      { numRuns: 25 },
    );
  });

  it('a mutated signature, digest or key fails verification', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, fc.integer({ min: 0, max: 255 }), (secretKey, digest, bit) => {
        const sig = signDigest(digest, secretKey);
        const publicKey = getPublicKey(secretKey);
        const flip = 1n << BigInt(bit);
        const badR = { r: sig.r ^ flip, s: sig.s };
        const badS = { r: sig.r, s: sig.s ^ flip };
        expect(verifyDigest(badR, digest, publicKey)).toBe(false);
        expect(verifyDigest(badS, digest, publicKey)).toBe(false);
        const badDigest = Uint8Array.from(digest);
        badDigest[bit >> 3] = (badDigest[bit >> 3] ?? 0) ^ (1 << (bit & 7));
        expect(verifyDigest(sig, badDigest, publicKey)).toBe(false);
        const otherKey = getPublicKey(bigintToBytes((BigInt(bit) % (SECP256K1_N - 2n)) + 1n, 32));
        if (!otherKey.every((byte, i) => byte === publicKey[i])) expect(verifyDigest(sig, digest, otherKey)).toBe(false);
      }),
      RUNS,
    );
  });
});

describe('C-5.5.3.2-a secp256k1: high-S from an HSM (normaliseLowS, computeRecoveryId)', () => {
  it('verify refuses high-S by default and accepts it only on explicit opt-in', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, (secretKey, digest) => {
        const sig = signDigest(digest, secretKey);
        const high = { r: sig.r, s: SECP256K1_N - sig.s };
        const publicKey = getPublicKey(secretKey);
        expect(verifyDigest(high, digest, publicKey)).toBe(false);
        expect(verifyDigest(high, digest, publicKey, { allowHighS: true })).toBe(true);
        expectInputError(() => recoverPublicKey(digest, { ...high, recovery: 0 }), 'HIGH_S_SIGNATURE', 'signature.s');
      }),
      RUNS,
    );
  });

  it('a bare high-S (r, s) becomes the exact signature we would have produced', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, (secretKey, digest) => {
        const ours = signDigest(digest, secretKey);
        const publicKey = getPublicKey(secretKey);
        const fromHsm = { r: ours.r, s: SECP256K1_N - ours.s }; // what a PKCS#11 token may return
        // id on the high-S form is the flipped one; normalising flips it back
        expect(computeRecoveryId(digest, fromHsm, publicKey)).toBe(ours.recovery ^ 1);
        const low = normaliseLowS(fromHsm);
        expect(low).toEqual({ r: ours.r, s: ours.s });
        const recovery = computeRecoveryId(digest, low, publicKey);
        expect({ ...low, recovery }).toEqual({ ...ours });
        expect(normaliseLowS({ ...fromHsm, recovery: (ours.recovery ^ 1) as 0 | 1 })).toEqual(ours);
      }),
      RUNS,
    );
  });

  it('normaliseLowS is idempotent and leaves low-S untouched', () => {
    fc.assert(
      fc.property(secretKeyArb, digestArb, (secretKey, digest) => {
        const sig = signDigest(digest, secretKey);
        expect(normaliseLowS(sig)).toEqual(sig);
        expect(normaliseLowS(normaliseLowS({ r: sig.r, s: SECP256K1_N - sig.s }))).toEqual({ r: sig.r, s: sig.s });
      }),
      RUNS,
    );
  });

  it('computeRecoveryId refuses a signature that is not from the given key', () => {
    const digest = new Uint8Array(32).fill(7);
    const sig = signDigest(digest, bigintToBytes(12345n, 32));
    expectInputError(() => computeRecoveryId(digest, sig, getPublicKey(bigintToBytes(54321n, 32))), 'RECOVERY_FAILED');
  });
});

describe('secp256k1 encodings and input assertions', () => {
  it('compress/decompress round trip and reject points off the curve', () => {
    fc.assert(
      fc.property(secretKeyArb, (secretKey) => {
        const compressed = getPublicKey(secretKey);
        const uncompressed = decompressPublicKey(compressed);
        expect(uncompressed.length).toBe(65);
        expect(uncompressed[0]).toBe(4);
        expect(compressPublicKey(uncompressed)).toEqual(compressed);
        expect(uncompressed).toEqual(secp256k1.getPublicKey(secretKey, false));
      }),
      RUNS,
    );
    const offCurve = decompressPublicKey(getPublicKey(bigintToBytes(3n, 32)));
    offCurve[64] = (offCurve[64] ?? 0) ^ 1;
    expectInputError(() => compressPublicKey(offCurve), 'INVALID_PUBLIC_KEY', 'publicKey');
    expectInputError(() => compressPublicKey(new Uint8Array(64)), 'INVALID_LENGTH', 'publicKey');
  });

  it('64-byte r || s round trip; zero or ≥ n components refused', () => {
    const sig = signDigest(new Uint8Array(32).fill(1), bigintToBytes(99n, 32));
    expect(signatureFromCompact(signatureToCompact(sig))).toEqual({ r: sig.r, s: sig.s });
    expectInputError(() => signatureFromCompact(new Uint8Array(64)), 'INVALID_SIGNATURE', 'signature.r');
    const overflow = new Uint8Array(64).fill(0xff);
    expectInputError(() => signatureFromCompact(overflow), 'INVALID_SIGNATURE', 'signature.r');
  });

  it('labels every bad argument', () => {
    const key = bigintToBytes(5n, 32);
    const digest = new Uint8Array(32);
    expectInputError(() => signDigest(new Uint8Array(31), key), 'INVALID_LENGTH', 'digest');
    expectInputError(() => signDigest(digest, new Uint8Array(33)), 'INVALID_LENGTH', 'secretKey');
    expectInputError(() => signDigest(digest, new Uint8Array(32)), 'INVALID_SECRET_KEY', 'secretKey');
    expectInputError(() => signDigest(digest, bigintToBytes(SECP256K1_N, 32)), 'INVALID_SECRET_KEY', 'secretKey');
    expectInputError(() => signDigest('00' as unknown as Uint8Array, key), 'INVALID_TYPE', 'digest');
    expectInputError(() => verifyDigest({ r: 1, s: 1n } as unknown as { r: bigint; s: bigint }, digest, getPublicKey(key)), 'INVALID_TYPE', 'signature.r');
    expectInputError(() => normaliseLowS({ r: 0n, s: 1n }), 'OUT_OF_RANGE', 'signature.r');
    expectInputError(() => normaliseLowS({ r: 1n, s: 1n, recovery: 2 as 0 }), 'OUT_OF_RANGE', 'signature.recovery');
    expect(verifyDigest({ r: 0n, s: 1n }, digest, getPublicKey(key))).toBe(false);
    expect(verifyDigest({ r: SECP256K1_N, s: 1n }, digest, getPublicKey(key))).toBe(false);
  });

  it('never puts the secret key into an error message', () => {
    const key = new Uint8Array(32).fill(0xff); // above n: invalid
    try {
      signDigest(new Uint8Array(32), key);
      throw new Error('expected a refusal');
    } catch (error) {
      expect((error as Error).message).not.toMatch(/ff{8}/i);
      expect((error as SignerInputError).code).toBe('INVALID_SECRET_KEY');
    }
  });
});
