/**
 * RLP against ethereum/tests RLPTests (valid and invalid), plus properties.
 *
 * 'listofbinaries' from rlptest.json is not used: its published output starts with the
 * list header 0xf8a7 (a 167-byte payload), which the first four of its 160 elements
 * already fill (67 + 66 + 33 + 1 bytes), so that output is not an encoding of that input.
 */
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { hexToBytes } from './bytes.js';
import { SignerInputError } from './errors.js';
import { bigintToMinimalBytes, rlpDecode, rlpEncode, rlpScalar, type RlpItem } from './rlp.js';

const { default: vectors } = await import('./vectors/rlp.json', { with: { type: 'json' } });

type JsonIn = string | number | JsonIn[];

/** The ethereum/tests input convention: string = UTF-8 bytes, '#…' = big integer, number = integer. */
function fromTestInput(input: JsonIn): RlpItem {
  if (Array.isArray(input)) return input.map(fromTestInput);
  if (typeof input === 'number') return bigintToMinimalBytes(BigInt(input));
  if (input.startsWith('#')) return bigintToMinimalBytes(BigInt(input.slice(1)));
  return new TextEncoder().encode(input);
}

const valid = Object.entries(vectors.valid as Record<string, { in: JsonIn; out: string }>);
const invalid = Object.entries(vectors.invalid as Record<string, string>);

describe('RLP known answers (ethereum/tests rlptest.json)', () => {
  it('uses 28 valid and 17 invalid cases', () => {
    expect(valid).toHaveLength(28);
    expect(invalid).toHaveLength(17);
  });

  it.each(valid)('%s: encodes to the published bytes and decodes back', (_name, v) => {
    const item = fromTestInput(v.in);
    const expected = hexToBytes(v.out, 'out');
    expect(rlpEncode(item)).toEqual(expected);
    expect(rlpDecode(expected)).toEqual(item);
  });
});

describe('RLP strict decoding (ethereum/tests invalidRLPTest.json)', () => {
  it.each(invalid)('%s is refused', (_name, hex) => {
    expect(() => rlpDecode(hexToBytes(hex, 'rlp'))).toThrow(SignerInputError);
  });

  it('refuses empty input, trailing bytes and runaway nesting', () => {
    expect(() => rlpDecode(new Uint8Array(0))).toThrow('rlp: empty input');
    expect(() => rlpDecode(Uint8Array.of(0x80, 0x80))).toThrow('rlp: trailing bytes after the item');
    const deep = new Uint8Array(40).fill(0xc1);
    deep[39] = 0xc0;
    for (let i = 0; i < 39; i++) deep[i] = 0xc0 + (39 - i);
    expect(() => rlpDecode(deep)).toThrow(/nesting deeper than/);
  });

  it('scalars are canonical: no leading zeros, bounded length', () => {
    expect(rlpScalar(Uint8Array.of(1, 0), 'x')).toBe(256n);
    expect(rlpScalar(new Uint8Array(0), 'x')).toBe(0n);
    expect(() => rlpScalar(Uint8Array.of(0, 1), 'x')).toThrow('x: must not have leading zeros');
    expect(() => rlpScalar(new Uint8Array(33).fill(1), 'x')).toThrow('x: must be at most 32 bytes');
    expect(() => rlpScalar([], 'x')).toThrow('x: must be a byte string');
  });
});

const itemArb: fc.Arbitrary<RlpItem> = fc.letrec<{ item: RlpItem }>((tie) => ({
  item: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 80 }),
    fc.array(tie('item'), { maxLength: 5 }),
  ),
})).item;

describe('RLP properties', () => {
  it('decode(encode(x)) = x for nested byte strings and lists', () => {
    fc.assert(
      fc.property(itemArb, (item) => {
        expect(rlpDecode(rlpEncode(item))).toEqual(item);
      }),
      { numRuns: 300 },
    );
  });

  it('integers round trip through minimal bytes', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 256n) - 1n }), (n) => {
        expect(rlpScalar(rlpDecode(rlpEncode(bigintToMinimalBytes(n))), 'n')).toBe(n);
      }),
      { numRuns: 200 },
    );
  });

  it('any truncation of an encoding is refused', () => {
    fc.assert(
      fc.property(itemArb, fc.nat(), (item, cut) => {
        const encoded = rlpEncode(item);
        const shorter = encoded.subarray(0, cut % encoded.length);
        expect(() => rlpDecode(shorter)).toThrow(SignerInputError);
      }),
      { numRuns: 200 },
    );
  });
});
