// Reconciliation as of the snapshot block, end to end: REAL PostgreSQL, Kafka, anvil and the
// REAL chain-adapter as its own process (services/chain-adapter/test/process/run-chain-adapter.ts),
// driven pass by pass over stdin so its block index can lag the chain. Found by the distributed
// fault-injection test: the chain-adapter's snapshot stood at an old block while withdrawals
// mined above it were already FINAL and SETTLED, and the books read afterwards made a false
// DRIFT of exactly their amounts + fees, with a CRITICAL incident.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { ReconciliationOutcome } from '@custody/contracts';
import { createMetrics } from '@custody/platform';
import { type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { walletAccount } from '../../src/index.js';
import { AnvilNode, ETHER, ReconciliationRig } from './reconciliation-support.js';
import { rand, waitFor } from './support.js';

const prefix = `recs${rand()}.`;
const WALLET_ID = `hot-${rand()}`;
const hot = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}` as Hex);
const hotAddress = hot.address.toLowerCase();
const anvil = new AnvilNode();
const { rpc, head, balanceOf, mine } = anvil;
let rig: ReconciliationRig;

/** One command to the chain-adapter process (its answer is one JSON line). */
const adapterCommand = (command: string): Promise<void> => rig.adapter.command(command);

beforeAll(async () => {
  rig = await ReconciliationRig.start({
    prefix,
    clientId: `ledger-recs-${rand()}`,
    walletId: WALLET_ID,
    hot,
    anvil,
    registry: createMetrics('ledger'),
    // The adapter indexes only when told (tick), so its block index can lag the chain.
    adapterEnv: { CHAIN_POLL_MS: '0' },
    adapterStdin: 'pipe',
  });
}, 240_000);

afterAll(async () => {
  await rig?.stop();
}, 120_000);

describe('C-8.2.3-d reconciliation as of the snapshot block: a withdrawal mined above a lagging block index is not drift', () => {
  const withdrawalId = randomUUID();
  let snapshotHeight = 0n;
  let feePaid = 0n;

  it('a withdrawal FINAL and SETTLED while the chain-adapter\'s index stands below its block: BALANCED, counted as settled above the snapshot, no incident', async () => {
    await adapterCommand('tick');
    snapshotHeight = await head();
    await rig.withdrawalAllowed(withdrawalId, ETHER);
    const pool = async (): Promise<Record<string, unknown>> => (await rpc<{ pending: Record<string, unknown> }>('txpool_content')).pending;
    await waitFor(async () => Object.keys(await pool()).some((a) => a.toLowerCase() === hotAddress), 60_000, () => 'the withdrawal in the node pool');
    // Mined at snapshotHeight + 1, final 3 blocks later: the adapter reports FINAL, the ledger settles.
    await mine(4);
    feePaid = 9n * ETHER - (await balanceOf(hotAddress));
    expect(feePaid).toBeGreaterThan(0n);
    await adapterCommand('tick');
    await waitFor(async () => (await rig.ledger.store.balances(walletAccount('ETH', WALLET_ID))).some((b) => b.available === 9n * ETHER - feePaid), 60_000, () => 'the settlement of the withdrawal');
    // The fault: the adapter's block index falls back below the withdrawal's block (as observed:
    // the snapshot at an older block while later withdrawals were already FINAL).
    await adapterCommand(`index-back ${snapshotHeight}`);

    const r = await rig.reconcile();
    expect(r).toMatchObject({
      outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED,
      blockHeight: snapshotHeight.toString(),
      chainBalance: (10n * ETHER).toString(),
      ledgerBalance: (9n * ETHER - feePaid).toString(),
      inFlightWithdrawals: '0',
      unexplained: '0',
      incidentId: '',
    });
    const [run] = await rig.ledger.reconciliationStore.runs('ETH', 1);
    expect(run!.evidence).toMatchObject({
      settledAboveSnapshot: (ETHER + feePaid).toString(),
      settledAboveSnapshotWithdrawals: [{ withdrawalId, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), chainState: 'FINAL', minedHeight: (snapshotHeight + 1n).toString(), amount: (ETHER + feePaid).toString() }],
      wallets: expect.arrayContaining([expect.objectContaining({ walletId: WALLET_ID, settledAboveSnapshot: (ETHER + feePaid).toString(), unexplained: '0' })]),
    });
    expect(await rig.incidentRowsInOutbox()).toBe(0);
  });

  it('a real difference at the same lagging snapshot is still DRIFT of exactly that amount, with an incident', async () => {
    await rig.ledger.store.transaction((t) => rig.ledger.postings.depositFinal({ depositId: 'synthetic', clientId: 'acme', customerAccount: 'mallory', asset: 'ETH', amount: ETHER / 4n }, { eventId: randomUUID(), correlationId: 'synthetic' }, t));
    const r = await rig.reconcile();
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, blockHeight: snapshotHeight.toString(), unexplained: (-(ETHER / 4n)).toString() });
    expect(r.incidentId).not.toBe('');
    expect(await rig.incidentRowsInOutbox()).toBe(1);
    await rig.ledger.store.transaction((t) => rig.ledger.postings.depositOrphaned('synthetic', { eventId: randomUUID(), correlationId: 'synthetic' }, t));
  });

  it('once the index catches up, the withdrawal is inside the snapshot and the run is BALANCED with nothing added back', async () => {
    await adapterCommand('tick');
    const r = await rig.reconcile();
    expect(BigInt(r.blockHeight)).toBeGreaterThan(snapshotHeight);
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, chainBalance: (9n * ETHER - feePaid).toString(), ledgerBalance: (9n * ETHER - feePaid).toString(), unexplained: '0' });
    const [run] = await rig.ledger.reconciliationStore.runs('ETH', 1);
    expect(run!.evidence).toMatchObject({ settledAboveSnapshot: '0', settledAboveSnapshotWithdrawals: [] });
  });
});
