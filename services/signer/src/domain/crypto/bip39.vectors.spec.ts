/** BIP-39 reference vectors (trezor/python-mnemonic, English, passphrase "TREZOR"). */
import { describe, expect, it } from '@jest/globals';
import { hexToBytes } from './bytes.js';
import { entropyToMnemonic, exportXprvForBackup, isValidMnemonic, masterFromSeed, mnemonicToSeed, XPRV_EXPORT_ACKNOWLEDGEMENT } from './hd.js';

const { default: vectors } = await import('./vectors/bip39.json', { with: { type: 'json' } });

describe('C-5.5.3.2-a BIP-39 known answers (English, passphrase TREZOR)', () => {
  it('has all 24 English vectors, 12 to 24 words', () => {
    expect(vectors.vectors).toHaveLength(24);
    expect(vectors.passphrase).toBe('TREZOR');
    expect(new Set(vectors.vectors.map((v) => v.mnemonic.split(' ').length))).toEqual(new Set([12, 18, 24]));
  });

  it.each(vectors.vectors.map((v, i) => [i, v.mnemonic.split(' ').slice(0, 3).join(' '), v] as const))(
    'vector %i (%s …): entropy → mnemonic → seed → master xprv',
    (_i, _words, v) => {
      expect(entropyToMnemonic(hexToBytes(v.entropy, 'entropy'))).toBe(v.mnemonic);
      expect(isValidMnemonic(v.mnemonic)).toBe(true);
      const seed = mnemonicToSeed(v.mnemonic, vectors.passphrase);
      expect(seed).toEqual(hexToBytes(v.seed, 'seed'));
      expect(exportXprvForBackup(masterFromSeed(seed), XPRV_EXPORT_ACKNOWLEDGEMENT)).toBe(v.xprv);
    },
  );

  it('the passphrase matters: without it the first vector gives another seed', () => {
    const first = vectors.vectors[0];
    if (first === undefined) throw new Error('no vectors');
    expect(mnemonicToSeed(first.mnemonic)).not.toEqual(hexToBytes(first.seed, 'seed'));
  });
});
