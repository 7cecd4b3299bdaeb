/** BIP-340 test-vectors.csv, every row, including the failing verifications. */
import { describe, expect, it } from '@jest/globals';
import { hexToBytes } from './bytes.js';
import { schnorrGetPublicKey, schnorrSign, schnorrVerify } from './schnorr.js';

const { default: vectors } = await import('./vectors/bip340.json', { with: { type: 'json' } });
const hex = (text: string): Uint8Array => hexToBytes(text, 'vector');

describe('C-5.5.3.2-a BIP-340 Schnorr known answers (bip-0340/test-vectors.csv)', () => {
  it('has all 19 rows: 9 valid (8 with a secret key to sign with) and 10 failing verifications', () => {
    expect(vectors.vectors).toHaveLength(19);
    expect(vectors.vectors.filter((v) => v.valid)).toHaveLength(9);
    expect(vectors.vectors.filter((v) => v.valid && v.secretKey !== '')).toHaveLength(8);
    expect(vectors.vectors.filter((v) => !v.valid)).toHaveLength(10);
  });

  const signing = vectors.vectors.filter((v) => v.secretKey !== '');
  it.each(signing.map((v) => [v.index, v] as const))('row %i: public key and signature reproduced byte for byte', (_i, v) => {
    const secretKey = hex(v.secretKey);
    expect(schnorrGetPublicKey(secretKey)).toEqual(hex(v.publicKey));
    expect(schnorrSign(hex(v.message), secretKey, hex(v.auxRand))).toEqual(hex(v.signature));
  });

  it.each(vectors.vectors.map((v) => [v.index, v.valid ? 'valid' : `invalid: ${v.comment}`, v] as const))(
    'row %i verifies as %s',
    (_i, _label, v) => {
      expect(schnorrVerify(hex(v.signature), hex(v.message), hex(v.publicKey))).toBe(v.valid);
    },
  );
});
