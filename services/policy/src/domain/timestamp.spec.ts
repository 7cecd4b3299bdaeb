import { describe, expect, it } from '@jest/globals';
import { isCanonicalTimestamp, toCanonicalTimestamp } from './timestamp.js';

describe('canonical timestamps', () => {
  it('formats at second precision', () => {
    expect(toCanonicalTimestamp(new Date('2025-06-02T10:00:00.999Z'))).toBe('2025-06-02T10:00:00Z');
    expect(() => toCanonicalTimestamp(new Date(Number.NaN))).toThrow(RangeError);
  });

  it('accepts only the canonical form of a real instant', () => {
    expect(isCanonicalTimestamp('2024-02-29T23:59:59Z')).toBe(true);
    for (const bad of ['2025-02-29T00:00:00Z', '2025-06-02T24:00:00Z', '2025-06-02T10:00:00.000Z', '2025-06-02T10:00:00+00:00', '1969-12-31T23:59:59Z', 5]) {
      expect(isCanonicalTimestamp(bad)).toBe(false);
    }
  });
});
