/** EIP-55 mixed-case checksum addresses, against the EIP's own test cases. */
import { describe, expect, it } from '@jest/globals';
import { SignerInputError } from './errors.js';
import { parseAddress, toChecksumAddress } from './evm.js';

const { default: vectors } = await import('./vectors/eip55.json', { with: { type: 'json' } });
const all = [...vectors.allCaps, ...vectors.allLower, ...vectors.normal];

describe('EIP-55 checksum encoding (the test cases listed in the EIP)', () => {
  it('has the 8 listed addresses', () => {
    expect(all).toHaveLength(8);
  });

  it.each(all.map((a) => [a]))('%s is reproduced from its bytes', (address) => {
    const bytes = parseAddress(address.toLowerCase());
    expect(bytes).toHaveLength(20);
    expect(toChecksumAddress(bytes)).toBe(address);
    expect(parseAddress(address)).toEqual(bytes);
  });

  it.each(vectors.normal.map((a) => [a]))('%s with one letter case flipped is refused', (address) => {
    const at = [...address].findIndex((c, i) => i > 1 && /[a-fA-F]/.test(c));
    const c = address[at] ?? '';
    const flipped = address.slice(0, at) + (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) + address.slice(at + 1);
    expect(() => parseAddress(flipped)).toThrow(SignerInputError);
    expect(() => parseAddress(flipped)).toThrow('address: EIP-55 checksum mismatch');
  });

  it('refuses malformed addresses', () => {
    for (const bad of ['', '0x', '5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe', '0xZZAeb6053F3E94C9b9A09f33669435E7Ef1BeAed']) {
      expect(() => parseAddress(bad)).toThrow('address: must be 0x followed by 40 hex digits');
    }
  });
});
