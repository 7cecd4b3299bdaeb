// Policy + ledger, each as in production: the ledger runs as its own process
// (services/ledger/test/process/run-ledger.ts: real Postgres, Kafka consumer, LedgerService
// gRPC), the policy here on the same REAL Kafka topics with LedgerFactsProvider asking the
// ledger over REAL gRPC for the hold of each withdrawal. No service imports the other.
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
import { LedgerFactsProvider, StaticFactsProvider, grpcHoldLookup, localDecisionSigner, prefixedTopics, redeliveryFor, startPolicy, withLedgerHolds, type HoldLookup, type PolicyHandle } from '../../src/index.js';
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

const prefix = `pl${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const INST_DEST = 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx';
const CLIENT = 'client-acme';
const HOLD_WAIT_MS = 3_000;

let db: TestDatabase;
let bundles: Bundles;
let bus: KafkaBus;
let policy: PolicyHandle;
let observer: Subscription;
let ledgerProcess: ChildProcess | undefined;
let ledger: LedgerServiceClient;
const decided: PolicyDecided[] = [];
/** GetWithdrawalHold calls the policy made, per withdrawal. */
const asked = new Map<string, number>();

/** Starts services/ledger as a child process; resolves with its gRPC port. */
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

async function submit(id: string, account: string, amount: string): Promise<void> {
  await publish(
    Topics.riskAssessed,
    id,
    RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 12, assessedAt: timestampFromDate(new Date(clock.now().getTime() - 120_000)) }),
  );
  await publish(
    Topics.withdrawalRequested,
    id,
    WithdrawalRequested.fromPartial({ withdrawalId: id, clientId: CLIENT, customerAccount: account, asset: 'BTC', chain: 'bitcoin-mainnet', amount, destinationAddress: INST_DEST, requestedAt: timestampFromDate(clock.now()) }),
  );
}

async function decisionOf(id: string, timeoutMs = 30_000): Promise<PolicyDecided> {
  await waitFor(() => decided.some((d) => d.withdrawalId === id), timeoutMs, () => `policy.decided for ${id}`);
  return decided.find((d) => d.withdrawalId === id) as PolicyDecided;
}

const unary = <Res>(call: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> => new Promise((res, rej) => call((err, r) => (err ? rej(err) : res(r))));
const holdOf = (withdrawalId: string) => unary<GetWithdrawalHoldResponse>((cb) => ledger.getWithdrawalHold({ withdrawalId }, new Metadata(), cb));
const balanceOf = async (account: string): Promise<string> =>
  (await unary<GetBalancesResponse>((cb) => ledger.getBalances({ account: `customer:${CLIENT}:${account}`, assets: ['BTC'] }, new Metadata(), cb))).balances[0]?.available ?? '0';

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles(), createPrefixedTopics(prefix)]);
  const grpcPort = await startLedgerProcess();
  ledger = new LedgerServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
  const realLookup = grpcHoldLookup(ledger);
  const lookup: HoldLookup = (withdrawalId, timeoutMs) => {
    asked.set(withdrawalId, (asked.get(withdrawalId) ?? 0) + 1);
    return realLookup(withdrawalId, timeoutMs);
  };
  const staticFacts = new StaticFactsProvider({
    accounts: { 'acct-inst-1': { tier: 'institutional', opened_at: '2023-01-01T00:00:00Z' }, 'acct-retail-1': { tier: 'retail', opened_at: '2024-03-15T09:30:00Z' } },
    source_wallets: { BTC: { id: 'btc-hot-01', tier: 'hot' } },
  });
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-ledger-test-${rand()}`, logLevel: 'nothing' }) });
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer: localDecisionSigner('policy-ledger-test-k1', ed25519.utils.randomSecretKey()),
    operators: directoryOf([newOperator('op-alice', ['compliance'])]),
    facts: withLedgerHolds(staticFacts, new LedgerFactsProvider({ lookup, holdWaitMs: HOLD_WAIT_MS, callTimeoutMs: 1_000 })),
    redelivery: redeliveryFor(HOLD_WAIT_MS, 100, 1_000),
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
  // Fund the institutional customer through the ledger's own consumer (deposit.detected FINAL).
  await publish(
    Topics.depositDetected,
    'addr-inst-1',
    DepositDetected.fromPartial({ depositId: `dep-${rand()}`, chain: 'bitcoin-mainnet', asset: 'BTC', address: 'addr-inst-1', customerAccount: 'acct-inst-1', clientId: CLIENT, amount: '5000000', txHash: `tx-${rand()}`, state: DepositState.DEPOSIT_STATE_FINAL }),
  );
  await waitFor(async () => (await balanceOf('acct-inst-1')) === '5000000', 30_000, () => 'the deposit credited by the ledger');
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
