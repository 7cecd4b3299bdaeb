import { describe, expect, it } from '@jest/globals';
import { isNonRetryable } from '@custody/event-bus';
import { GetOutflowResponse } from '@custody/contracts';
import { buildPolicyInput } from '../../domain/policy-input.js';
import { LedgerOutflowPendingError, LedgerOutflowProvider, OUTFLOW_WINDOW_MS, withLedgerOutflow, type OutflowLookup, type OutflowQuery } from './ledger-outflow.js';
import { StaticFactsProvider } from './static-facts.js';

const AT = new Date('2025-06-02T10:00:00Z');
const req = { withdrawalId: 'wd-1', clientId: 'acme', customerAccount: 'acct-1', asset: 'BTC', amount: 500n, at: AT };
const outflow = (o: Partial<GetOutflowResponse> = {}): GetOutflowResponse => GetOutflowResponse.fromPartial({ account: 'customer:acme:acct-1', asset: 'BTC', total: '700', withdrawals: 2, ...o });
const answer = (r: GetOutflowResponse, seen?: OutflowQuery[]): OutflowLookup => (q) => {
  seen?.push(q);
  return Promise.resolve(r);
};
const down: OutflowLookup = () => Promise.reject(Object.assign(new Error('4 DEADLINE_EXCEEDED'), { code: 4 }));

describe('C-8.2.2.5-c LedgerOutflowProvider (rolling 24 h outflow from LedgerService.GetOutflow)', () => {
  it('asks for the 24 h before the decision time, this withdrawal excluded, and gives the total as a bigint', async () => {
    const seen: OutflowQuery[] = [];
    expect(await new LedgerOutflowProvider({ lookup: answer(outflow(), seen) }).factsFor(req)).toEqual({ ledgerOutflow: { known: true, total: 700n } });
    expect(seen).toEqual([{ clientId: 'acme', customerAccount: 'acct-1', asset: 'BTC', since: new Date(AT.getTime() - OUTFLOW_WINDOW_MS), excludeWithdrawalId: 'wd-1' }]);
    // wei beyond 2^53 stay exact
    expect(await new LedgerOutflowProvider({ lookup: answer(outflow({ total: '123456789012345678901234567890' })) }).factsFor(req)).toEqual({ ledgerOutflow: { known: true, total: 123456789012345678901234567890n } });
    expect(await new LedgerOutflowProvider({ lookup: answer(outflow({ total: '0' })) }).factsFor(req)).toEqual({ ledgerOutflow: { known: true, total: 0n } });
  });

  it('an answer about another account or asset, or with a malformed total, is unknown at once (no retry)', async () => {
    for (const bad of [outflow({ account: 'customer:acme:acct-2' }), outflow({ asset: 'ETH' }), outflow({ total: '-5' }), outflow({ total: '1.5' }), outflow({ total: '' }), outflow({ total: '007' })]) {
      const facts = await new LedgerOutflowProvider({ lookup: answer(bad), waitMs: 60_000 }).factsFor(req);
      expect(facts.ledgerOutflow?.known).toBe(false);
    }
  });

  it('an unreachable / slow ledger is retryable until the bound, then unknown (the policy denies: fail closed)', async () => {
    let now = 1_000;
    const p = new LedgerOutflowProvider({ lookup: down, waitMs: 5_000, now: () => now });
    const first = await p.factsFor(req).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(LedgerOutflowPendingError);
    expect(isNonRetryable(first)).toBe(false);
    now += 4_999;
    await expect(p.factsFor(req)).rejects.toBeInstanceOf(LedgerOutflowPendingError);
    now += 1;
    expect(await p.factsFor(req)).toEqual({ ledgerOutflow: { known: false, why: 'ledger unavailable (grpc code 4)' } });
    // A later ask waits again, bounded again.
    await expect(p.factsFor(req)).rejects.toBeInstanceOf(LedgerOutflowPendingError);
  });

  it('a ledger that answers within the bound is used', async () => {
    let up = false;
    const p = new LedgerOutflowProvider({ lookup: (q, t) => (up ? answer(outflow())(q, t) : down(q, t)), waitMs: 5_000 });
    await expect(p.factsFor(req)).rejects.toBeInstanceOf(LedgerOutflowPendingError);
    up = true;
    expect(await p.factsFor(req)).toEqual({ ledgerOutflow: { known: true, total: 700n } });
  });

  it('withLedgerOutflow: the outflow only from the ledger provider; account (with jurisdiction) and wallet from the base', async () => {
    const base = new StaticFactsProvider({ accounts: { 'acct-1': { tier: 'retail', opened_at: '2024-01-01T00:00:00Z', jurisdiction: 'JP' } }, source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } } });
    const forging = { factsFor: async () => ({ ...(await base.factsFor(req)), ledgerOutflow: { known: true as const, total: 0n } }) };
    const facts = await withLedgerOutflow(forging, new LedgerOutflowProvider({ lookup: answer(outflow()) })).factsFor(req);
    expect(facts).toEqual({
      account: { id: 'acct-1', tier: 'retail', openedAt: '2024-01-01T00:00:00Z', jurisdiction: 'JP' },
      sourceWallet: { id: 'btc-hot-01', tier: 'hot' },
      ledgerOutflow: { known: true, total: 700n },
    });
    // The ledger's retryable error propagates: nothing half-done.
    await expect(withLedgerOutflow(base, new LedgerOutflowProvider({ lookup: down })).factsFor(req)).rejects.toBeInstanceOf(LedgerOutflowPendingError);
  });

  it('policy input: velocity.ledger_24h_outflow when known, velocity.ledger_unavailable when not, account.jurisdiction when given', () => {
    const args = {
      request: { withdrawalId: 'wd-1', clientId: 'acme', customerAccount: 'acct-1', asset: 'BTC', chain: 'bitcoin', amount: 500n, destinationAddress: 'bc1q', destinationTag: '', requestedAt: AT },
      assessment: { withdrawalId: 'wd-1', assessmentId: 'a-1', verdict: 'ALLOW' as const, score: 1, sanctionsHit: false, assessedAt: AT },
      rolling24hTotal: 1_200n,
      now: AT,
      approvals: [],
      maintenanceWindows: [],
    };
    const account = { id: 'acct-1', tier: 'retail', openedAt: '2024-01-01T00:00:00Z' };
    const known = buildPolicyInput({ ...args, facts: { account: { ...account, jurisdiction: 'EU' }, ledgerOutflow: { known: true, total: 700n } } });
    expect(known['velocity']).toEqual({ rolling_24h_total: '1200', ledger_24h_outflow: '700' });
    expect(known['account']).toEqual({ id: 'acct-1', tier: 'retail', opened_at: '2024-01-01T00:00:00Z', jurisdiction: 'EU' });
    const unknown = buildPolicyInput({ ...args, facts: { account, ledgerOutflow: { known: false, why: 'down' } } });
    expect(unknown['velocity']).toEqual({ rolling_24h_total: '1200', ledger_unavailable: true });
    expect(unknown['account']).toEqual({ id: 'acct-1', tier: 'retail', opened_at: '2024-01-01T00:00:00Z' });
    expect(buildPolicyInput({ ...args, facts: {} })['velocity']).toEqual({ rolling_24h_total: '1200' });
  });
});
