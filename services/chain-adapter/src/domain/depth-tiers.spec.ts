import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { activeDepthFactor, CLEAR_BREAKER, reorgTrip, validateBreakerPolicy } from './breaker.js';
import { MAX_CONFIRMATIONS, requiredConfirmations, validateDepthTiers, type DepthTier } from './finality.js';
import { validateProfile } from './assets.js';

const ETH = 10n ** 18n;
const rule = { confirmations: 3, depthTiers: [{ above: ETH, confirmations: 6 }, { above: 100n * ETH, confirmations: 12 }] };

/** Ascending tier lists over a base depth (what validateDepthTiers accepts). */
const tierLists = fc
  .tuple(fc.integer({ min: 1, max: 50 }), fc.array(fc.tuple(fc.bigInt({ min: 1n, max: 10n ** 24n }), fc.integer({ min: 1, max: 50 })), { maxLength: 6 }))
  .map(([base, steps]) => {
    let above = -1n;
    let confirmations = base;
    const tiers: DepthTier[] = steps.map(([da, dc]) => {
      above += da;
      confirmations += dc;
      return { above, confirmations };
    });
    return { confirmations: base, depthTiers: tiers };
  });

describe('amount-scaled confirmation depth (domain rule)', () => {
  it('amounts up to each tier use the lower depth, above it the higher one', () => {
    expect(requiredConfirmations(1n, rule)).toBe(3);
    expect(requiredConfirmations(ETH, rule)).toBe(3);
    expect(requiredConfirmations(ETH + 1n, rule)).toBe(6);
    expect(requiredConfirmations(100n * ETH, rule)).toBe(6);
    expect(requiredConfirmations(100n * ETH + 1n, rule)).toBe(12);
    expect(requiredConfirmations(10n ** 30n, { confirmations: 3 })).toBe(3);
  });

  it('depth is monotone in amount, never below the base, and valid tier lists pass validation (property)', () => {
    fc.assert(
      fc.property(tierLists, fc.bigInt({ min: 0n, max: 10n ** 26n }), fc.bigInt({ min: 0n, max: 10n ** 26n }), fc.integer({ min: 1, max: 5 }), (r, a, b, factor) => {
        expect(validateDepthTiers(r.confirmations, r.depthTiers)).toBe('');
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        expect(requiredConfirmations(lo, r)).toBeLessThanOrEqual(requiredConfirmations(hi, r));
        expect(requiredConfirmations(lo, r, factor)).toBeLessThanOrEqual(requiredConfirmations(hi, r, factor));
        expect(requiredConfirmations(lo, r)).toBeGreaterThanOrEqual(r.confirmations);
        // The breaker's factor never lowers a depth.
        expect(requiredConfirmations(hi, r, factor)).toBeGreaterThanOrEqual(requiredConfirmations(hi, r));
      }),
      { numRuns: 500 },
    );
  });

  it('the breaker factor multiplies the depth, capped at the maximum', () => {
    expect(requiredConfirmations(ETH + 1n, rule, 2)).toBe(12);
    expect(requiredConfirmations(1n, { confirmations: 9_000 }, 2)).toBe(MAX_CONFIRMATIONS);
    expect(() => requiredConfirmations(1n, rule, 0)).toThrow(RangeError);
  });

  it('refuses tiers that would lower the depth for a larger amount', () => {
    expect(validateDepthTiers(3, [{ above: ETH, confirmations: 3 }])).toMatch(/not more than the base/);
    expect(validateDepthTiers(3, [{ above: ETH, confirmations: 8 }, { above: ETH, confirmations: 9 }])).toMatch(/ascend/);
    expect(validateDepthTiers(3, [{ above: 2n * ETH, confirmations: 8 }, { above: 3n * ETH, confirmations: 7 }])).toMatch(/ascend/);
    const profile = { asset: 'ETH', chain: 'x', chainId: 1n, genesisHash: `0x${'0'.repeat(64)}`, confirmations: 3, gasLimit: 21_000n, fees: { maxFeePerGas: 10n, maxPriorityFeePerGas: 1n, minPriorityFeePerGas: 1n } };
    expect(() => validateProfile({ ...profile, depthTiers: [{ above: ETH, confirmations: 2 }] })).toThrow(/not more than the base/);
    expect(validateProfile({ ...profile, depthTiers: rule.depthTiers }).depthTiers).toEqual(rule.depthTiers);
  });
});

describe('pause breaker rule', () => {
  it('past finality always trips; a configured depth trips at and beyond it; shallower reorgs do not', () => {
    const policy = { pauseReorgDepth: 2, depthFactor: 3 };
    expect(reorgTrip(1, false, policy)).toBeUndefined();
    expect(reorgTrip(2, false, policy)).toBe('REORG_DEPTH_EXCEEDED');
    expect(reorgTrip(1, true, policy)).toBe('REORG_BEYOND_FINALITY');
    expect(reorgTrip(50, false, { pauseReorgDepth: 0, depthFactor: 2 })).toBeUndefined();
  });

  it('the factor applies only while tripped', () => {
    expect(activeDepthFactor(undefined)).toBe(1);
    expect(activeDepthFactor({ ...CLEAR_BREAKER('c'), depthFactor: 4 })).toBe(1);
    expect(activeDepthFactor({ ...CLEAR_BREAKER('c'), state: 'TRIPPED', depthFactor: 4 })).toBe(4);
    expect(validateBreakerPolicy({ pauseReorgDepth: 0, depthFactor: 0 })).toMatch(/depthFactor/);
    expect(validateBreakerPolicy({ pauseReorgDepth: 3, depthFactor: 2 })).toBe('');
  });
});
