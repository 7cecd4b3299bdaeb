// Out-of-order pipeline events over real PostgreSQL and real Kafka: an event ahead of its
// withdrawal is parked (intake_pending_event) and applied, in order, once the event it
// follows arrives; nothing is lost, redelivery is absorbed by the inbox.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  PolicyDecided,
  PolicyDecision,
  RiskAssessed,
  RiskVerdict,
  Topics,
  TxPrepared,
  TxSigned,
  TxState,
  TxStatus,
  WithdrawalState,
  WithdrawalStatus,
  decodePayload,
  encodeEvent,
  topicVersion,
  type CustodyGatewayServiceClient,
  type EventMessages,
  type EventType,
  type Withdrawal as WireWithdrawal,
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { prefixedTopics, startIntake, type IntakeHandle } from '../../src/index.js';
import {
  TestClock,
  call,
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  newClient,
  newSigningKey,
  quietLogger,
  rand,
  requireEnv,
  signedMetadata,
  submitBodyOf,
  waitFor,
  type TestDatabase,
} from './support.js';

const prefix = `t${rand()}.`;
const clock = new TestClock();
let db: TestDatabase;
let bus: KafkaBus;
let intake: IntakeHandle;
let client: CustodyGatewayServiceClient;
let observer: Subscription;
const observed: Envelope[] = [];
const ACME = newSigningKey('acme');

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K], id?: string): Promise<Envelope> {
  const envelope = createEnvelope({
    type,
    key,
    correlationId: `corr-${rand()}`,
    producer: 'test-pipeline',
    schemaVersion: topicVersion(type),
    payload: encodeEvent(type, message),
    ...(id ? { id } : {}),
  });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope;
}

const inInbox = async (eventId: string): Promise<boolean> => (await db.admin('SELECT 1 FROM inbox WHERE event_id = $1', [eventId])).length === 1;
const stateOf = async (id: string): Promise<string | undefined> => (await db.admin<{ state: string }>('SELECT state FROM withdrawal WHERE id = $1', [id]))[0]?.state;

/** The recorded transitions as a chain from REQUESTED (each from_state is the previous to_state). */
async function history(id: string): Promise<string[]> {
  const rows = await db.admin<{ from_state: string | null; to_state: string }>('SELECT from_state, to_state FROM withdrawal_transition WHERE withdrawal_id = $1', [id]);
  const chain: string[] = [];
  let from: string | null = null;
  for (let i = 0; i < rows.length; i++) {
    const next = rows.filter((r) => r.from_state === from);
    expect(next).toHaveLength(1);
    from = (next[0] as { to_state: string }).to_state;
    chain.push(from);
  }
  return chain;
}

async function submit(): Promise<string> {
  const req = {
    idempotencyKey: `idem-${rand()}`,
    customerAccount: 'acct-1',
    asset: 'ETH',
    amount: '1500000000000000000',
    destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    destinationTag: '',
    clientReference: 'ref-1',
    signatureKeyId: '',
    signature: Buffer.alloc(0),
  };
  const md = signedMetadata(ACME, 'SubmitWithdrawal', submitBodyOf(req), { timestampMs: clock.now().getTime() });
  const res = (await call(client.submitWithdrawal.bind(client) as never, req, md)) as { withdrawal: WireWithdrawal };
  return res.withdrawal.withdrawalId;
}

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `intake-test-${rand()}`, logLevel: 'nothing' }) });
  intake = await startIntake({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    timestampWindowMs: 60_000,
    perSourceLimit: { ratePerSecond: 100_000, burst: 100_000 },
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}intake.pipeline`,
    outboxPollIntervalMs: 50,
  });
  await intake.integrators.register(
    {
      clientId: ACME.clientId,
      scopes: ['read', 'withdraw'],
      allowedAssets: ['ETH'],
      rateLimit: { ratePerSecond: 10_000, burst: 10_000 },
      keys: [{ keyId: ACME.keyId, publicKey: ACME.publicKey }],
      customerAccounts: ['acct-1'],
    },
    clock.now(),
  );
  client = newClient(intake.grpcPort);
  observer = await bus.subscribe({
    groupId: `${prefix}observer`,
    topics: [`${prefix}${Topics.withdrawalStatus}`],
    handler: async (m) => {
      observed.push(protobufEnvelopeCodec.decode(m.value));
    },
  });
}, 120_000);

afterAll(async () => {
  client?.close();
  await observer?.stop();
  await intake?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('C-5.3-a pipeline events out of order: parked until their predecessor, nothing lost', () => {
  it('events published in reverse order end FINAL with the full history, streamed and evented in order', async () => {
    const id = await submit();
    const streamed: WireWithdrawal[] = [];
    const stream = client.watchWithdrawals(
      { customerAccount: '', withdrawalIds: [id] },
      signedMetadata(ACME, 'WatchWithdrawals', [['customer_account', ''], ['withdrawal_ids', [id]]], { timestampMs: clock.now().getTime() }),
    );
    stream.on('data', (m: { withdrawal: WireWithdrawal }) => streamed.push(m.withdrawal));
    stream.on('error', () => undefined);
    await waitFor(() => streamed.length >= 1, 10_000, () => 'current state first');

    // Reverse order: final first, the risk assessment (the first step) last.
    const ahead: Envelope[] = [];
    ahead.push(await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: id, txHash: '0xabc', state: TxState.TX_STATE_FINAL, confirmations: 12 })));
    ahead.push(await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: id, txHash: '0xabc', state: TxState.TX_STATE_CONFIRMED, confirmations: 1 })));
    ahead.push(await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: id, txHash: '0xabc', state: TxState.TX_STATE_BROADCAST })));
    ahead.push(await publish(Topics.txSigned, 'wallet-1', TxSigned.fromPartial({ withdrawalId: id, decisionId: 'd1', txHash: '0xabc' })));
    ahead.push(await publish(Topics.txPrepared, 'wallet-1', TxPrepared.fromPartial({ withdrawalId: id, decisionId: 'd1', sourceWallet: 'wallet-1' })));
    ahead.push(await publish(Topics.policyDecided, id, PolicyDecided.fromPartial({ decisionId: 'd1', withdrawalId: id, decision: PolicyDecision.POLICY_DECISION_ALLOW })));
    for (const e of ahead) await waitFor(() => inInbox(e.id), 20_000, () => `${e.type} handled`);

    // All handled (inbox), none applied: each is parked, in arrival order per withdrawal.
    expect(await stateOf(id)).toBe('REQUESTED');
    const parked = await db.admin<{ event_id: string; topic: string }>('SELECT event_id, topic FROM intake_pending_event WHERE withdrawal_id = $1 ORDER BY arrival', [id]);
    expect(new Set(parked.map((p) => p.event_id))).toEqual(new Set(ahead.map((e) => e.id)));
    expect(parked.map((p) => p.topic).sort()).toEqual(ahead.map((e) => e.type).sort());

    // Redelivery of a parked event is absorbed by the inbox: no second parked row, no effect.
    // A marker behind it on the same topic and key (same partition) shows it was consumed.
    const final = ahead[0] as Envelope;
    await publish(Topics.txStatus, 'wallet-1', TxStatus.decode(final.payload), final.id);
    const marker = await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: '00000000-0000-4000-8000-000000000000', txHash: '0xdef', state: TxState.TX_STATE_BROADCAST }));
    await waitFor(() => inInbox(marker.id), 20_000, () => 'marker handled');
    expect(await db.admin('SELECT 1 FROM intake_pending_event WHERE withdrawal_id = $1', [id])).toHaveLength(ahead.length);
    expect(await stateOf(id)).toBe('REQUESTED');

    // The first step arrives: everything parked applies, in the pipeline's order, in one go.
    await publish(Topics.riskAssessed, id, RiskAssessed.fromPartial({ assessmentId: 'a1', withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR }));
    await waitFor(async () => (await stateOf(id)) === 'FINAL', 20_000, () => 'FINAL');
    const expected = ['REQUESTED', 'SCREENED', 'APPROVED', 'PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED', 'FINAL'];
    expect(await history(id)).toEqual(expected);
    expect(await db.admin('SELECT 1 FROM intake_pending_event WHERE withdrawal_id = $1', [id])).toHaveLength(0);
    const [row] = await db.admin<{ tx_hash: string; confirmations: number }>('SELECT tx_hash, confirmations FROM withdrawal WHERE id = $1', [id]);
    expect(row).toEqual({ tx_hash: '0xabc', confirmations: 12 });

    // withdrawal.status on Kafka (withdrawal.requested is its own topic): one per transition, in order.
    const toStatus = (s: string): WithdrawalStatus => WithdrawalStatus[`WITHDRAWAL_STATUS_${s === 'PREPARED' ? 'SIGNING' : s === 'FINAL' ? 'COMPLETED' : s}` as keyof typeof WithdrawalStatus] as WithdrawalStatus;
    const statusEvents = () => observed.filter((e) => e.key === id).map((e) => decodePayload(e)).flatMap((d) => (d.type === Topics.withdrawalStatus ? [d.message] : []));
    await waitFor(() => statusEvents().length >= expected.length - 1, 20_000, () => `status events on Kafka (${statusEvents().length})`);
    expect(statusEvents().map((m) => [m.previousStatus, m.status])).toEqual(expected.slice(1).map((s, i) => [toStatus(expected[i] as string), toStatus(s)]));

    // WatchWithdrawals: the current state, then each change in order.
    await waitFor(() => streamed.some((w) => w.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED), 10_000, () => 'final state streamed');
    expect(streamed.map((w) => w.state)).toEqual([
      WithdrawalState.WITHDRAWAL_STATE_REQUESTED,
      WithdrawalState.WITHDRAWAL_STATE_SCREENED,
      WithdrawalState.WITHDRAWAL_STATE_APPROVED,
      WithdrawalState.WITHDRAWAL_STATE_SIGNING,
      WithdrawalState.WITHDRAWAL_STATE_SIGNED,
      WithdrawalState.WITHDRAWAL_STATE_BROADCAST,
      WithdrawalState.WITHDRAWAL_STATE_CONFIRMED,
      WithdrawalState.WITHDRAWAL_STATE_COMPLETED,
    ]);
    stream.cancel();
  });

  it('a stale event is dropped and an event for a terminal withdrawal changes nothing', async () => {
    const id = await submit();
    await publish(Topics.riskAssessed, id, RiskAssessed.fromPartial({ assessmentId: 'a2', withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR }));
    await publish(Topics.policyDecided, id, PolicyDecided.fromPartial({ decisionId: 'd2', withdrawalId: id, decision: PolicyDecision.POLICY_DECISION_ALLOW }));
    await waitFor(async () => (await stateOf(id)) === 'APPROVED', 20_000, () => 'APPROVED');
    // Behind: a second (older) policy decision arrives after the withdrawal moved past it.
    const stale = await publish(Topics.policyDecided, id, PolicyDecided.fromPartial({ decisionId: 'd1', withdrawalId: id, decision: PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL }));
    await waitFor(() => inInbox(stale.id), 20_000, () => 'stale handled');
    expect(await stateOf(id)).toBe('APPROVED');
    expect(await db.admin('SELECT 1 FROM intake_pending_event WHERE withdrawal_id = $1', [id])).toHaveLength(0);
    // Ahead, then the withdrawal fails before it applies: the parked event is dropped with it.
    const early = await publish(Topics.txStatus, 'wallet-2', TxStatus.fromPartial({ withdrawalId: id, txHash: '0x1', state: TxState.TX_STATE_BROADCAST }));
    await waitFor(() => inInbox(early.id), 20_000, () => 'early handled');
    expect(await db.admin('SELECT 1 FROM intake_pending_event WHERE withdrawal_id = $1', [id])).toHaveLength(1);
    await publish(Topics.txStatus, 'wallet-2', TxStatus.fromPartial({ withdrawalId: id, state: TxState.TX_STATE_FAILED, reasonCode: 'PREPARE_FAILED' }));
    await waitFor(async () => (await stateOf(id)) === 'FAILED', 20_000, () => 'FAILED');
    expect(await db.admin('SELECT 1 FROM intake_pending_event WHERE withdrawal_id = $1', [id])).toHaveLength(0);
    const late = await publish(Topics.txStatus, 'wallet-2', TxStatus.fromPartial({ withdrawalId: id, txHash: '0x1', state: TxState.TX_STATE_FINAL, confirmations: 12 }));
    await waitFor(() => inInbox(late.id), 20_000, () => 'late handled');
    const [row] = await db.admin<{ state: string; reason_code: string }>('SELECT state, reason_code FROM withdrawal WHERE id = $1', [id]);
    expect(row).toEqual({ state: 'FAILED', reason_code: 'PREPARE_FAILED' });
    expect(await history(id)).toEqual(['REQUESTED', 'SCREENED', 'APPROVED', 'FAILED']);
  });
});
