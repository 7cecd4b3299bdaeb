// Reconciliation of the books with the chain, end to end: REAL PostgreSQL (the ledger's
// database), REAL Kafka, a REAL anvil (own process, random port, mining on demand) and the
// REAL chain-adapter as its own process serving ChainQueryService over gRPC (started like
// production, services/chain-adapter/test/process/run-chain-adapter.ts). A withdrawal goes the
// whole way: ledger hold → policy.decided → tx.prepared → stand-in signer (viem) → tx.signed →
// broadcast → mined → tx.status over Kafka → ledger settlement. Runs are triggered through the
// operators' LedgerService/Reconcile RPC.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes, randomUUID } from 'node:crypto';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import {
  AddressRole,
  ChainQueryServiceClient,
  InFlightState,
  IncidentRaised,
  IncidentSeverity,
  ReconciliationOutcome,
  Topics,
  decodePayload,
  type GetCustodialBalancesResponse,
  type ReconciliationResult,
} from '@custody/contracts';
import { protobufEnvelopeCodec } from '@custody/event-bus';
import { createMetrics, startMetricsServer } from '@custody/platform';
import type { Registry } from 'prom-client';
import { type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { walletAccount } from '../../src/index.js';
import { AnvilNode, CHAIN, ETHER, ReconciliationRig, hex } from './reconciliation-support.js';
import { rand, waitFor } from './support.js';

const prefix = `rec${rand()}.`;
const WALLET_ID = `hot-${rand()}`;

const registry: Registry = createMetrics('ledger');
const incidents: IncidentRaised[] = [];
const hot = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}` as Hex);
const hotAddress = hot.address.toLowerCase();
const depositAddress = `0x${randomBytes(20).toString('hex')}`;
const anvil = new AnvilNode();
const { rpc, head, balanceOf, mine } = anvil;
let rig: ReconciliationRig;

// ------------------------------------------------------------------ plumbing
/** Reconcile until the snapshot block reaches `height` (the adapter indexes every 200 ms). */
async function reconcileAt(height: bigint): Promise<ReconciliationResult> {
  let last: ReconciliationResult | undefined;
  await waitFor(
    async () => {
      last = await rig.reconcile();
      return last.outcome !== ReconciliationOutcome.RECONCILIATION_OUTCOME_FAILED && BigInt(last.blockHeight) >= height;
    },
    30_000,
    () => `a reconciliation at block ${height} (last: ${JSON.stringify(last)})`,
  );
  return last!;
}
/** Scrapes the ledger's registry over HTTP as Prometheus does; the value of `name{labels, service="ledger"}`. */
async function metric(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const server = await startMetricsServer({ registry, port: 0 });
  try {
    const res = await fetch(`${server.url}/metrics`);
    const want = JSON.stringify(Object.entries({ ...labels, service: 'ledger' }).sort());
    for (const line of (await res.text()).split('\n')) {
      const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const got = [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
      if (JSON.stringify(got.sort()) === want) return Number(m[3]);
    }
    return undefined;
  } finally {
    await server.close();
  }
}

const adminQuery = <T>(sql: string, params: unknown[] = []): Promise<T[]> => rig.db.admin<T>(sql, params);
const runsByOutcome = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await adminQuery<{ outcome: string; n: string }>(`SELECT "outcome", count(*)::text AS n FROM "${rig.db.schema}"."ledger_reconciliation_run" GROUP BY "outcome"`)).map((r) => [r.outcome, Number(r.n)]),
  );

// ------------------------------------------------------------------ setup
beforeAll(async () => {
  rig = await ReconciliationRig.start({
    prefix,
    clientId: `ledger-rec-${rand()}`,
    walletId: WALLET_ID,
    hot,
    anvil,
    registry,
    adapterEnv: { CHAIN_DEPOSIT_ADDRESSES: `${depositAddress}=alice` },
    adapterStdin: 'ignore',
    subscribe: async (bus) => [
      await bus.subscribe({
        groupId: `incidents-${rand()}`,
        topics: [`${prefix}${Topics.incidentRaised}`],
        fromBeginning: true,
        handler: async (m) => {
          const decoded = decodePayload(protobufEnvelopeCodec.decode(m.value));
          if (decoded.type === Topics.incidentRaised) incidents.push(decoded.message);
        },
      }),
    ],
  });
  expect(await rig.ledger.store.balances(walletAccount('ETH', WALLET_ID))).toEqual([{ account: walletAccount('ETH', WALLET_ID), asset: 'ETH', available: 10n * ETHER, held: 0n }]);
}, 240_000);

afterAll(async () => {
  await rig?.stop();
}, 120_000);

// ------------------------------------------------------------------ tests
describe('ledger reconciliation against the chain, per asset and per wallet (real anvil, chain-adapter over gRPC, PostgreSQL, Kafka)', () => {
  const withdrawalId = randomUUID();
  let feePaid = 0n;

  it('balanced books: BALANCED at one block, every custodial address in the evidence, no incident, gauge 0', async () => {
    // No placeholder before a run compared anything (a 0 would silence the alert).
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBeUndefined();
    const r = await reconcileAt(await head());
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, ledgerBalance: (10n * ETHER).toString(), chainBalance: (10n * ETHER).toString(), unexplained: '0', inFlightWithdrawals: '0', incidentId: '' });
    expect(r.blockHash).toMatch(/^0x[0-9a-f]{64}$/);
    const [run] = await rig.ledger.reconciliationStore.runs('ETH', 1);
    expect(run).toMatchObject({ run_id: r.runId, outcome: 'BALANCED', block_height: r.blockHeight, unexplained: '0' });
    const addresses = (run!.evidence as { addresses: { address: string; balance: string }[] }).addresses;
    expect(addresses).toEqual(expect.arrayContaining([{ address: hotAddress, walletId: expect.any(String), role: expect.any(String), balance: (10n * ETHER).toString() }, expect.objectContaining({ address: depositAddress, balance: '0' })]));
    expect(await rig.incidentRowsInOutbox()).toBe(0);
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(0);
    expect(await metric('custody_ledger_reconciliation_runs_total', { asset: 'ETH', outcome: 'balanced' })).toBeGreaterThanOrEqual(1);
  });

  it('a withdrawal broadcast and mined but not final is classified in flight (amount + actual fee), not unexplained', async () => {
    await rig.withdrawalAllowed(withdrawalId, ETHER);
    // In the node's pool (signed, broadcast): nothing has left the wallet yet.
    await waitFor(async () => ((await rpc<{ pending: Record<string, unknown> }>('txpool_content')).pending[hot.address] ?? (await rpc<{ pending: Record<string, unknown> }>('txpool_content')).pending[hotAddress]) !== undefined, 60_000, () => 'the withdrawal in the node pool');
    const included = await mine();
    const after = await balanceOf(hotAddress);
    feePaid = 10n * ETHER - ETHER - after;
    expect(feePaid).toBeGreaterThan(0n);
    const r = await reconcileAt(included);
    expect(r).toMatchObject({
      outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED,
      ledgerBalance: (10n * ETHER).toString(),
      chainBalance: after.toString(),
      inFlightWithdrawals: ETHER.toString(),
      fees: feePaid.toString(),
      unexplained: '0',
    });
    const [run] = await rig.ledger.reconciliationStore.runs('ETH', 1);
    expect((run!.evidence as { inFlightWithdrawals: unknown[] }).inFlightWithdrawals).toEqual([expect.objectContaining({ withdrawalId, amount: ETHER.toString(), fee: feePaid.toString(), ledgerState: 'HELD' })]);
    expect(await rig.incidentRowsInOutbox()).toBe(0);
  });

  it('once final, the ledger settles it from tx.status and the books equal the chain with nothing in flight', async () => {
    const final = await mine(3);
    // Settled from tx.status source_wallet = the wallet id: custodian:ETH:<wallet id>, amount and fee.
    await waitFor(async () => (await rig.ledger.store.balances(walletAccount('ETH', WALLET_ID))).some((b) => b.available === 9n * ETHER - feePaid), 60_000, () => 'the settlement of the withdrawal');
    const r = await reconcileAt(final);
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, ledgerBalance: (9n * ETHER - feePaid).toString(), chainBalance: (9n * ETHER - feePaid).toString(), inFlightWithdrawals: '0', fees: '0', unexplained: '0' });
  });

  it('the chain-adapter query API: one block for all balances, the registry wallet id and roles, a foreign asset refused', async () => {
    const query = new ChainQueryServiceClient(`127.0.0.1:${rig.adapter.grpcPort}`, credentials.createInsecure());
    try {
      const call = (asset: string): Promise<GetCustodialBalancesResponse> =>
        new Promise((res, rej) => query.getCustodialBalances({ asset, withdrawalIds: [withdrawalId], finalDepositWindowBlocks: '0' }, new Metadata(), { deadline: Date.now() + 10_000 }, (err, r) => (err ? rej(err) : res(r))));
      const r = await call('ETH');
      expect(r).toMatchObject({ chain: CHAIN, asset: 'ETH' });
      const block = await rpc<{ hash: string }>('eth_getBlockByNumber', [hex(BigInt(r.blockHeight)), false]);
      expect(r.blockHash).toBe(block.hash);
      expect(r.addresses).toEqual(
        expect.arrayContaining([
          { address: hotAddress, walletId: WALLET_ID, balance: (await balanceOf(hotAddress)).toString(), role: AddressRole.ADDRESS_ROLE_HOT_WALLET },
          { address: depositAddress, walletId: '', balance: '0', role: AddressRole.ADDRESS_ROLE_DEPOSIT },
        ]),
      );
      // Asked for by id: reported although FINAL, with the fee it actually paid.
      expect(r.inFlightWithdrawals).toEqual([expect.objectContaining({ withdrawalId, state: InFlightState.IN_FLIGHT_STATE_FINAL, amount: ETHER.toString(), feePaid: feePaid.toString(), includedAtSnapshot: true })]);
      await expect(call('BTC')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('serves ETH') });
    } finally {
      query.close();
    }
  });

  it('a synthetic credit in the books (no coins on chain) is flagged by the next run; its compensation balances the books again', async () => {
    const incidentsBefore = await rig.incidentRowsInOutbox();
    const chainNow = await balanceOf(hotAddress);
    await rig.ledger.store.transaction((t) => rig.ledger.postings.depositFinal({ depositId: 'synthetic', clientId: 'acme', customerAccount: 'mallory', asset: 'ETH', amount: ETHER / 4n }, { eventId: randomUUID(), correlationId: 'synthetic' }, t));
    const flagged = await rig.reconcile();
    expect(flagged).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, unexplained: (-(ETHER / 4n)).toString(), chainBalance: chainNow.toString() });
    expect(await rig.incidentRowsInOutbox()).toBe(incidentsBefore + 1);
    // Credited to custodian:ETH:deposits, which no address with a wallet id holds: the unattributed remainder drifts, the hot wallet does not.
    const [run] = await rig.ledger.reconciliationStore.runs('ETH', 1);
    expect(run).toMatchObject({ mismatched_wallets: 1, evidence: expect.objectContaining({ mismatchedWallets: ['(unattributed)'] }) });
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(1);
    await rig.ledger.store.transaction((t) => rig.ledger.postings.depositOrphaned('synthetic', { eventId: randomUUID(), correlationId: 'synthetic' }, t));
    expect(await rig.reconcile()).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, unexplained: '0' });
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(0);
  });

  it('an unexplained outflow from a custodial address: DRIFT with the evidence, one incident event over Kafka, gauge 1; the same drift again raises nothing new', async () => {
    const incidentsBefore = await rig.incidentRowsInOutbox();
    const before = await balanceOf(hotAddress);
    const stolen = ETHER / 2n;
    await rpc('anvil_setBalance', [hotAddress, hex(before - stolen)]);
    const height = await mine();
    const r = await reconcileAt(height);
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, unexplained: (-stolen).toString(), chainBalance: (before - stolen).toString(), ledgerBalance: before.toString() });
    expect(r.incidentId).not.toBe('');
    expect(await rig.incidentRowsInOutbox()).toBe(incidentsBefore + 1);
    await waitFor(async () => incidents.some((i) => i.incidentId === r.incidentId), 30_000, () => 'the incident on custody.incident.raised.v1');
    const incident = incidents.find((i) => i.incidentId === r.incidentId)!;
    expect(incident).toMatchObject({ source: 'ledger', kind: 'RECONCILIATION_DRIFT', severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL, chain: CHAIN, asset: 'ETH' });
    const evidence = JSON.parse(incident.evidenceJson) as { runId: string; unexplained: string; block: { height: string }; addresses: { address: string; balance: string }[] };
    // The run that raised it is the first one that saw this drift (later runs of the same drift refer to it).
    const [raisedBy] = await adminQuery<{ run_id: string; block_height: string }>(
      `SELECT "run_id", "block_height"::text AS block_height FROM "${rig.db.schema}"."ledger_reconciliation_run" WHERE "incident_id" = $1 ORDER BY "seq" LIMIT 1`,
      [r.incidentId],
    );
    expect(evidence).toMatchObject({ runId: raisedBy!.run_id, unexplained: (-stolen).toString(), block: { height: raisedBy!.block_height } });
    expect(evidence.addresses).toEqual(expect.arrayContaining([expect.objectContaining({ address: hotAddress, balance: (before - stolen).toString() })]));
    // Per wallet: exactly the hot wallet drifted, named in the evidence and on the incident.
    expect(incident.wallet).toBe(WALLET_ID);
    expect(evidence).toMatchObject({ mismatchedWallets: [WALLET_ID] });
    expect((evidence as unknown as { wallets: { walletId: string; unexplained: string; ledgerBalance: string; chainBalance: string }[] }).wallets).toEqual(
      expect.arrayContaining([expect.objectContaining({ walletId: WALLET_ID, unexplained: (-stolen).toString(), ledgerBalance: before.toString(), chainBalance: (before - stolen).toString() }), expect.objectContaining({ walletId: '(unattributed)', unexplained: '0' })]),
    );
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(1);
    const raised = await rig.incidentRowsInOutbox();

    const again = await rig.reconcile();
    expect(again).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, incidentId: r.incidentId });
    expect(await rig.incidentRowsInOutbox()).toBe(raised);
  });

  it('chain-adapter down: the run is FAILED (stored, counted), never balanced; the gauge keeps the last compared value', async () => {
    await rig.adapter.stop();
    const before = await runsByOutcome();
    const failedBefore = (await metric('custody_ledger_reconciliation_runs_total', { asset: 'ETH', outcome: 'failed' })) ?? 0;
    const r = await rig.reconcile();
    expect(r.outcome).toBe(ReconciliationOutcome.RECONCILIATION_OUTCOME_FAILED);
    expect(r).toMatchObject({ unexplained: '', chainBalance: '', blockHash: '', incidentId: '' });
    expect(r.failureReason).not.toBe('');
    const after = await runsByOutcome();
    expect(after).toEqual({ ...before, FAILED: (before['FAILED'] ?? 0) + 1 });
    const [run] = await rig.ledger.reconciliationStore.runs('ETH', 1);
    expect(run).toMatchObject({ run_id: r.runId, outcome: 'FAILED', block_height: null, unexplained: null });
    expect(await metric('custody_ledger_reconciliation_runs_total', { asset: 'ETH', outcome: 'failed' })).toBe(failedBefore + 1);
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(1);
  });

  it('the database refuses a run that claims BALANCED without a compared block, or a FAILED run with a comparison, and the runtime role cannot rewrite runs', async () => {
    const app = rig.ledger.dataSource;
    const insert = (outcome: string, height: string | null, unexplained: string | null, reason: string) =>
      app.query(
        `INSERT INTO "ledger_reconciliation_run" ("run_id", "asset", "chain", "outcome", "started_at", "finished_at", "block_height", "unexplained", "evidence", "failure_reason", "incident_id") VALUES ($1, 'ETH', 'ethereum', $2, now(), now(), $3, $4, '{}', $5, '')`,
        [randomUUID(), outcome, height, unexplained, reason],
      );
    await expect(insert('BALANCED', null, null, '')).rejects.toMatchObject({ driverError: { code: '23514' } });
    await expect(insert('BALANCED', '5', '3', '')).rejects.toMatchObject({ driverError: { code: '23514' } });
    await expect(insert('FAILED', '5', '0', 'x')).rejects.toMatchObject({ driverError: { code: '23514' } });
    await expect(app.query(`UPDATE "ledger_reconciliation_run" SET "outcome" = 'BALANCED'`)).rejects.toMatchObject({ driverError: { code: '42501' } });
    await expect(app.query(`DELETE FROM "ledger_reconciliation_run"`)).rejects.toMatchObject({ driverError: { code: '42501' } });
  });
});
