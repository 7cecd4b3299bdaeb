// Reconciliation of the books with the chain, end to end: REAL PostgreSQL (the ledger's
// database), REAL Kafka, a REAL anvil (own process, random port, mining on demand) and the
// REAL chain-adapter as its own process serving ChainQueryService over gRPC (started like
// production, services/chain-adapter/test/process/run-chain-adapter.ts). A withdrawal goes the
// whole way: ledger hold → policy.decided → tx.prepared → stand-in signer (viem) → tx.signed →
// broadcast → mined → tx.status over Kafka → ledger settlement. Runs are triggered through the
// operators' LedgerService/Reconcile RPC.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import {
  AddressRole,
  ChainQueryServiceClient,
  InFlightState,
  IncidentRaised,
  IncidentSeverity,
  KeyLifecycle,
  KeyPurpose,
  KeyTier,
  KeyTransition,
  LedgerServiceClient,
  PolicyDecided,
  PolicyDecision,
  ReconciliationOutcome,
  Topics,
  TxSigned,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventMessages,
  type EventType,
  type GetCustodialBalancesResponse,
  type ReconciliationResult,
} from '@custody/contracts';
import { KafkaBus, OUTBOX_TABLE, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import { createMetrics, startMetricsServer } from '@custody/platform';
import type { Registry } from 'prom-client';
import { keccak256, parseTransaction, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { GrpcChainSnapshotSource, prefixedTopics, startLedger, walletAccount, type LedgerHandle } from '../../src/index.js';
import { createPrefixedTopics, createTestDatabase, deletePrefixedTopics, quietLogger, rand, requireEnv, waitFor, type TestDatabase } from './support.js';

const root = resolve(import.meta.dirname, '../../../..');
const ANVIL_BIN = resolve(root, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
const ETHER = 10n ** 18n;
const prefix = `rec${rand()}.`;
const CHAIN = 'ethereum';
const WALLET_ID = `hot-${rand()}`;

let anvil: ChildProcess | undefined;
let rpcUrl = '';
let adapterProcess: ChildProcess | undefined;
let adapterPort = 0;
let db: TestDatabase;
let bus: KafkaBus;
let ledger: LedgerHandle;
let registry: Registry;
let source: GrpcChainSnapshotSource;
let client: LedgerServiceClient;
const subscriptions: Subscription[] = [];
const incidents: IncidentRaised[] = [];
const hot = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}` as Hex);
const hotAddress = hot.address.toLowerCase();
const depositAddress = `0x${randomBytes(20).toString('hex')}`;

// ------------------------------------------------------------------ plumbing
async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? res(address.port) : rej(new Error('no port'))));
    });
  });
}

let rpcId = 0;
async function rpc<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(rpcUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }) });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}
const hex = (n: bigint): string => `0x${n.toString(16)}`;
const head = async (): Promise<bigint> => BigInt(await rpc<string>('eth_blockNumber'));
const balanceOf = async (address: string): Promise<bigint> => BigInt(await rpc<string>('eth_getBalance', [address, 'latest']));
async function mine(blocks = 1): Promise<bigint> {
  for (let i = 0; i < blocks; i++) await rpc('evm_mine');
  return head();
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return exited.finally(() => clearTimeout(timer));
}

/** services/chain-adapter as its own process; resolves with its ChainQueryService port. */
async function startChainAdapterProcess(): Promise<number> {
  const child = spawn(process.execPath, ['--import', resolve(root, 'services/ledger/test/process/ts-register.mjs'), resolve(root, 'services/chain-adapter/test/process/run-chain-adapter.ts')], {
    cwd: root,
    env: {
      ...process.env,
      CHAIN_TOPIC_PREFIX: prefix,
      ANVIL_RPC_URL: rpcUrl,
      CHAIN_NAME: CHAIN,
      CHAIN_ASSET: 'ETH',
      CHAIN_CONFIRMATIONS: '3',
      CHAIN_DEPOSIT_ADDRESSES: `${depositAddress}=alice`,
      CHAIN_CUSTODY_ADDRESSES: hotAddress,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  adapterProcess = child;
  const lines = createInterface({ input: child.stdout! });
  return new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the chain-adapter process did not report its gRPC port within 90 s')), 90_000);
    child.once('exit', (code) => rej(new Error(`the chain-adapter process exited (${code}) before it was ready`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      res((JSON.parse(line) as { grpcPort: number }).grpcPort);
    });
  });
}

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> {
  const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

const reconcile = (): Promise<ReconciliationResult> =>
  new Promise((res, rej) =>
    client.reconcile({ assets: ['ETH'] }, new Metadata(), { deadline: Date.now() + 30_000 }, (err, r) => {
      if (err) return rej(err);
      if (r.results.length !== 1) return rej(new Error(`expected one result, got ${r.results.length}`));
      res(r.results[0]!);
    }),
  );

/** Reconcile until the snapshot block reaches `height` (the adapter indexes every 200 ms). */
async function reconcileAt(height: bigint): Promise<ReconciliationResult> {
  let last: ReconciliationResult | undefined;
  await waitFor(
    async () => {
      last = await reconcile();
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

const adminQuery = <T>(sql: string, params: unknown[] = []): Promise<T[]> => db.admin<T>(sql, params);
const incidentRowsInOutbox = async (): Promise<number> =>
  Number((await adminQuery<{ n: string }>(`SELECT count(*)::text AS n FROM "${db.schema}"."${OUTBOX_TABLE}" WHERE "topic" = $1`, [`${prefix}${Topics.incidentRaised}`]))[0]!.n);
const runsByOutcome = async (): Promise<Record<string, number>> =>
  Object.fromEntries(
    (await adminQuery<{ outcome: string; n: string }>(`SELECT "outcome", count(*)::text AS n FROM "${db.schema}"."ledger_reconciliation_run" GROUP BY "outcome"`)).map((r) => [r.outcome, Number(r.n)]),
  );

// ------------------------------------------------------------------ setup
beforeAll(async () => {
  const port = await freePort();
  rpcUrl = `http://127.0.0.1:${port}`;
  anvil = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337', '--silent', '--no-mining'], { stdio: 'ignore' });
  await waitFor(async () => rpc('eth_chainId').then(() => true, () => false), 15_000, () => `anvil on ${rpcUrl}`);
  await rpc('anvil_setBalance', [hotAddress, hex(10n * ETHER)]);
  await mine();

  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-rec-${rand()}`, logLevel: 'nothing' }) });
  subscriptions.push(
    await bus.subscribe({
      groupId: `incidents-${rand()}`,
      topics: [`${prefix}${Topics.incidentRaised}`],
      fromBeginning: true,
      handler: async (m) => {
        const decoded = decodePayload(protobufEnvelopeCodec.decode(m.value));
        if (decoded.type === Topics.incidentRaised) incidents.push(decoded.message);
      },
    }),
  );
  // Stand-in signer: signs every tx.prepared of our wallet with viem and answers tx.signed.
  subscriptions.push(
    await bus.subscribe({
      groupId: `signer-${rand()}`,
      topics: [`${prefix}${Topics.txPrepared}`],
      fromBeginning: true,
      handler: async (m) => {
        const decoded = decodePayload(protobufEnvelopeCodec.decode(m.value));
        if (decoded.type !== Topics.txPrepared || decoded.message.sourceWallet !== WALLET_ID) return;
        const p = decoded.message;
        const raw = await hot.signTransaction(parseTransaction(`0x${Buffer.from(p.unsignedTx).toString('hex')}` as Hex) as never);
        await publish(Topics.txSigned, p.sourceWallet, TxSigned.fromPartial({ withdrawalId: p.withdrawalId, decisionId: p.decisionId, chain: p.chain, sourceWallet: p.sourceWallet, keyId: 'key-hot', signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: keccak256(raw) }));
      },
    }),
  );

  adapterPort = await startChainAdapterProcess();
  // The signer announces the wallet (key.lifecycle): the adapter's registry maps its id to the address.
  await publish(
    Topics.keyLifecycle,
    'key-hot',
    KeyLifecycle.fromPartial({ keyId: 'key-hot', transition: KeyTransition.KEY_TRANSITION_GENERATED, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE, tier: KeyTier.KEY_TIER_HOT, chain: CHAIN, actor: 'signer', walletId: WALLET_ID, address: hotAddress, transitionedAt: timestampFromDate(new Date()) }),
  );

  db = await createTestDatabase();
  registry = createMetrics('ledger');
  source = new GrpcChainSnapshotSource([{ asset: 'ETH', address: `127.0.0.1:${adapterPort}` }], { timeoutMs: 5_000 });
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `ledger-${prefix}`,
    outboxPollIntervalMs: 50,
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    registry,
    reconciliation: { targets: [{ asset: 'ETH', chain: CHAIN, feeAsset: 'ETH' }], source, intervalMs: 0 },
  });
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  // The ledger registers the hot wallet from the same key.lifecycle event (its own consumer group).
  await waitFor(async () => (await adminQuery(`SELECT 1 FROM "${db.schema}"."ledger_wallet" WHERE "wallet_id" = $1`, [WALLET_ID])).length === 1, 60_000, () => 'the ledger registering the hot wallet');
  // The books hold what the custody addresses hold: alice's 10 ETH, received at the hot wallet's
  // address, so booked to custodian:ETH:<hot wallet id>.
  await ledger.store.transaction((t) =>
    ledger.postings.depositFinal({ depositId: 'seed-alice', clientId: 'acme', customerAccount: 'alice', asset: 'ETH', amount: 10n * ETHER, chain: CHAIN, address: hotAddress }, { eventId: randomUUID(), correlationId: 'seed' }, t),
  );
  expect(await ledger.store.balances(walletAccount('ETH', WALLET_ID))).toEqual([{ account: walletAccount('ETH', WALLET_ID), asset: 'ETH', available: 10n * ETHER, held: 0n }]);
}, 240_000);

afterAll(async () => {
  client?.close();
  source?.close();
  for (const s of subscriptions) await s.stop().catch(() => undefined);
  await ledger?.stop();
  await stopChild(adapterProcess);
  await bus?.close();
  await db?.drop();
  await stopChild(anvil);
  await deletePrefixedTopics(prefix).catch(() => undefined);
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
    const [run] = await ledger.reconciliationStore.runs('ETH', 1);
    expect(run).toMatchObject({ run_id: r.runId, outcome: 'BALANCED', block_height: r.blockHeight, unexplained: '0' });
    const addresses = (run!.evidence as { addresses: { address: string; balance: string }[] }).addresses;
    expect(addresses).toEqual(expect.arrayContaining([{ address: hotAddress, walletId: expect.any(String), role: expect.any(String), balance: (10n * ETHER).toString() }, expect.objectContaining({ address: depositAddress, balance: '0' })]));
    expect(await incidentRowsInOutbox()).toBe(0);
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(0);
    expect(await metric('custody_ledger_reconciliation_runs_total', { asset: 'ETH', outcome: 'balanced' })).toBeGreaterThanOrEqual(1);
  });

  it('a withdrawal broadcast and mined but not final is classified in flight (amount + actual fee), not unexplained', async () => {
    await ledger.store.transaction((t) =>
      ledger.postings.withdrawalRequested({ withdrawalId, clientId: 'acme', customerAccount: 'alice', asset: 'ETH', chain: CHAIN, amount: ETHER }, { eventId: randomUUID(), correlationId: withdrawalId }, t),
    );
    await publish(
      Topics.policyDecided,
      withdrawalId,
      PolicyDecided.fromPartial({
        decisionId: randomUUID(),
        withdrawalId,
        decision: PolicyDecision.POLICY_DECISION_ALLOW,
        bundleDigest: 'ab'.repeat(32),
        decisionToken: Buffer.from('signed-decision-token'),
        asset: 'ETH',
        chain: CHAIN,
        amount: ETHER.toString(),
        sourceWallet: WALLET_ID,
        destinationAddress: `0x${randomBytes(20).toString('hex')}`,
        approvals: [{ operatorId: 'op', role: 'treasury', signature: Buffer.alloc(64, 7), keyId: 'op-1' }],
        expiresAt: timestampFromDate(new Date('2099-01-01T00:00:00Z')),
      }),
    );
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
    const [run] = await ledger.reconciliationStore.runs('ETH', 1);
    expect((run!.evidence as { inFlightWithdrawals: unknown[] }).inFlightWithdrawals).toEqual([expect.objectContaining({ withdrawalId, amount: ETHER.toString(), fee: feePaid.toString(), ledgerState: 'HELD' })]);
    expect(await incidentRowsInOutbox()).toBe(0);
  });

  it('once final, the ledger settles it from tx.status and the books equal the chain with nothing in flight', async () => {
    const final = await mine(3);
    // Settled from tx.status source_wallet = the wallet id: custodian:ETH:<wallet id>, amount and fee.
    await waitFor(async () => (await ledger.store.balances(walletAccount('ETH', WALLET_ID))).some((b) => b.available === 9n * ETHER - feePaid), 60_000, () => 'the settlement of the withdrawal');
    const r = await reconcileAt(final);
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, ledgerBalance: (9n * ETHER - feePaid).toString(), chainBalance: (9n * ETHER - feePaid).toString(), inFlightWithdrawals: '0', fees: '0', unexplained: '0' });
  });

  it('the chain-adapter query API: one block for all balances, the registry wallet id and roles, a foreign asset refused', async () => {
    const query = new ChainQueryServiceClient(`127.0.0.1:${adapterPort}`, credentials.createInsecure());
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
    const incidentsBefore = await incidentRowsInOutbox();
    const chainNow = await balanceOf(hotAddress);
    await ledger.store.transaction((t) => ledger.postings.depositFinal({ depositId: 'synthetic', clientId: 'acme', customerAccount: 'mallory', asset: 'ETH', amount: ETHER / 4n }, { eventId: randomUUID(), correlationId: 'synthetic' }, t));
    const flagged = await reconcile();
    expect(flagged).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, unexplained: (-(ETHER / 4n)).toString(), chainBalance: chainNow.toString() });
    expect(await incidentRowsInOutbox()).toBe(incidentsBefore + 1);
    // Credited to custodian:ETH:deposits, which no address with a wallet id holds: the unattributed remainder drifts, the hot wallet does not.
    const [run] = await ledger.reconciliationStore.runs('ETH', 1);
    expect(run).toMatchObject({ mismatched_wallets: 1, evidence: expect.objectContaining({ mismatchedWallets: ['(unattributed)'] }) });
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(1);
    await ledger.store.transaction((t) => ledger.postings.depositOrphaned('synthetic', { eventId: randomUUID(), correlationId: 'synthetic' }, t));
    expect(await reconcile()).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, unexplained: '0' });
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(0);
  });

  it('an unexplained outflow from a custodial address: DRIFT with the evidence, one incident event over Kafka, gauge 1; the same drift again raises nothing new', async () => {
    const incidentsBefore = await incidentRowsInOutbox();
    const before = await balanceOf(hotAddress);
    const stolen = ETHER / 2n;
    await rpc('anvil_setBalance', [hotAddress, hex(before - stolen)]);
    const height = await mine();
    const r = await reconcileAt(height);
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, unexplained: (-stolen).toString(), chainBalance: (before - stolen).toString(), ledgerBalance: before.toString() });
    expect(r.incidentId).not.toBe('');
    expect(await incidentRowsInOutbox()).toBe(incidentsBefore + 1);
    await waitFor(async () => incidents.some((i) => i.incidentId === r.incidentId), 30_000, () => 'the incident on custody.incident.raised.v1');
    const incident = incidents.find((i) => i.incidentId === r.incidentId)!;
    expect(incident).toMatchObject({ source: 'ledger', kind: 'RECONCILIATION_DRIFT', severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL, chain: CHAIN, asset: 'ETH' });
    const evidence = JSON.parse(incident.evidenceJson) as { runId: string; unexplained: string; block: { height: string }; addresses: { address: string; balance: string }[] };
    // The run that raised it is the first one that saw this drift (later runs of the same drift refer to it).
    const [raisedBy] = await adminQuery<{ run_id: string; block_height: string }>(
      `SELECT "run_id", "block_height"::text AS block_height FROM "${db.schema}"."ledger_reconciliation_run" WHERE "incident_id" = $1 ORDER BY "seq" LIMIT 1`,
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
    const raised = await incidentRowsInOutbox();

    const again = await reconcile();
    expect(again).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, incidentId: r.incidentId });
    expect(await incidentRowsInOutbox()).toBe(raised);
  });

  it('chain-adapter down: the run is FAILED (stored, counted), never balanced; the gauge keeps the last compared value', async () => {
    await stopChild(adapterProcess);
    const before = await runsByOutcome();
    const failedBefore = (await metric('custody_ledger_reconciliation_runs_total', { asset: 'ETH', outcome: 'failed' })) ?? 0;
    const r = await reconcile();
    expect(r.outcome).toBe(ReconciliationOutcome.RECONCILIATION_OUTCOME_FAILED);
    expect(r).toMatchObject({ unexplained: '', chainBalance: '', blockHash: '', incidentId: '' });
    expect(r.failureReason).not.toBe('');
    const after = await runsByOutcome();
    expect(after).toEqual({ ...before, FAILED: (before['FAILED'] ?? 0) + 1 });
    const [run] = await ledger.reconciliationStore.runs('ETH', 1);
    expect(run).toMatchObject({ run_id: r.runId, outcome: 'FAILED', block_height: null, unexplained: null });
    expect(await metric('custody_ledger_reconciliation_runs_total', { asset: 'ETH', outcome: 'failed' })).toBe(failedBefore + 1);
    expect(await metric('custody_ledger_reconciliation_mismatched_wallets', { asset: 'ETH' })).toBe(1);
  });

  it('the database refuses a run that claims BALANCED without a compared block, or a FAILED run with a comparison, and the runtime role cannot rewrite runs', async () => {
    const app = ledger.dataSource;
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
