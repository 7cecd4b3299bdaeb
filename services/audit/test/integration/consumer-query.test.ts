// Audit on real Kafka + PostgreSQL: it consumes every custody topic exactly once, and the
// gRPC query API tells one withdrawal's whole story by correlation id.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ALL_TOPICS, AuditQueryServiceClient, Topics, WithdrawalStatus, type AuditRecord } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { LocalEd25519Signer, prefixedTopics, startAudit, type AuditHandle } from '../../src/index.js';
import {
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  operatorAction,
  quietLogger,
  rand,
  requireEnv,
  waitFor,
  withdrawalRequestedEnvelope,
  withdrawalStatusEnvelope,
  type TestDatabase,
} from './support.js';

const prefix = `t${rand()}.`;
const topic = prefixedTopics(prefix);
let db: TestDatabase;
let bus: KafkaBus;
let audit: AuditHandle;
let client: AuditQueryServiceClient;

type Page = { records: AuditRecord[]; nextPageToken: string; chainVerified: boolean };
type Unary<Req> = (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Page) => void) => unknown;
const call = <Req>(fn: Unary<Req>, req: Req): Promise<Page> =>
  new Promise((resolve, reject) => {
    fn.call(client, req, new Metadata(), (err, res) => (err ? reject(err) : resolve(res)));
  });
const failure = async (p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> => {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
};

const publish = (envelope: Envelope, t: string = envelope.type) =>
  bus.publish([{ topic: topic(t as (typeof ALL_TOPICS)[number]), key: envelope.key, value: protobufEnvelopeCodec.encode(envelope) }]);
const count = async (): Promise<number> => Number((await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM audit_record`))[0]?.n ?? 0);

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `audit-test-${rand()}`, logLevel: 'nothing' }) });
  audit = await startAudit({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    signer: LocalEd25519Signer.generate('audit-k1'),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    checkpointIntervalMs: 0,
    topicName: topic,
    consumerGroupId: `audit-${rand()}`,
  });
  client = new AuditQueryServiceClient(`127.0.0.1:${audit.grpcPort}`, credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await audit?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

const withdrawalId = '6f1b8a52-3c1e-4a7f-9b0e-2d4c6e8f0a11';
const correlationId = `corr-${rand()}`;
const t0 = new Date('2026-11-24T08:00:00.000Z');
const at = (s: number): Date => new Date(t0.getTime() + s * 1000);

describe('C-9.3.9.4-a trace one withdrawal end to end by its correlation id (Kafka -> audit -> gRPC)', () => {
  const requested = withdrawalRequestedEnvelope(withdrawalId, correlationId, at(0));
  const story = [
    requested,
    withdrawalStatusEnvelope(withdrawalId, correlationId, WithdrawalStatus.WITHDRAWAL_STATUS_SCREENED, requested.id, 'intake', at(1)),
    withdrawalStatusEnvelope(withdrawalId, correlationId, WithdrawalStatus.WITHDRAWAL_STATUS_APPROVED, requested.id, 'intake', at(2)),
    withdrawalStatusEnvelope(withdrawalId, correlationId, WithdrawalStatus.WITHDRAWAL_STATUS_COMPLETED, requested.id, 'intake', at(3)),
  ];
  // Unrelated traffic on every other topic (the payload need not decode: audit records bytes as received).
  const noise = ALL_TOPICS.filter((t) => t !== Topics.auditRecorded).map((t, i) =>
    createEnvelope({ type: t, key: `k${i}`, correlationId: `other-${i}`, producer: 'chain-adapter', schemaVersion: 1, payload: new Uint8Array([i]), occurredAt: at(100 + i) }),
  );

  beforeAll(async () => {
    for (const e of story) await publish(e);
    for (const e of noise) await publish(e);
    // Redelivery of an already recorded event (at-least-once bus): must not be recorded twice.
    await publish(story[1] as Envelope);
    await waitFor(async () => (await count()) >= story.length + noise.length, 30_000, () => 'all events recorded');
    // Give a duplicate the chance to be (wrongly) appended before counting exactly.
    await publish(story[2] as Envelope);
    const marker = withdrawalRequestedEnvelope('00000000-0000-4000-8000-000000000001', `marker-${rand()}`, at(200));
    await publish(marker);
    await waitFor(async () => (await db.admin(`SELECT 1 FROM audit_record WHERE event_id = $1`, [marker.id])).length === 1, 30_000, () => 'marker recorded');
  });

  it('records one record per event from every subscribed topic, each exactly once', async () => {
    const rows = await db.admin<{ event_id: string; action: string }>(`SELECT event_id, action FROM audit_record`);
    const ids = rows.map((r) => r.event_id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of [...story, ...noise]) expect(ids.filter((id) => id === e.id)).toHaveLength(1);
    expect(new Set(rows.map((r) => r.action))).toEqual(new Set([...ALL_TOPICS.filter((t) => t !== Topics.auditRecorded)]));
  });

  it('QueryByCorrelation returns the whole story in order, with envelopes as received and a verified chain', async () => {
    const page = await call(client.queryByCorrelation, { correlationId, pageSize: 0, pageToken: '' });
    // Recorded in arrival order (events of different topics may arrive in any order);
    // occurred_at tells the story's own order.
    expect(new Set(page.records.map((r) => r.eventId))).toEqual(new Set(story.map((e) => e.id)));
    expect(page.records).toHaveLength(story.length);
    const byOccurrence = [...page.records].sort((a, b) => Number(a.occurredAt?.seconds) - Number(b.occurredAt?.seconds));
    expect(byOccurrence.map((r) => r.eventId)).toEqual(story.map((e) => e.id));
    expect(page.chainVerified).toBe(true);
    const sequences = page.records.map((r) => BigInt(r.sequence));
    expect([...sequences].sort((a, b) => (a < b ? -1 : 1))).toEqual(sequences);
    const decoded = protobufEnvelopeCodec.decode(byOccurrence[0]?.envelope as Uint8Array);
    expect(decoded).toMatchObject({ id: requested.id, type: Topics.withdrawalRequested, correlationId, producer: 'intake' });
    expect(byOccurrence[1]).toMatchObject({ kind: 'event', actor: 'intake', causationId: requested.id, eventType: Topics.withdrawalStatus });
  });

  it('pages by sequence token', async () => {
    const first = await call(client.queryByCorrelation, { correlationId, pageSize: 3, pageToken: '' });
    expect(first.records).toHaveLength(3);
    expect(first.nextPageToken).not.toBe('');
    const second = await call(client.queryByCorrelation, { correlationId, pageSize: 3, pageToken: first.nextPageToken });
    expect(second.records).toHaveLength(1);
    expect(BigInt(second.records[0]?.sequence ?? '0')).toBeGreaterThan(BigInt(first.records[2]?.sequence ?? '0'));
    expect(new Set([...first.records, ...second.records].map((r) => r.eventId))).toEqual(new Set(story.map((e) => e.id)));
    expect(second.nextPageToken).toBe('');
  });

  it('QueryByActor and QueryByTimeRange select by actor and occurred_at', async () => {
    await audit.gate.record(operatorAction({ operatorId: 'op-bob', occurredAt: at(50) }));
    const bob = await call(client.queryByActor, { actor: 'op-bob', pageSize: 0, pageToken: '' });
    expect(bob.records).toHaveLength(1);
    expect(bob.records[0]).toMatchObject({ kind: 'operator', actor: 'op-bob', eventType: 'policy.bundle.activate' });
    expect(bob.chainVerified).toBe(true);
    const window = await call(client.queryByTimeRange, { startTime: { seconds: String(at(1).getTime() / 1000), nanos: 0 }, endTime: { seconds: String(at(3).getTime() / 1000), nanos: 0 }, pageSize: 0, pageToken: '' });
    expect(window.records.map((r) => r.eventId)).toEqual([story[1]?.id, story[2]?.id]);
    const chainAdapter = await call(client.queryByActor, { actor: 'chain-adapter', startTime: { seconds: String(at(100).getTime() / 1000), nanos: 0 }, pageSize: 0, pageToken: '' });
    expect(chainAdapter.records).toHaveLength(noise.length);
  });

  it('bad queries are INVALID_ARGUMENT with a reason, and a tampered record shows chain_verified = false', async () => {
    expect(await failure(call(client.queryByCorrelation, { correlationId: '', pageSize: 0, pageToken: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED' });
    expect(await failure(call(client.queryByCorrelation, { correlationId, pageSize: 501, pageToken: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'PAGE_SIZE_INVALID' });
    expect(await failure(call(client.queryByCorrelation, { correlationId, pageSize: 0, pageToken: 'abc' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'PAGE_TOKEN_INVALID' });
    expect(await failure(call(client.queryByTimeRange, { pageSize: 0, pageToken: '' }))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'TIME_RANGE_INVALID' });
    await db.admin('SET session_replication_role = replica');
    try {
      await db.admin(`UPDATE audit_record SET producer = 'policy' WHERE event_id = $1`, [story[2]?.id]);
    } finally {
      await db.admin('SET session_replication_role = origin');
    }
    const page = await call(client.queryByCorrelation, { correlationId, pageSize: 0, pageToken: '' });
    expect(page.chainVerified).toBe(false);
    const report = await audit.verify();
    const seq = (await db.admin<{ s: string }>(`SELECT sequence::text AS s FROM audit_record WHERE event_id = $1`, [story[2]?.id]))[0]?.s;
    expect(report.firstBreak).toMatchObject({ sequence: BigInt(seq ?? '0'), kind: 'RECORD_HASH_MISMATCH' });
  });
});

describe('fail closed on the bus: while the log is unwritable, events wait on the bus and are recorded once it is back', () => {
  it('INSERT revoked -> the event is not acknowledged and not recorded; restored -> recorded exactly once', async () => {
    const e = withdrawalRequestedEnvelope('7a7a7a7a-0000-4000-8000-000000000007', `outage-${rand()}`, at(300));
    await db.admin(`REVOKE INSERT ON audit_record FROM "${db.appRole}"`);
    try {
      await publish(e);
      // Several failed attempts (the bus retries in place); nothing recorded meanwhile.
      await new Promise((resolve) => setTimeout(resolve, 2_500));
      expect(await db.admin(`SELECT 1 FROM audit_record WHERE event_id = $1`, [e.id])).toEqual([]);
    } finally {
      await db.admin(`GRANT INSERT ON audit_record TO "${db.appRole}"`);
    }
    await waitFor(async () => (await db.admin(`SELECT 1 FROM audit_record WHERE event_id = $1`, [e.id])).length === 1, 60_000, () => 'event recorded after restore');
    expect(await db.admin(`SELECT 1 FROM audit_record WHERE event_id = $1`, [e.id])).toHaveLength(1);
  });
});
