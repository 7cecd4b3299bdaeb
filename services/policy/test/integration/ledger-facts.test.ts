// Policy + ledger, each as in production: the ledger runs as its own process
// (services/ledger/test/process/run-ledger.ts: real Postgres, Kafka consumer, LedgerService
// gRPC), the policy here on the same REAL Kafka topics with LedgerFactsProvider asking the
// ledger over REAL gRPC for the hold of each withdrawal. No service imports the other.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PolicyDecision, WithdrawalHoldState } from '@custody/contracts';
import { LedgerFactsProvider, grpcHoldLookup, grpcWalletBalances, withLedgerHolds, type HoldLookup } from '../../src/index.js';
import { PolicyWithLedgerProcess, TestClock, rand, type TestDatabase } from './support.js';

const prefix = `pl${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const INST_DEST = 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx';
const CLIENT = 'client-acme';
const HOLD_WAIT_MS = 3_000;

/** GetWithdrawalHold calls the policy made, per withdrawal. */
const asked = new Map<string, number>();

const rig = new PolicyWithLedgerProcess({
  prefix,
  name: 'policy-ledger-test',
  clock,
  clientId: CLIENT,
  destination: INST_DEST,
  staticFacts: {
    accounts: { 'acct-inst-1': { tier: 'institutional', opened_at: '2023-01-01T00:00:00Z' }, 'acct-retail-1': { tier: 'retail', opened_at: '2024-03-15T09:30:00Z' } },
    source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } },
  },
  facts: (staticFacts, ledger) => {
    const realLookup = grpcHoldLookup(ledger);
    const lookup: HoldLookup = (withdrawalId, timeoutMs) => {
      asked.set(withdrawalId, (asked.get(withdrawalId) ?? 0) + 1);
      return realLookup(withdrawalId, timeoutMs);
    };
    return withLedgerHolds(staticFacts, new LedgerFactsProvider({ lookup, holdWaitMs: HOLD_WAIT_MS, callTimeoutMs: 1_000 }));
  },
  waitMs: HOLD_WAIT_MS,
  // Fund the institutional customer through the ledger's own consumer (deposit.detected FINAL).
  deposit: { address: 'addr-inst-1', account: 'acct-inst-1', amount: '5000000' },
});
const { submit, decisionOf, holdOf, stopLedgerProcess } = rig;
let db: TestDatabase;
let ledger: PolicyWithLedgerProcess['ledger'];

beforeAll(async () => {
  await rig.start();
  ({ db, ledger } = rig);
}, 240_000);

afterAll(() => rig.stop(), 90_000);

describe('C-9.3.7.1-a the hot-wallet monitor asks the ledger process whether a transfer is booked (real gRPC)', () => {
  it('an id the ledger has not seen is not_known (never booked); an empty id is refused, so the lookup rejects (fail closed)', async () => {
    const source = grpcWalletBalances(ledger);
    await expect(source.transferBooking(`treasury:sweep:BTC:${rand()}`)).resolves.toBe('not_known');
    await expect(source.transferBooking('')).rejects.toMatchObject({ code: 3 });
  });
});

describe('C-8.2.2.5-b ledger reservation precedes signing: policy reads the hold the ledger placed (Kafka + Postgres + gRPC, two processes)', () => {
  it('a funded customer: the ledger holds the amount, the policy ALLOWs with that hold in its stored input', async () => {
    const id = `wd-${rand()}`;
    await submit(id, 'acct-inst-1', '1000000');
    const d = await decisionOf(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect(d.decisionToken.length).toBeGreaterThan(0);
    const hold = await holdOf(id);
    expect(hold).toMatchObject({ state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD, asset: 'BTC', amount: '1000000', customerAccount: `customer:${CLIENT}:acct-inst-1`, availableAfterHold: '4000000' });
    const [row] = await db.admin<{ status: string; input: { ledger_hold?: { id: string; amount: string } } }>(`SELECT status, input FROM decision WHERE withdrawal_id = $1`, [id]);
    expect(row).toEqual({ status: 'allow', input: expect.objectContaining({ ledger_hold: { id: hold.holdEntryId, amount: '1000000' } }) });
  });

  it('an unfunded customer: the ledger refuses the hold, the policy DENYs ledger_hold_missing without a token', async () => {
    const id = `wd-${rand()}`;
    await submit(id, 'acct-retail-1', '1000');
    const d = await decisionOf(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toContain('ledger_hold_missing');
    expect(d.decisionToken).toHaveLength(0);
    expect((await holdOf(id)).state).toBe(WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_REJECTED);
    const [row] = await db.admin<{ input: Record<string, unknown> }>(`SELECT input FROM decision WHERE withdrawal_id = $1`, [id]);
    expect(row?.input).not.toHaveProperty('ledger_hold');
  });

  it('ledger gRPC down: the policy retries for the bounded wait, then DENYs ledger_hold_missing (fail closed)', async () => {
    await stopLedgerProcess();
    const id = `wd-${rand()}`;
    await submit(id, 'acct-inst-1', '1000000');
    const d = await decisionOf(id, 60_000);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(d.reasons.map((r) => r.code)).toContain('ledger_hold_missing');
    expect(d.decisionToken).toHaveLength(0);
    // Asked again after the first failure (redelivered), not denied on the first miss.
    expect(asked.get(id) ?? 0).toBeGreaterThan(1);
  });
});
