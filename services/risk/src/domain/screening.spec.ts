import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DEFAULT_TRAVEL_RULE } from './default-rules.js';
import { RiskError } from './errors.js';
import { listState } from './lists.js';
import { parseRuleSet, type BehaviourFacts, type Movement } from './rules.js';
import { screen, type ScreeningInput } from './screening.js';
import { parseTravelRuleConfig } from './travel-rule.js';

const ETH = 10n ** 18n;
const now = new Date('2026-01-10T12:00:00Z');
const ago = (s: number): Date => new Date(now.getTime() - s * 1000);

const ruleSet = parseRuleSet({
  version: 't1',
  reviewAtScore: 50,
  blockAtScore: 101,
  rules: [
    { code: 'velocity_customer_eth_24h', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 86_400, maxAmount: (10n * ETH).toString(), action: 'REVIEW', score: 30 },
    { code: 'velocity_destination_count_24h', kind: 'velocity_count', scope: 'destination', windowSeconds: 86_400, maxCount: 3, action: 'REVIEW', score: 20 },
    { code: 'first_time_destination', kind: 'first_time_destination', action: 'REVIEW', score: 10, suppressedByAllowList: true },
    { code: 'rapid_succession', kind: 'rapid_succession', minIntervalSeconds: 30, action: 'REVIEW', score: 20 },
    { code: 'round_amount_structuring', kind: 'round_amount', asset: 'ETH', roundUnit: ETH.toString(), windowSeconds: 86_400, minCount: 3, action: 'REVIEW', score: 25 },
    { code: 'below_threshold_structuring', kind: 'below_threshold', asset: 'ETH', threshold: (10n * ETH).toString(), marginBps: 1000, windowSeconds: 86_400, minCount: 2, action: 'REVIEW', score: 40 },
    { code: 'new_account', kind: 'new_account', maxAgeSeconds: 7 * 86_400, action: 'REVIEW', score: 10 },
  ],
});
const travelRule = parseTravelRuleConfig(DEFAULT_TRAVEL_RULE);
const fullTravelData = { originatorName: 'Alice', originatorAccount: 'acc-1', beneficiaryName: 'Bob', beneficiaryAccount: 'ext-9' };

const mv = (secondsAgo: number, amount: bigint, customer = 'c1', counterparty = 'evm:0xdest'): Movement => ({ at: ago(secondsAgo), asset: 'ETH', amount, customerAccount: customer, counterpartyKey: counterparty });
const quiet: BehaviourFacts = { customerMovements: [], counterpartyMovements: [], counterpartySeenBefore: true, lastCustomerMovementAt: undefined, accountOpenedAt: ago(365 * 86_400) };

function input(over: Partial<ScreeningInput> = {}): ScreeningInput {
  return {
    kind: 'withdrawal',
    at: now,
    asset: 'ETH',
    amount: 1234567n,
    counterpartyValid: true,
    customer: { customerAccount: 'c1', kycStatus: 'verified', jurisdiction: 'EU', openedAt: ago(365 * 86_400) },
    list: listState({ version: 'v1', checkedAt: ago(60) }, now, 86_400),
    sanctionsHits: [],
    allowListed: false,
    provider: { status: 'ok', provider: 'p', score: 5, riskLabel: 'Low', categories: [] },
    providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
    behaviour: quiet,
    ruleSet,
    travelRule,
    travelRuleData: fullTravelData,
    ...over,
  };
}
const codes = (r: { reasons: readonly { code: string }[] }): string[] => r.reasons.map((x) => x.code);

describe('screening verdict: clear and block', () => {
  it('clears a verified customer sending a small amount to a known, unlisted destination', () => {
    const r = screen(input());
    expect(r).toMatchObject({ verdict: 'CLEAR', score: 0, reasons: [], travelRuleRequired: true });
  });
  it('C-8.3.4-b blocks a sanctioned destination with the listing as the reason, even with a stale list', () => {
    const r = screen(input({ sanctionsHits: [{ source: 'ofac_sdn', currency: 'ETH', partyName: 'LAZARUS GROUP', partyRef: '23254' }], list: listState({ version: 'v1', checkedAt: ago(10 * 86_400) }, now, 86_400) }));
    expect(r.verdict).toBe('BLOCK');
    expect(r.score).toBe(100);
    expect(codes(r)).toEqual(['sanctioned_address', 'list_stale']);
    expect(r.reasons[0]?.detail).toMatch(/LAZARUS GROUP/);
  });
  it('blocks on an internal block-list entry; an invalid withdrawal address is blocked', () => {
    expect(screen(input({ internalBlock: { reason: 'fraud ring 42' } })).verdict).toBe('BLOCK');
    const bad = screen(input({ counterpartyValid: false, counterpartyInvalidDetail: 'bad checksum' }));
    expect(bad.verdict).toBe('BLOCK');
    expect(codes(bad)).toContain('invalid_address');
  });
  it('C-9.3.6.3-a withdrawals of a customer whose KYC is not verified are blocked; an unknown customer is reviewed', () => {
    for (const kycStatus of ['pending', 'rejected'] as const) {
      const r = screen(input({ customer: { customerAccount: 'c1', kycStatus, jurisdiction: 'EU', openedAt: ago(999_999) } }));
      expect(r.verdict).toBe('BLOCK');
      expect(codes(r)).toContain('kyc_not_verified');
    }
    const unknown = screen(input({ customer: undefined }));
    expect(unknown.verdict).toBe('REVIEW');
    expect(codes(unknown)).toContain('customer_unknown');
  });
});

describe('fail closed: stale or missing lists and provider outages never CLEAR', () => {
  it('a list older than its maximum age yields REVIEW with list_stale, whatever else holds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 86_401, max: 400 * 86_400 }), fc.bigInt({ min: 0n, max: 10n ** 30n }), (age, amount) => {
        const r = screen(input({ list: listState({ version: 'v1', checkedAt: ago(age) }, now, 86_400), amount, allowListed: true }));
        expect(r.verdict).not.toBe('CLEAR');
        expect(codes(r)).toContain('list_stale');
      }),
    );
  });
  it('no list at all -> REVIEW list_missing', () => {
    const r = screen(input({ list: listState(undefined, now, 86_400) }));
    expect(r.verdict).toBe('REVIEW');
    expect(codes(r)).toEqual(['list_missing']);
  });
  it('provider unavailable -> REVIEW provider_unavailable; severe provider score -> BLOCK; high -> REVIEW unless allow-listed', () => {
    expect(screen(input({ provider: { status: 'unavailable', provider: 'p', detail: 'timeout after 2000ms' } }))).toMatchObject({ verdict: 'REVIEW', reasons: [{ code: 'provider_unavailable', detail: 'p: timeout after 2000ms' }] });
    expect(screen(input({ provider: { status: 'ok', provider: 'p', score: 95, riskLabel: 'Severe', categories: ['sanctions'] } })).verdict).toBe('BLOCK');
    expect(screen(input({ provider: { status: 'ok', provider: 'p', score: 70, riskLabel: 'High', categories: ['mixing'] } })).verdict).toBe('REVIEW');
    expect(screen(input({ allowListed: true, provider: { status: 'ok', provider: 'p', score: 70, riskLabel: 'High', categories: [] } })).verdict).toBe('CLEAR');
  });
});

describe('C-8.3.4-d travel rule flag per jurisdiction', () => {
  it('at/above the threshold without originator/beneficiary info -> REVIEW travel_rule_missing_info', () => {
    const us = { customerAccount: 'c1', kycStatus: 'verified' as const, jurisdiction: 'US', openedAt: ago(999_999) };
    const threshold = 300000000000000000n;
    const below = screen(input({ customer: us, amount: threshold - 1n, travelRuleData: undefined }));
    expect(below).toMatchObject({ verdict: 'CLEAR', travelRuleRequired: false });
    const at = screen(input({ customer: us, amount: threshold, travelRuleData: { ...fullTravelData, beneficiaryName: ' ' } }));
    expect(at.verdict).toBe('REVIEW');
    expect(at.travelRuleRequired).toBe(true);
    expect(at.reasons[0]?.detail).toMatch(/US travel-rule threshold .* missing beneficiaryName/);
    expect(screen(input({ customer: us, amount: threshold }))).toMatchObject({ verdict: 'CLEAR', travelRuleRequired: true });
  });
  it('an unknown jurisdiction falls back to the default (EU: no de minimis)', () => {
    const r = screen(input({ customer: { customerAccount: 'c1', kycStatus: 'verified', jurisdiction: 'ZZ', openedAt: ago(999_999) }, amount: 1n, travelRuleData: undefined }));
    expect(codes(r)).toEqual(['travel_rule_missing_info']);
  });
});

describe('C-9.3.14-b behavioural monitoring rules (rules as data, each fired rule a reason)', () => {
  it('rolling customer sum includes this transfer and only movements inside the window', () => {
    const facts: BehaviourFacts = { ...quiet, customerMovements: [mv(3600, 6n * ETH), mv(86_401, 100n * ETH)] };
    expect(codes(screen(input({ amount: 4n * ETH, behaviour: facts })))).toEqual([]);
    const r = screen(input({ amount: 4n * ETH + 1n, behaviour: facts }));
    expect(codes(r)).toEqual(['velocity_customer_eth_24h']);
    expect(r.verdict).toBe('REVIEW');
    expect(r.reasons[0]?.detail).toMatch(/sum over 86400s is 10000000000000000001/);
  });
  it('per-destination count, first-time destination, rapid succession, new account', () => {
    const facts: BehaviourFacts = { counterpartyMovements: [mv(10, 1n, 'c2'), mv(20, 1n, 'c3'), mv(30, 1n, 'c4')], customerMovements: [mv(5, 1n)], counterpartySeenBefore: false, lastCustomerMovementAt: ago(5), accountOpenedAt: ago(3600) };
    const r = screen(input({ behaviour: facts }));
    expect(codes(r).sort()).toEqual(['first_time_destination', 'new_account', 'rapid_succession', 'velocity_destination_count_24h']);
    expect(r.score).toBe(60);
    expect(r.verdict).toBe('REVIEW');
    expect(codes(screen(input({ behaviour: facts, allowListed: true })))).not.toContain('first_time_destination');
  });
  it('structuring: repeated round amounts, and repeated amounts just below a threshold', () => {
    const round = screen(input({ amount: 2n * ETH, behaviour: { ...quiet, customerMovements: [mv(100, 1n * ETH), mv(200, 3n * ETH)] } }));
    expect(codes(round)).toContain('round_amount_structuring');
    const near = screen(input({ amount: 9n * ETH + 5n, behaviour: { ...quiet, customerMovements: [mv(100, 9n * ETH + 7n)] } }));
    expect(codes(near)).toEqual(['velocity_customer_eth_24h', 'below_threshold_structuring']);
    expect(codes(screen(input({ amount: 9n * ETH + 5n })))).toEqual([]);
  });
  it('score alone can escalate: the total reaching reviewAtScore is REVIEW with a score_threshold reason', () => {
    const rs = parseRuleSet({ version: 'x', reviewAtScore: 25, blockAtScore: 50, rules: [
      { code: 'rule_a', kind: 'first_time_destination', action: 'REVIEW', score: 30 },
      { code: 'rule_b', kind: 'new_account', maxAgeSeconds: 86_400, action: 'REVIEW', score: 30 },
    ] });
    const r = screen(input({ ruleSet: rs, behaviour: { ...quiet, counterpartySeenBefore: false, accountOpenedAt: ago(60) } }));
    expect(r.verdict).toBe('BLOCK');
    expect(codes(r)).toEqual(['rule_a', 'rule_b', 'score_threshold']);
  });
  it('rule documents are validated with precise errors', () => {
    expect(() => parseRuleSet({ version: 'x', reviewAtScore: 50, blockAtScore: 40, rules: [] })).toThrow(/blockAtScore/);
    expect(() => parseRuleSet({ version: 'x', reviewAtScore: 1, blockAtScore: 2, rules: [{ code: 'a', kind: 'velocity_sum', scope: 'customer', asset: 'ETH', windowSeconds: 60, maxAmount: '1.5', action: 'REVIEW', score: 1 }] })).toThrow(RiskError);
    expect(() => parseRuleSet({ version: 'x', reviewAtScore: 1, blockAtScore: 2, rules: [{ code: 'a', kind: 'teleport', action: 'REVIEW', score: 1 }] })).toThrow(/rules\.0/);
  });
});
