import { describe, expect, it } from '@jest/globals';
import { confirmationsAt, inclusionState, isBeyondFinality } from './finality.js';

describe('C-5.5.4-a per-asset confirmation rule', () => {
  it('N-1 confirmations are not final, N are', () => {
    expect(confirmationsAt(100n, 100n)).toBe(1);
    expect(inclusionState(confirmationsAt(100n, 110n), 12)).toBe('CONFIRMED');
    expect(inclusionState(confirmationsAt(100n, 111n), 12)).toBe('FINAL');
    expect(inclusionState(0, 12)).toBe('PENDING');
    expect(confirmationsAt(100n, 99n)).toBe(0);
  });

  it('a rule below one confirmation is rejected', () => {
    expect(() => inclusionState(1, 0)).toThrow(RangeError);
  });

  it('a reorg as deep as the rule reaches past finality', () => {
    expect(isBeyondFinality(2, 3)).toBe(false);
    expect(isBeyondFinality(3, 3)).toBe(true);
  });
});
