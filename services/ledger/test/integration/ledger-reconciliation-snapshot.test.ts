// Reconciliation as of the snapshot block, end to end: REAL PostgreSQL, Kafka, anvil and the
// REAL chain-adapter as its own process (services/chain-adapter/test/process/run-chain-adapter.ts),
// driven pass by pass over stdin so its block index can lag the chain. Found by the distributed
// fault-injection test: the chain-adapter's snapshot stood at an old block while withdrawals
// mined above it were already FINAL and SETTLED, and the books read afterwards made a false
// DRIFT of exactly their amounts + fees, with a CRITICAL incident.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { credentials, Metadata } from '@grpc/grpc-js';
import {
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
  type ReconciliationResult,
} from '@custody/contracts';
import { KafkaBus, OUTBOX_TABLE, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import { createMetrics } from '@custody/platform';
import { keccak256, parseTransaction, type Hex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { GrpcChainSnapshotSource, prefixedTopics, startLedger, walletAccount, type LedgerHandle } from '../../src/index.js';
import { createPrefixedTopics, createTestDatabase, deletePrefixedTopics, quietLogger, rand, requireEnv, waitFor, type TestDatabase } from './support.js';

const root = resolve(import.meta.dirname, '../../../..');
const ANVIL_BIN = resolve(root, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
const ETHER = 10n ** 18n;
const prefix = `recs${rand()}.`;
const CHAIN = 'ethereum';
const WALLET_ID = `hot-${rand()}`;

let anvil: ChildProcess | undefined;
let rpcUrl = '';
let adapter: ChildProcess | undefined;
let adapterLines: Interface | undefined;
let db: TestDatabase;
let bus: KafkaBus;
let ledger: LedgerHandle;
let source: GrpcChainSnapshotSource;
let client: LedgerServiceClient;
const subscriptions: Subscription[] = [];
const hot = privateKeyToAccount(`0x${randomBytes(32).toString('hex')}` as Hex);
const hotAddress = hot.address.toLowerCase();

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

/** One command to the chain-adapter process (its answer is one JSON line). */
function adapterCommand(command: string): Promise<void> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`the chain-adapter did not answer "${command}" within 30 s`)), 30_000);
    adapterLines!.once('line', (line) => {
      clearTimeout(timer);
      const r = JSON.parse(line) as { ok: boolean; error?: string };
      if (r.ok) res();
      else rej(new Error(`chain-adapter "${command}": ${r.error}`));
    });
    adapter!.stdin!.write(`${command}\n`);
  });
}

async function startChainAdapterProcess(): Promise<number> {
  const child = spawn(process.execPath, ['--import', resolve(root, 'services/ledger/test/process/ts-register.mjs'), resolve(root, 'services/chain-adapter/test/process/run-chain-adapter.ts')], {
    cwd: root,
    env: { ...process.env, CHAIN_TOPIC_PREFIX: prefix, ANVIL_RPC_URL: rpcUrl, CHAIN_NAME: CHAIN, CHAIN_ASSET: 'ETH', CHAIN_CONFIRMATIONS: '3', CHAIN_CUSTODY_ADDRESSES: hotAddress, CHAIN_POLL_MS: '0' },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  adapter = child;
  adapterLines = createInterface({ input: child.stdout! });
  return new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the chain-adapter process did not report its gRPC port within 90 s')), 90_000);
    child.once('exit', (code) => rej(new Error(`the chain-adapter process exited (${code}) before it was ready`)));
    adapterLines!.once('line', (line) => {
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

const incidentRowsInOutbox = async (): Promise<number> =>
  Number((await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM "${db.schema}"."${OUTBOX_TABLE}" WHERE "topic" = $1`, [`${prefix}${Topics.incidentRaised}`]))[0]!.n);

beforeAll(async () => {
  const port = await freePort();
  rpcUrl = `http://127.0.0.1:${port}`;
  anvil = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(port), '--chain-id', '31337', '--silent', '--no-mining'], { stdio: 'ignore' });
  await waitFor(async () => rpc('eth_chainId').then(() => true, () => false), 15_000, () => `anvil on ${rpcUrl}`);
  await rpc('anvil_setBalance', [hotAddress, hex(10n * ETHER)]);
  await mine();

  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-recs-${rand()}`, logLevel: 'nothing' }) });
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

  const adapterPort = await startChainAdapterProcess();
  await publish(
    Topics.keyLifecycle,
    'key-hot',
    KeyLifecycle.fromPartial({ keyId: 'key-hot', transition: KeyTransition.KEY_TRANSITION_GENERATED, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE, tier: KeyTier.KEY_TIER_HOT, chain: CHAIN, actor: 'signer', walletId: WALLET_ID, address: hotAddress, transitionedAt: timestampFromDate(new Date()) }),
  );

  db = await createTestDatabase();
  source = new GrpcChainSnapshotSource([{ asset: 'ETH', address: `127.0.0.1:${adapterPort}` }], { timeoutMs: 5_000 });
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `ledger-${prefix}`,
    outboxPollIntervalMs: 50,
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    registry: createMetrics('ledger'),
    reconciliation: { targets: [{ asset: 'ETH', chain: CHAIN, feeAsset: 'ETH' }], source, intervalMs: 0 },
  });
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  await waitFor(async () => (await db.admin(`SELECT 1 FROM "${db.schema}"."ledger_wallet" WHERE "wallet_id" = $1`, [WALLET_ID])).length === 1, 60_000, () => 'the ledger registering the hot wallet');
  await ledger.store.transaction((t) =>
    ledger.postings.depositFinal({ depositId: 'seed-alice', clientId: 'acme', customerAccount: 'alice', asset: 'ETH', amount: 10n * ETHER, chain: CHAIN, address: hotAddress }, { eventId: randomUUID(), correlationId: 'seed' }, t),
  );
}, 240_000);

afterAll(async () => {
  client?.close();
  source?.close();
  for (const s of subscriptions) await s.stop().catch(() => undefined);
  await ledger?.stop();
  await stopChild(adapter);
  await bus?.close();
  await db?.drop();
  await stopChild(anvil);
  await deletePrefixedTopics(prefix).catch(() => undefined);
}, 120_000);

describe('C-8.2.3-d reconciliation as of the snapshot block: a withdrawal mined above a lagging block index is not drift', () => {
  const withdrawalId = randomUUID();
  let snapshotHeight = 0n;
  let feePaid = 0n;

  it('a withdrawal FINAL and SETTLED while the chain-adapter\'s index stands below its block: BALANCED, counted as settled above the snapshot, no incident', async () => {
    await adapterCommand('tick');
    snapshotHeight = await head();
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
    const pool = async (): Promise<Record<string, unknown>> => (await rpc<{ pending: Record<string, unknown> }>('txpool_content')).pending;
    await waitFor(async () => Object.keys(await pool()).some((a) => a.toLowerCase() === hotAddress), 60_000, () => 'the withdrawal in the node pool');
    // Mined at snapshotHeight + 1, final 3 blocks later: the adapter reports FINAL, the ledger settles.
    await mine(4);
    feePaid = 9n * ETHER - (await balanceOf(hotAddress));
    expect(feePaid).toBeGreaterThan(0n);
    await adapterCommand('tick');
    await waitFor(async () => (await ledger.store.balances(walletAccount('ETH', WALLET_ID))).some((b) => b.available === 9n * ETHER - feePaid), 60_000, () => 'the settlement of the withdrawal');
    // The fault: the adapter's block index falls back below the withdrawal's block (as observed:
    // the snapshot at an older block while later withdrawals were already FINAL).
    await adapterCommand(`index-back ${snapshotHeight}`);

    const r = await reconcile();
    expect(r).toMatchObject({
      outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED,
      blockHeight: snapshotHeight.toString(),
      chainBalance: (10n * ETHER).toString(),
      ledgerBalance: (9n * ETHER - feePaid).toString(),
      inFlightWithdrawals: '0',
      unexplained: '0',
      incidentId: '',
    });
    const [run] = await ledger.reconciliationStore.runs('ETH', 1);
    expect(run!.evidence).toMatchObject({
      settledAboveSnapshot: (ETHER + feePaid).toString(),
      settledAboveSnapshotWithdrawals: [{ withdrawalId, txHash: expect.stringMatching(/^0x[0-9a-f]{64}$/), chainState: 'FINAL', minedHeight: (snapshotHeight + 1n).toString(), amount: (ETHER + feePaid).toString() }],
      wallets: expect.arrayContaining([expect.objectContaining({ walletId: WALLET_ID, settledAboveSnapshot: (ETHER + feePaid).toString(), unexplained: '0' })]),
    });
    expect(await incidentRowsInOutbox()).toBe(0);
  });

  it('a real difference at the same lagging snapshot is still DRIFT of exactly that amount, with an incident', async () => {
    await ledger.store.transaction((t) => ledger.postings.depositFinal({ depositId: 'synthetic', clientId: 'acme', customerAccount: 'mallory', asset: 'ETH', amount: ETHER / 4n }, { eventId: randomUUID(), correlationId: 'synthetic' }, t));
    const r = await reconcile();
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, blockHeight: snapshotHeight.toString(), unexplained: (-(ETHER / 4n)).toString() });
    expect(r.incidentId).not.toBe('');
    expect(await incidentRowsInOutbox()).toBe(1);
    await ledger.store.transaction((t) => ledger.postings.depositOrphaned('synthetic', { eventId: randomUUID(), correlationId: 'synthetic' }, t));
  });

  it('once the index catches up, the withdrawal is inside the snapshot and the run is BALANCED with nothing added back', async () => {
    await adapterCommand('tick');
    const r = await reconcile();
    expect(BigInt(r.blockHeight)).toBeGreaterThan(snapshotHeight);
    expect(r).toMatchObject({ outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED, chainBalance: (9n * ETHER - feePaid).toString(), ledgerBalance: (9n * ETHER - feePaid).toString(), unexplained: '0' });
    const [run] = await ledger.reconciliationStore.runs('ETH', 1);
    expect(run!.evidence).toMatchObject({ settledAboveSnapshot: '0', settledAboveSnapshotWithdrawals: [] });
  });
});
