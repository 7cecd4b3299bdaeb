import { describe, expect, it } from '@jest/globals';
import { isNonRetryable } from '@custody/event-bus';
import { GetWithdrawalHoldResponse, WithdrawalHoldState } from '@custody/contracts';
import { LedgerFactsProvider, LedgerHoldPendingError, redeliveryFor, withLedgerHolds, type HoldLookup } from './ledger-grpc-facts.js';
import { StaticFactsProvider } from './static-facts.js';

const req = { withdrawalId: 'wd-1', clientId: 'acme', customerAccount: 'acct-1', asset: 'BTC', amount: 500n };
const held = (o: Partial<GetWithdrawalHoldResponse> = {}): GetWithdrawalHoldResponse =>
  GetWithdrawalHoldResponse.fromPartial({
    withdrawalId: 'wd-1',
    state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD,
    asset: 'BTC',
    amount: '500',
    customerAccount: 'customer:acme:acct-1',
    availableAfterHold: '100',
    holdEntryId: 'entry-1',
    ...o,
  });
const answer = (r: GetWithdrawalHoldResponse): HoldLookup => () => Promise.resolve(r);
const down: HoldLookup = () => Promise.reject(Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }));

describe('LedgerFactsProvider (ledger hold over LedgerService.GetWithdrawalHold)', () => {
  it('a HELD hold of this request gives ledgerHold (entry id, held amount); a smaller hold is passed as it is', async () => {
    expect(await new LedgerFactsProvider({ lookup: answer(held()) }).factsFor(req)).toEqual({ ledgerHold: { id: 'entry-1', amount: 500n } });
    expect(await new LedgerFactsProvider({ lookup: answer(held({ amount: '499' })) }).factsFor(req)).toEqual({ ledgerHold: { id: 'entry-1', amount: 499n } });
  });

  it('a hold on another account or asset, or with a malformed amount, is no hold', async () => {
    for (const bad of [held({ customerAccount: 'customer:acme:acct-2' }), held({ asset: 'ETH' }), held({ amount: '-5' }), held({ amount: '1.5' })]) {
      expect(await new LedgerFactsProvider({ lookup: answer(bad) }).factsFor(req)).toEqual({});
    }
  });

  it('REJECTED, RELEASED and SETTLED are final: no hold at once, no retry', async () => {
    for (const state of [WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_REJECTED, WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_RELEASED, WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_SETTLED]) {
      expect(await new LedgerFactsProvider({ lookup: answer(held({ state })), holdWaitMs: 60_000 }).factsFor(req)).toEqual({});
    }
  });

  it('NONE and an unreachable ledger are retryable until the bound, then no hold (fail closed)', async () => {
    for (const lookup of [answer(held({ state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_NONE })), down]) {
      let now = 1_000;
      const p = new LedgerFactsProvider({ lookup, holdWaitMs: 5_000, now: () => now });
      const first = await p.factsFor(req).catch((e: unknown) => e);
      expect(first).toBeInstanceOf(LedgerHoldPendingError);
      expect(isNonRetryable(first)).toBe(false);
      now += 4_999;
      await expect(p.factsFor(req)).rejects.toBeInstanceOf(LedgerHoldPendingError);
      now += 1;
      expect(await p.factsFor(req)).toEqual({});
      // The wait starts again for a later ask (a new delivery), bounded again.
      await expect(p.factsFor(req)).rejects.toBeInstanceOf(LedgerHoldPendingError);
    }
  });

  it('a hold that appears within the bound is used', async () => {
    let state = WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_NONE;
    const p = new LedgerFactsProvider({ lookup: () => Promise.resolve(held({ state })), holdWaitMs: 5_000 });
    await expect(p.factsFor(req)).rejects.toBeInstanceOf(LedgerHoldPendingError);
    state = WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD;
    expect(await p.factsFor(req)).toEqual({ ledgerHold: { id: 'entry-1', amount: 500n } });
  });

  it('withLedgerHolds: account and wallet from the static facts, the hold only from the ledger', async () => {
    const base = new StaticFactsProvider({ accounts: { 'acct-1': { tier: 'retail', opened_at: '2024-01-01T00:00:00Z' } }, source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } } });
    const fakeBaseWithHold = { factsFor: async () => ({ ...(await base.factsFor(req)), ledgerHold: { id: 'forged', amount: 10n ** 20n } }) };
    const none = new LedgerFactsProvider({ lookup: answer(held({ state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_REJECTED })) });
    expect(await withLedgerHolds(fakeBaseWithHold, none).factsFor(req)).toEqual({
      account: { id: 'acct-1', tier: 'retail', openedAt: '2024-01-01T00:00:00Z' },
      sourceWallet: { id: 'btc-hot-01', tier: 'hot' },
    });
    expect((await withLedgerHolds(base, new LedgerFactsProvider({ lookup: answer(held()) })).factsFor(req)).ledgerHold).toEqual({ id: 'entry-1', amount: 500n });
  });

  it('redeliveryFor: the backoff before the last attempt outlasts the hold wait', () => {
    for (const wait of [1_000, 30_000, 120_000]) {
      const { maxAttempts, backoff } = redeliveryFor(wait);
      let total = 0;
      for (let a = 1; a < maxAttempts; a++) total += Math.min(backoff.maxMs, backoff.initialMs * 2 ** (a - 1));
      expect(total).toBeGreaterThan(wait);
    }
  });
});
