// Announced maintenance windows over REAL Kafka, PostgreSQL and the compiled Wasm bundle:
// intake's custody.maintenance.scheduled.v1 (published here as intake would: same topic, key
// maintenance_id, a cancellation repeating the window with cancelled = true) → the
// maintenance_window table (latest record per id) → input.maintenance_windows → the Rego
// freeze (policies/custody/freezes/maintenance.rego) → policy.decided.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  MaintenanceScheduled,
  PolicyDecision,
  RiskAssessed,
  RiskVerdict,
  Topics,
  WithdrawalRequested,
  decodePayload,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventMessages,
  type EventType,
  type PolicyDecided,
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, deadLetterTopicFor, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { subjectOf } from '../../src/application/decisions.js';
import { approvalSigningBytes, localDecisionSigner, prefixedTopics, startPolicy, type PolicyHandle, type WithdrawalFactsProvider } from '../../src/index.js';
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
  waitFor,
  type Bundles,
  type TestDatabase,
} from './support.js';

const prefix = `pm${rand()}.`;
const clock = new TestClock(new Date('2025-06-02T10:00:00Z'));
const DEST = { BTC: 'bc1qinstitutionalvaultxxxxxxxxxxxxxxxxxx', ETH: '0x2222222222222222222222222222222222222222' };
const consumerGroupId = `policy-${rand()}`;
const BOB = newOperator('op-bob', ['treasury']);

/** Institutional account, BTC hot wallet, a ledger hold of the full amount: a small BTC withdrawal is allowed. */
const facts: WithdrawalFactsProvider = {
  factsFor: (r) =>
    Promise.resolve({
      account: { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' },
      sourceWallet: r.asset === 'BTC' ? { id: 'btc-hot-01', tier: 'hot' as const } : { id: 'eth-hot-01', tier: 'hot' as const },
      ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount },
    }),
};

let db: TestDatabase;
let bundles: Bundles;
let bus: KafkaBus;
let policy: PolicyHandle;
let observer: Subscription;
const decided: PolicyDecided[] = [];
const deadLettered: string[] = [];

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K], occurredAt?: Date): Promise<Envelope> {
  const envelope = createEnvelope({
    type,
    key,
    correlationId: `corr-${rand()}`,
    producer: 'test',
    schemaVersion: topicVersion(type),
    payload: encodeEvent(type, message),
    ...(occurredAt ? { occurredAt } : {}),
  });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope;
}

/** A window as intake announces it; `cancelledAt` makes it the cancellation record. */
function window(id: string, o: { start: string; end: string; assets?: string[]; chains?: string[]; cancelledAt?: Date }): MaintenanceScheduled {
  return MaintenanceScheduled.fromPartial({
    maintenanceId: id,
    assets: o.assets ?? ['BTC'],
    chains: o.chains ?? [],
    startsAt: timestampFromDate(new Date(o.start)),
    endsAt: timestampFromDate(new Date(o.end)),
    withdrawalsSuspended: true,
    description: 'node upgrade',
    announcedBy: 'op-alice',
    ...(o.cancelledAt ? { cancelled: true, cancelledAt: timestampFromDate(o.cancelledAt), cancelledBy: 'op-bob' } : {}),
  });
}

/** Publishes a maintenance record and waits until the policy's inbox has handled it. */
async function announce(id: string, message: MaintenanceScheduled, occurredAt: Date): Promise<void> {
  const envelope = await publish(Topics.maintenanceScheduled, id, message, occurredAt);
  await waitFor(
    async () => (await db.admin(`SELECT 1 FROM inbox WHERE event_id = $1 AND consumer_group = $2`, [envelope.id, `${consumerGroupId}.maintenance`])).length === 1,
    20_000,
    () => `maintenance record ${envelope.id} handled`,
  );
}

async function withdraw(asset: 'BTC' | 'ETH' = 'BTC', amount = '1000000'): Promise<string> {
  const id = `wd-${rand()}`;
  await publish(
    Topics.withdrawalRequested,
    id,
    WithdrawalRequested.fromPartial({
      withdrawalId: id,
      clientId: 'client-acme',
      customerAccount: 'acct-inst-1',
      asset,
      chain: asset === 'BTC' ? 'bitcoin-mainnet' : 'ethereum-mainnet',
      amount,
      destinationAddress: DEST[asset],
      requestedAt: timestampFromDate(clock.now()),
    }),
  );
  await publish(
    Topics.riskAssessed,
    id,
    RiskAssessed.fromPartial({ assessmentId: `as-${id}`, withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR, score: 5, assessedAt: timestampFromDate(new Date(clock.now().getTime() - 60_000)) }),
  );
  return id;
}

async function decisionOf(withdrawalId: string): Promise<PolicyDecided> {
  await waitFor(() => decided.some((d) => d.withdrawalId === withdrawalId), 20_000, () => `policy.decided for ${withdrawalId}`);
  return decided.find((d) => d.withdrawalId === withdrawalId)!;
}

async function storedWindows(withdrawalId: string): Promise<unknown> {
  const [row] = await db.admin<{ windows: unknown }>(`SELECT input->'maintenance_windows' AS windows FROM decision WHERE withdrawal_id = $1`, [withdrawalId]);
  return row?.windows;
}

const codes = (d: PolicyDecided): string[] => d.reasons.map((r) => r.code);

beforeAll(async () => {
  [db, bundles] = await Promise.all([createTestDatabase(), buildBundles()]);
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-mw-${rand()}`, logLevel: 'nothing' }) });
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: bundles.current,
    signer: localDecisionSigner('policy-mw-k1', ed25519.utils.randomSecretKey()),
    operators: directoryOf([BOB]),
    facts,
    topicName: prefixedTopics(prefix),
    consumerGroupId,
    outboxPollIntervalMs: 50,
  });
  observer = await bus.subscribe({
    groupId: `observer-${rand()}`,
    topics: [`${prefix}${Topics.policyDecided}`, deadLetterTopicFor(`${prefix}${Topics.riskAssessed}`)],
    handler: async (message) => {
      if (message.topic.endsWith(deadLetterTopicFor(Topics.riskAssessed))) {
        deadLettered.push(message.key);
        return;
      }
      const event = decodePayload(protobufEnvelopeCodec.decode(message.value));
      if (event.type === Topics.policyDecided) decided.push(event.message);
    },
  });
}, 180_000);

afterAll(async () => {
  await observer?.stop();
  await policy?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await bundles?.cleanup();
}, 60_000);

describe('C-9.4-c minimal-scope suspension from announced maintenance windows: BTC window → BTC withdrawals frozen, ETH runs', () => {
  it('a window announced for BTC freezes a BTC withdrawal inside it (deny maintenance_freeze_announced) and leaves ETH running', async () => {
    await announce('mnt-btc-1', window('mnt-btc-1', { start: '2025-06-02T09:00:00Z', end: '2025-06-02T11:00:00Z' }), new Date('2025-05-28T09:00:00Z'));
    const btc = await withdraw('BTC');
    const d = await decisionOf(btc);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(codes(d)).toEqual(['maintenance_freeze_announced']);
    expect(d.reasons[0]?.detail).toBe('withdrawals of BTC are frozen by announced maintenance window mnt-btc-1');
    expect(await storedWindows(btc)).toEqual([
      { id: 'mnt-btc-1', start: '2025-06-02T09:00:00Z', end: '2025-06-02T11:00:00Z', assets: ['BTC'], chains: [], withdrawals_suspended: true, cancelled: false },
    ]);
    // ETH is not in the window (another asset, another chain): it runs.
    const eth = await decisionOf(await withdraw('ETH'));
    expect(eth.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
  });
});

describe('announced windows: latest record per maintenance id', () => {
  it('a cancelled window no longer freezes: the next withdrawal is allowed', async () => {
    await announce('mnt-btc-1', window('mnt-btc-1', { start: '2025-06-02T09:00:00Z', end: '2025-06-02T11:00:00Z', cancelledAt: new Date('2025-06-02T09:30:00Z') }), new Date('2025-06-02T09:30:00Z'));
    const [row] = await db.admin<{ cancelled: boolean; cancelled_by: string }>(`SELECT cancelled, cancelled_by FROM maintenance_window WHERE maintenance_id = 'mnt-btc-1'`);
    expect(row).toEqual({ cancelled: true, cancelled_by: 'op-bob' });
    const id = await withdraw('BTC');
    const d = await decisionOf(id);
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
    expect(await storedWindows(id)).toEqual([expect.objectContaining({ id: 'mnt-btc-1', cancelled: true })]);
  });

  it('the announcement arriving again late (older event time) does not bring the cancelled window back', async () => {
    await announce('mnt-btc-1', window('mnt-btc-1', { start: '2025-06-02T09:00:00Z', end: '2025-06-02T11:00:00Z' }), new Date('2025-05-28T09:00:00Z'));
    const [row] = await db.admin<{ cancelled: boolean }>(`SELECT cancelled FROM maintenance_window WHERE maintenance_id = 'mnt-btc-1'`);
    expect(row).toEqual({ cancelled: true });
    const d = await decisionOf(await withdraw('BTC'));
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_ALLOW);
  });

  it('a cancellation older than the window\'s latest state (late) does not cancel it', async () => {
    await announce('mnt-chain-2', window('mnt-chain-2', { start: '2025-06-02T09:45:00Z', end: '2025-06-02T12:00:00Z', assets: [], chains: ['bitcoin-mainnet'] }), new Date('2025-05-29T00:00:00Z'));
    await announce('mnt-chain-2', window('mnt-chain-2', { start: '2025-06-02T09:45:00Z', end: '2025-06-02T12:00:00Z', assets: [], chains: ['bitcoin-mainnet'], cancelledAt: new Date('2025-05-28T00:00:00Z') }), new Date('2025-05-28T00:00:00Z'));
    const d = await decisionOf(await withdraw('BTC'));
    expect(d.decision).toBe(PolicyDecision.POLICY_DECISION_DENY);
    expect(codes(d)).toEqual(['maintenance_freeze_announced']);
  });
});

describe('announced windows reach the re-evaluation after a vote', () => {
  it('a window announced while approvals are collected freezes the approved withdrawal (deny, not allow)', async () => {
    // 2 ETH: single-approval tier (1 treasury), no window yet.
    const id = await withdraw('ETH', '2000000000000000000');
    const first = await decisionOf(id);
    expect(first.decision).toBe(PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL);
    await announce('mnt-eth-3', window('mnt-eth-3', { start: '2025-06-02T09:50:00Z', end: '2025-06-02T12:00:00Z', assets: ['ETH'] }), new Date('2025-05-30T00:00:00Z'));
    const pending = (await policy.decisions.listPending(100)).find((p) => p.record.withdrawalId === id);
    expect(pending).toBeDefined();
    const record = pending!.record;
    const signature = ed25519.sign(approvalSigningBytes(subjectOf(record), BOB.id, 'treasury', 'approve'), BOB.secret);
    const result = await policy.decisions.vote({ decisionId: record.id, operatorId: BOB.id, role: 'treasury', keyId: BOB.keyId, signature, verdict: 'approve' }, { correlationId: `vote-${rand()}` });
    expect(result.record.status).toBe('deny');
    expect(result.record.output.reasons.map((r) => r.code)).toEqual(['maintenance_freeze_announced']);
    expect(result.record.decisionToken).toBeUndefined();
  });
});

describe('announced windows fail closed', () => {
  it('windows table unreadable → nothing is decided: the screening is retried, then dead-lettered (never "no freeze")', async () => {
    await db.admin(`ALTER TABLE ${db.schema}.maintenance_window RENAME TO maintenance_window_away`);
    try {
      const id = await withdraw('ETH');
      await waitFor(() => deadLettered.includes(id), 60_000, () => `risk.assessed of ${id} dead-lettered`);
      const rows = await db.admin(`SELECT 1 FROM decision WHERE withdrawal_id = $1`, [id]);
      expect(rows).toHaveLength(0);
      expect(decided.some((d) => d.withdrawalId === id)).toBe(false);
    } finally {
      await db.admin(`ALTER TABLE ${db.schema}.maintenance_window_away RENAME TO maintenance_window`);
    }
  }, 90_000);
});
