import { describe, expect, it } from '@jest/globals';
import { bumpFees, estimateFees } from './fees.js';

const caps = { maxFeePerGas: 100n, maxPriorityFeePerGas: 10n, minPriorityFeePerGas: 1n };
const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('C-5.5.5.2-a fee policy from eth_feeHistory with caps', () => {
  it('tip = median reward within [min, cap]; maxFee = 2 × next base + tip, capped', () => {
    expect(estimateFees({ baseFeePerGas: [10n, 20n], rewards: [1n, 3n, 2n] }, caps)).toEqual({ maxFeePerGas: 42n, maxPriorityFeePerGas: 2n });
    expect(estimateFees({ baseFeePerGas: [20n], rewards: [0n] }, caps).maxPriorityFeePerGas).toBe(1n);
    expect(estimateFees({ baseFeePerGas: [20n], rewards: [500n] }, caps).maxPriorityFeePerGas).toBe(10n);
    expect(estimateFees({ baseFeePerGas: [60n], rewards: [5n] }, caps)).toEqual({ maxFeePerGas: 100n, maxPriorityFeePerGas: 5n });
  });

  it('a base fee that cannot fit under the cap is refused (the withdrawal waits), never overpaid silently', () => {
    expect(codeOf(() => estimateFees({ baseFeePerGas: [99n], rewards: [5n] }, caps))).toBe('FEE_CAP_EXCEEDED');
  });

  it('a bump raises both fees by at least 10 % and stops at the cap', () => {
    const bumped = bumpFees({ maxFeePerGas: 40n, maxPriorityFeePerGas: 4n }, caps);
    expect(bumped.maxFeePerGas).toBeGreaterThanOrEqual(44n);
    expect(bumped.maxPriorityFeePerGas).toBeGreaterThanOrEqual(5n);
    expect(codeOf(() => bumpFees({ maxFeePerGas: 90n, maxPriorityFeePerGas: 4n }, caps))).toBe('FEE_CAP_EXCEEDED');
    expect(codeOf(() => bumpFees({ maxFeePerGas: 40n, maxPriorityFeePerGas: 4n }, caps, 5n))).toBe('INVALID_STATE');
  });
});
