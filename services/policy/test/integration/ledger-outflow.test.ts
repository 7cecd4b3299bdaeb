// Rolling 24 h outflow from the ledger: the ledger runs as its own process
// (services/ledger/test/process/run-ledger.ts: real Postgres, Kafka consumer, LedgerService
// gRPC on 127.0.0.1:<free port>); the policy here on the same REAL Kafka topics asks it for
// the hold (LedgerFactsProvider) and for the account's 24 h outflow (LedgerOutflowProvider,
// GetOutflow). No service imports the other.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PolicyDecision, Topics, WithdrawalHoldState, WithdrawalStatus, WithdrawalStatusChanged } from '@custody/contracts';
import { LedgerFactsProvider, LedgerOutflowProvider, grpcHoldLookup, grpcOutflowLookup, withLedgerHolds, withLedgerOutflow, type OutflowLookup } from '../../src/index.js';
import { PolicyWithLedgerProcess, TestClock, rand, waitFor } from './support.js';

const prefix = `po${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const RETAIL_DEST = 'bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx';
const CLIENT = 'client-acme';
const WAIT_MS = 3_000;

/** GetOutflow calls the policy made, per withdrawal. */
const asked = new Map<string, number>();
/** Withdrawals of acct-retail-1 the first test leaves in the ledger. */
const ids: string[] = [];

const rig = new PolicyWithLedgerProcess({
  prefix,
  name: 'policy-outflow-test',
  clock,
  clientId: CLIENT,
  destination: RETAIL_DEST,
  staticFacts: {
    accounts: {
      'acct-retail-1': { tier: 'retail', opened_at: '2024-03-15T09:30:00Z' },
      'acct-xx-1': { tier: 'retail', opened_at: '2024-03-15T09:30:00Z', jurisdiction: 'XX' },
    },
    source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } },
  },
  facts: (staticFacts, ledger) => {
    const realOutflow = grpcOutflowLookup(ledger);
    const outflowLookup: OutflowLookup = (q, timeoutMs) => {
      asked.set(q.excludeWithdrawalId, (asked.get(q.excludeWithdrawalId) ?? 0) + 1);
      return realOutflow(q, timeoutMs);
    };
    return withLedgerOutflow(
      withLedgerHolds(staticFacts, new LedgerFactsProvider({ lookup: grpcHoldLookup(ledger), holdWaitMs: WAIT_MS, callTimeoutMs: 1_000 })),
      new LedgerOutflowProvider({ lookup: outflowLookup, waitMs: WAIT_MS, callTimeoutMs: 1_000 }),
    );
  },
  waitMs: WAIT_MS,
  deposit: { address: 'addr-retail-1', account: 'acct-retail-1', amount: '300000000' },
});
const { publish, requested, submit, decisionOf, holdOf, storedInput, stopLedgerProcess } = rig;

beforeAll(() => rig.start(), 240_000);

afterAll(() => rig.stop(), 90_000);

describe('C-8.2.2.5-c rolling 24 h limit counts the ledger outflow: max(ledger, policy record) (Kafka + Postgres + gRPC, two processes)', () => {
  it('withdrawals the policy never decided but the ledger holds count toward the retail rolling limit', async () => {
    // Two 0.45 BTC withdrawals reach the ledger (held) but no screening reaches the policy: its own record stays 0.
    const unseen = [`wd-${rand()}`, `wd-${rand()}`];
    for (const id of unseen) await requested(id, 'acct-retail-1', '45000000');
    for (const id of unseen) await waitFor(async () => (await holdOf(id)).state === WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD, 30_000, () => `ledger hold of ${id}`);

    // 0.9 + 0.01 BTC ≤ 1 BTC (retail rolling_24h_max): allowed, with the ledger's figure in the stored input.
    const small = `wd-${rand()}`;
    await submit(small, 'acct-retail-1', '1000000');
    expect((await decisionOf(small)).decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect((await storedInput(small))?.['velocity']).toEqual({ rolling_24h_total: '91000000', ledger_24h_outflow: '90000000' });

    // 0.91 (ledger, incl. the allowed one; the policy's own record says 0.01) + 0.2 BTC > 1 BTC: denied.
    const over = `wd-${rand()}`;
    await submit(over, 'acct-retail-1', '20000000');
    const d = await decisionOf(over);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toEqual(['limit_rolling_24h_exceeded']);
    expect(d.decisionToken).toHaveLength(0);
    expect((await storedInput(over))?.['velocity']).toEqual({ rolling_24h_total: '111000000', ledger_24h_outflow: '91000000' });
    ids.push(...unseen, small, over);
  });

  it('holds the ledger released no longer count there, but the policy record still does: the larger (policy) figure is used', async () => {
    // Intake cancels every earlier withdrawal: the ledger releases their holds (outflow 0);
    // the policy's record still counts the 0.01 BTC it allowed.
    for (const id of ids) await publish(Topics.withdrawalStatus, id, WithdrawalStatusChanged.fromPartial({ withdrawalId: id, clientId: CLIENT, status: WithdrawalStatus.WITHDRAWAL_STATUS_CANCELLED }));
    for (const id of ids) await waitFor(async () => (await holdOf(id)).state === WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_RELEASED, 30_000, () => `ledger release of ${id}`);
    const next = `wd-${rand()}`;
    await submit(next, 'acct-retail-1', '1000000');
    expect((await decisionOf(next)).decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect((await storedInput(next))?.['velocity']).toEqual({ rolling_24h_total: '2000000', ledger_24h_outflow: '0' });
  });
});

describe('C-9.3.2-b jurisdiction packs: the account facts select the pack; an unknown jurisdiction is denied', () => {
  it('an account of jurisdiction XX (no pack) is denied jurisdiction_unknown, the jurisdiction in the stored input', async () => {
    const id = `wd-${rand()}`;
    await submit(id, 'acct-xx-1', '1000');
    const d = await decisionOf(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toContain('jurisdiction_unknown');
    expect((await storedInput(id))?.['account']).toEqual({ id: 'acct-xx-1', tier: 'retail', opened_at: '2024-03-15T09:30:00Z', jurisdiction: 'XX' });
  });
});

describe('C-8.2.2.5-c ledger outflow unavailable: retried within the bound, then denied (fail closed)', () => {
  it('ledger gRPC down: asked again on redelivery, then DENY velocity_ledger_unavailable (the policy record alone is not trusted)', async () => {
    await stopLedgerProcess();
    const id = `wd-${rand()}`;
    await submit(id, 'acct-retail-1', '1000000');
    const d = await decisionOf(id, 60_000);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toContain('velocity_ledger_unavailable');
    expect(d.decisionToken).toHaveLength(0);
    expect(asked.get(id) ?? 0).toBeGreaterThan(1);
    expect((await storedInput(id))?.['velocity']).toEqual({ rolling_24h_total: '3000000', ledger_unavailable: true });
  });
});
