import { describe, expect, it } from '@jest/globals';
import { rlpDecode, rlpEncode } from './rlp.js';

const h = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

describe('RLP (Yellow Paper appendix B)', () => {
  it('encodes the reference examples', () => {
    expect(Buffer.from(rlpEncode(Buffer.from('dog'))).toString('hex')).toBe('83646f67');
    expect(Buffer.from(rlpEncode([Buffer.from('cat'), Buffer.from('dog')])).toString('hex')).toBe('c88363617483646f67');
    expect(Buffer.from(rlpEncode(new Uint8Array(0))).toString('hex')).toBe('80');
    expect(Buffer.from(rlpEncode([])).toString('hex')).toBe('c0');
    expect(Buffer.from(rlpEncode(Uint8Array.of(0x0f))).toString('hex')).toBe('0f');
    expect(Buffer.from(rlpEncode(Buffer.alloc(56, 0x61))).subarray(0, 2).toString('hex')).toBe('b838');
  });

  it('decodes what it encodes and rejects non-canonical forms', () => {
    expect(rlpDecode(h('c88363617483646f67'))).toEqual([h('636174'), h('646f67')]);
    expect(() => rlpDecode(h('810f'))).toThrow(/non-canonical/); // single byte < 0x80 prefixed
    expect(() => rlpDecode(h('b80161'))).toThrow(/long form/); // long form for a short string
    expect(() => rlpDecode(h('83646f6700'))).toThrow(/trailing/);
    expect(() => rlpDecode(h('83646f'))).toThrow(/past end/);
  });
});
