// Rolling 24 h outflow from the ledger: the ledger runs as its own process
// (services/ledger/test/process/run-ledger.ts: real Postgres, Kafka consumer, LedgerService
// gRPC on 127.0.0.1:<free port>); the policy here on the same REAL Kafka topics asks it for
// the hold (LedgerFactsProvider) and for the account's 24 h outflow (LedgerOutflowProvider,
// GetOutflow). No service imports the other.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, type ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  DepositDetected,
  DepositState,
  LedgerServiceClient,
  PolicyDecided,
  PolicyDecision,
  RiskAssessed,
  RiskVerdict,
  Topics,
  WithdrawalHoldState,
  WithdrawalRequested,
  WithdrawalStatus,
  WithdrawalStatusChanged,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventMessages,
  type EventType,
  type GetBalancesResponse,
  type GetWithdrawalHoldResponse,
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Subscription } from '@custody/event-bus';
import {
  LedgerFactsProvider,
  LedgerOutflowProvider,
  StaticFactsProvider,
  grpcHoldLookup,
  grpcOutflowLookup,
  localDecisionSigner,
  prefixedTopics,
  redeliveryFor,
  startPolicy,
  withLedgerHolds,
  withLedgerOutflow,
  type OutflowLookup,
  type PolicyHandle,
} from '../../src/index.js';
import {
  TestClock,
  buildBundles,
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  directoryOf,
  newOperator,
  quietLogger,
  rand,
  requireEnv,
  root,
  waitFor,
  type Bundles,
  type TestDatabase,
} from './support.js';

const prefix = `po${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const RETAIL_DEST = 'bc1qretail1paymentsxxxxxxxxxxxxxxxxxxxxx';
const CLIENT = 'client-acme';
const WAIT_MS = 3_000;

let db: TestDatabase;
let bundles: Bundles;
let bus: KafkaBus;
let policy: PolicyHandle;
let observer: Subscription;
let ledgerProcess: ChildProcess | undefined;
let ledger: LedgerServiceClient;
const decided: PolicyDecided[] = [];
/** GetOutflow calls the policy made, per withdrawal. */
const asked = new Map<string, number>();
/** Withdrawals of acct-retail-1 the first test leaves in the ledger. */
const ids: string[] = [];

async function startLedgerProcess(): Promise<number> {
  const child = spawn(process.execPath, ['--import', resolve(root, 'services/ledger/test/process/ts-register.mjs'), resolve(root, 'services/ledger/test/process/run-ledger.ts')], {
    cwd: root,
    env: { ...process.env, LEDGER_TOPIC_PREFIX: prefix },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  ledgerProcess = child;
  const lines = createInterface({ input: child.stdout! });
  return new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error('the ledger process did not report its gRPC port within 90 s')), 90_000);
    child.once('exit', (code) => rej(new Error(`the ledger process exited (${code}) before it was ready`)));
    lines.once('line', (line) => {
      clearTimeout(timer);
      res((JSON.parse(line) as { grpcPort: number }).grpcPort);
    });
  });
}

async function stopLedgerProcess(): Promise<void> {
  const child = ledgerProcess;
  ledgerProcess = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K]): Promise<void> {
  const envelope = createEnvelope({ type, key, correlationId: `corr-${rand()}`, producer: 'test', schemaVersion: topicVersion(type), payload: encodeEvent(type, message) });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

const requested = (id: string, account: string, amount: string) =>
  publish(
    Topics.withdrawalRequested,
    id,
    WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: CLIENT, customerAccount: account, asset: 'BTC', chain: 'bitcoin-mainnet', amount, destinationAddress: RETAIL_DEST, requestedAt: timestampFromDate(clock.now()) }),
  );

async function submit(id: string, account: string, amount: string): Promise<void> {
  await publish(
    Topics.riskAssessed,
    id,
    RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 12, assessedAt: timestampFromDate(new Date(clock.now().getTime() - 120_000)) }),
  );
  await requested(id, account, amount);
}

async function decisionOf(id: string, timeoutMs = 30_000): Promise<PolicyDecided> {
  await waitFor(() => decided.some((d) => d.withdrawalId === id), timeoutMs, () => `policy.decided for ${id}`);
  return decided.find((d) => d.withdrawalId === id) as PolicyDecided;
}

const unary = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> => new Promise((res, rej) => call((err, r) => (err ? rej(err) : res(r))));
const holdOf = (withdrawalId: string) => unary<GetWithdrawalHoldResponse>((cb) => ledger.getWithdrawalHold({ withdrawalId }, new Metadata(), cb));
const balanceOf = async (account: string): Promise<string> =>
  (await unary<GetBalancesResponse>((cb) => ledger.getBalances({ account: `customer:${CLIENT}:${account}`, assets: ['BTC'] }, new Metadata(), cb))).balances[0]?.available ?? '0';
const storedInput = async (id: string) => (await db.admin<{ input: Record<string, unknown> }>(`SELECT input FROM decision WHERE withdrawal_id = $1`, [id]))[0]?.input;

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles(), createPrefixedTopics(prefix)]);
  const grpcPort = await startLedgerProcess();
  ledger = new LedgerServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const realOutflow = grpcOutflowLookup(ledger);
  const outflowLookup: OutflowLookup = (q, timeoutMs) => {
    asked.set(q.excludeWithdrawalId, (asked.get(q.excludeWithdrawalId) ?? 0) + 1);
    return realOutflow(q, timeoutMs);
  };
  const staticFacts = new StaticFactsProvider({
    accounts: {
      'acct-retail-1': { tier: 'retail', opened_at: '2024-03-15T09:30:00Z' },
      'acct-xx-1': { tier: 'retail', opened_at: '2024-03-15T09:30:00Z', jurisdiction: 'XX' },
    },
    source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } },
  });
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-outflow-test-${rand()}`, logLevel: 'nothing' }) });
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer: localDecisionSigner('policy-outflow-test-k1', ed25519.utils.randomSecretKey()),
    operators: directoryOf([newOperator('op-alice', ['compliance'])]),
    facts: withLedgerOutflow(
      withLedgerHolds(staticFacts, new LedgerFactsProvider({ lookup: grpcHoldLookup(ledger), holdWaitMs: WAIT_MS, callTimeoutMs: 1_000 })),
      new LedgerOutflowProvider({ lookup: outflowLookup, waitMs: WAIT_MS, callTimeoutMs: 1_000 }),
    ),
    redelivery: redeliveryFor(WAIT_MS, 100, 1_000),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `policy-${rand()}`,
    outboxPollIntervalMs: 50,
  });
  observer = await bus.subscribe({
    groupId: `observer-${rand()}`,
    topics: [`${prefix}${Topics.policyDecided}`],
    handler: async (message) => {
      const event = decodePayload(protobufEnvelopeCodec.decode(message.value));
      if (event.type === Topics.policyDecided) decided.push(event.message);
    },
  });
  await publish(
    Topics.depositDetected,
    'addr-retail-1',
    DepositDetected.fromPartial({ depositId: `dep-${rand()}`, chain: 'bitcoin-mainnet', asset: 'BTC', address: 'addr-retail-1', customerAccount: 'acct-retail-1', clientId: CLIENT, amount: '300000000', txHash: `tx-${rand()}`, state: DepositState.DEPOSIT_STATE_FINAL }),
  );
  await waitFor(async () => (await balanceOf('acct-retail-1')) === '300000000', 30_000, () => 'the deposit credited by the ledger');
}, 240_000);

afterAll(async () => {
  await observer?.stop();
  await policy?.stop();
  ledger?.close();
  await stopLedgerProcess();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await bundles?.cleanup();
}, 90_000);

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
