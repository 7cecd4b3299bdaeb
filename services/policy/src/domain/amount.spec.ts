import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { formatAmount, parseAmount } from './amount.js';

describe('amounts as bigint base units', () => {
  it('round-trips every uint256 exactly, beyond 2^53', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (amount) => {
        expect(parseAmount(formatAmount(amount))).toBe(amount);
      }),
    );
    expect(parseAmount('9007199254740993')).toBe(9007199254740993n);
  });

  it.each(['', '-1', '+1', '01', '1.0', '1e3', ' 1', '0x10', 'ten'])('refuses %p', (text) => {
    expect(parseAmount(text)).toBeUndefined();
  });

  it('refuses non-strings and more than 78 digits', () => {
    expect(parseAmount(12)).toBeUndefined();
    expect(parseAmount(`1${'0'.repeat(78)}`)).toBeUndefined();
    expect(() => formatAmount(-1n)).toThrow(RangeError);
    expect(() => formatAmount(10n ** 78n)).toThrow(RangeError);
  });
});
