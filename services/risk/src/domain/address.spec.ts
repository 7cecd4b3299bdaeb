import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { base58check, bech32, bech32m } from '@scure/base';
import { chainFamily, familyOfListedCurrency, lookupKeys, normalizeAddress, normalizeBitcoin, normalizeEvm } from './address.js';
import { RiskError } from './errors.js';

const b58 = base58check(sha256);
const hex40 = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => Buffer.from(b).toString('hex'));
const randomCase = (s: string, flips: boolean[]): string =>
  [...s].map((ch, i) => (flips[i % flips.length] ? ch.toUpperCase() : ch.toLowerCase())).join('');

describe('address normalisation: EVM (case-insensitive -> lowercase 0x hex)', () => {
  it('any casing of the same 20 bytes gives the same key, and the key is lowercase', () => {
    fc.assert(
      fc.property(hex40, fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), (hex, flips) => {
        const a = normalizeEvm(`0x${hex}`);
        const b = normalizeEvm(`0x${randomCase(hex, flips)}`);
        expect(b.key).toBe(a.key);
        expect(a.value).toBe(`0x${hex.toLowerCase()}`);
        expect(normalizeEvm(a.value).value).toBe(a.value); // idempotent
      }),
    );
  });
  it('different bytes never collide', () => {
    fc.assert(fc.property(hex40, hex40, (x, y) => {
      fc.pre(x !== y);
      expect(normalizeEvm(`0x${x}`).key).not.toBe(normalizeEvm(`0x${y}`).key);
    }));
  });
  it.each(['0x123', '8589427373D6D84E98730D7795D8f6f8731FDA16', '0X8589427373D6D84E98730D7795D8f6f8731FDA16', '0x8589427373D6D84E98730D7795D8f6f8731FDA1g', ' 0x8589427373d6d84e98730d7795d8f6f8731fda16'])(
    'rejects %j with INVALID_ADDRESS',
    (raw) => {
      expect(() => normalizeAddress('ethereum-mainnet', raw)).toThrow(RiskError);
    },
  );
});

describe('address normalisation: Bitcoin (exact per encoding)', () => {
  const segwit = (version: number, program: Uint8Array, hrp = 'bc'): string => {
    const coder = version === 0 ? bech32 : bech32m;
    return coder.encode(hrp, [version, ...coder.toWords(program)]);
  };

  it('bech32/bech32m: all-upper and all-lower forms give the same lowercase key; mixed case is refused', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ version: fc.constant(0), program: fc.uint8Array({ minLength: 20, maxLength: 20 }) }),
          fc.record({ version: fc.constant(0), program: fc.uint8Array({ minLength: 32, maxLength: 32 }) }),
          fc.record({ version: fc.integer({ min: 1, max: 16 }), program: fc.uint8Array({ minLength: 2, maxLength: 40 }) }),
        ),
        ({ version, program }) => {
          const addr = segwit(version, program);
          const lower = normalizeBitcoin(addr);
          expect(lower.value).toBe(addr.toLowerCase());
          expect(lower.encoding).toBe(version === 0 ? 'bech32' : 'bech32m');
          expect(normalizeBitcoin(addr.toUpperCase()).key).toBe(lower.key);
          const mixed = addr.slice(0, -1) + addr.slice(-1).toUpperCase();
          if (mixed !== addr && /[a-z]/.test(addr.slice(0, -1))) expect(() => normalizeBitcoin(mixed)).toThrow(RiskError);
        },
      ),
    );
  });

  it('a bech32 v1+ address encoded with the v0 checksum (or vice versa) is refused', () => {
    const p = new Uint8Array(32).fill(7);
    const wrongV1 = bech32.encode('bc', [1, ...bech32.toWords(p)]);
    const wrongV0 = bech32m.encode('bc', [0, ...bech32m.toWords(p)]);
    expect(() => normalizeBitcoin(wrongV1)).toThrow(RiskError);
    expect(() => normalizeBitcoin(wrongV0)).toThrow(RiskError);
  });

  it('base58check: kept byte-for-byte; any other casing is a different (invalid or distinct) address', () => {
    fc.assert(
      fc.property(fc.constantFrom(0x00, 0x05, 0x6f, 0xc4), fc.uint8Array({ minLength: 20, maxLength: 20 }), (version, hash) => {
        const payload = new Uint8Array([version, ...hash]);
        const addr = b58.encode(payload);
        const n = normalizeBitcoin(addr);
        expect(n.value).toBe(addr);
        expect(n.encoding).toBe('base58check');
        const swapped = addr.toLowerCase() === addr ? addr.toUpperCase() : addr.toLowerCase();
        if (swapped !== addr) {
          let other: string | undefined;
          try {
            other = normalizeBitcoin(swapped).key;
          } catch (e) {
            expect(e).toBeInstanceOf(RiskError);
          }
          if (other !== undefined) expect(other).not.toBe(n.key);
        }
      }),
    );
  });

  it('a single changed character breaks the checksum', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.nat(), (hash, pos) => {
        const addr = b58.encode(new Uint8Array([0, ...hash]));
        const i = 1 + (pos % (addr.length - 1));
        const ch = addr[i] === '2' ? '3' : '2';
        const bad = addr.slice(0, i) + ch + addr.slice(i + 1);
        expect(() => normalizeBitcoin(bad)).toThrow(RiskError);
      }),
    );
  });

  it('accepts real published OFAC Bitcoin addresses of each encoding', () => {
    expect(normalizeBitcoin('149w62rY42aZBox8fGcmqNsXUzSStKeq8C').value).toBe('149w62rY42aZBox8fGcmqNsXUzSStKeq8C');
    expect(normalizeBitcoin('3Kp8Qc5z7yevDeoQxhS5RSSKnEi5x7AQ43').encoding).toBe('base58check');
    expect(normalizeBitcoin('BC1QSXF77CVWCD6JV6J8D8J3UHH4G0XQW4MESWMWUC').value).toBe('bc1qsxf77cvwcd6jv6j8d8j3uhh4g0xqw4meswmwuc');
  });
});

describe('chain families and lookup keys', () => {
  it('maps chain ids and OFAC currency codes', () => {
    expect(chainFamily('ethereum-mainnet')).toBe('evm');
    expect(chainFamily('bitcoin-testnet')).toBe('bitcoin');
    expect(chainFamily('tron-mainnet')).toBe('other');
    expect(familyOfListedCurrency('USDT', '0x7F367cC41522cE07553e823bf3be79A889DEbe1B')).toBe('evm');
    expect(familyOfListedCurrency('USDT', 'TA3941uFAvmVibSkQ6fMJXxmaSNovX86mz')).toBe('other');
    expect(familyOfListedCurrency('XBT', '1abc')).toBe('bitcoin');
  });
  it('lookup keys always include the exact listed string (fail closed for unnormalisable list entries)', () => {
    fc.assert(fc.property(hex40, (hex) => {
      const raw = `0x${hex.toUpperCase()}`;
      const keys = lookupKeys(normalizeEvm(raw), raw);
      expect(keys).toContain(`evm:0x${hex.toLowerCase()}`);
      expect(keys).toContain(`other:${raw}`);
    }));
  });
});
