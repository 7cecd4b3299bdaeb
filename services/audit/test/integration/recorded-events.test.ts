// custody.audit.recorded.v1 on real PostgreSQL + Kafka, read back with kcat (librdkafka, not
// our client) and decoded with protobufjs reflection from the .proto files (not our generated
// code): an outside party can hold the audit service to its history from the topic alone —
// it recomputes each announced operator record's hash from the canonical encoding
// (docs/audit.md) and checks each checkpoint's Ed25519 signature with node:crypto.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { AUDIT_LOG_KEY, Topics } from '@custody/contracts';
import { KafkaBus, createKafkaClient, protobufEnvelopeCodec, type EventBus } from '@custody/event-bus';
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
  type TestDatabase,
} from './support.js';

const prefix = `t${rand()}.`;
const topic = prefixedTopics(prefix);
const recordedTopic = topic(Topics.auditRecorded);
const protoDir = fileURLToPath(new URL('../../../../proto/', import.meta.url));
const signer = LocalEd25519Signer.generate('audit-k1');
let db: TestDatabase;
let bus: KafkaBus;
let audit: AuditHandle | undefined;

// --- an outside party's tools: kcat, protobufjs, node:crypto -------------------------------
interface Announced {
  readonly key: string;
  readonly envelope: { id: string; type: string; key: string; producer: string; correlationId: string };
  readonly message: {
    kind: string;
    sequence: string;
    prevHash: Buffer;
    recordHash: Buffer;
    eventId: string;
    eventType: string;
    correlationId: string;
    signature: Buffer;
    signingKeyId: string;
    recordedAt?: { seconds: string; nanos: number };
    actor: string;
    causationId: string;
    producer: string;
    occurredAt?: { seconds: string; nanos: number };
    payloadDigest: Buffer;
  };
}

let root: protobuf.Root;
function loadProtos(): protobuf.Root {
  const r = new protobuf.Root();
  // Our files from proto/; google/protobuf/* from protobufjs's bundled well-known types.
  r.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : `${protoDir}${target}`);
  r.loadSync(['custody/events/v1/envelope.proto', 'custody/events/v1/audit.proto'], { keepCase: false });
  return r;
}

/** Every message on the topic, via kcat: `%R` = 4-byte big-endian length, then the bytes. */
function readWithKcat(): Announced[] {
  const keyed = execFileSync(requireEnv('KCAT_BIN'), ['-b', requireEnv('KAFKA_BROKERS'), '-C', '-t', recordedTopic, '-o', 'beginning', '-e', '-q', '-f', '%K%k%R%s'], {
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  const envelopeType = root.lookupType('custody.events.v1.EventEnvelope');
  const recordedType = root.lookupType('custody.events.v1.AuditRecorded');
  const out: Announced[] = [];
  for (let at = 0; at < keyed.length; ) {
    // %K is the key length as text; the key follows, then %R (binary) and the value.
    const keyLenText = /^-?\d+/.exec(keyed.subarray(at, at + 12).toString('latin1'))?.[0];
    if (keyLenText === undefined) throw new Error(`unparseable kcat output at ${at}`);
    at += keyLenText.length;
    const key = keyed.subarray(at, at + Number(keyLenText)).toString('utf8');
    at += Number(keyLenText);
    const valueLen = keyed.readInt32BE(at);
    at += 4;
    const value = keyed.subarray(at, at + valueLen);
    at += valueLen;
    const envelope = envelopeType.toObject(envelopeType.decode(value), { longs: String, defaults: true }) as Announced['envelope'] & { payload: Buffer };
    const message = recordedType.toObject(recordedType.decode(envelope.payload), { longs: String, enums: String, defaults: true }) as Announced['message'];
    out.push({ key, envelope, message });
  }
  return out;
}

const ms = (t: { seconds: string; nanos: number } | undefined): number => Number(t?.seconds ?? 0) * 1000 + Math.floor((t?.nanos ?? 0) / 1e6);
const field = (b: Buffer): Buffer => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
};
const u64 = (v: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(v);
  return b;
};
const i64 = (v: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(v));
  return b;
};
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** record_hash recomputed from the announced fields alone (docs/audit.md "Canonical encoding"). */
function outsideRecordHash(m: Announced['message']): Buffer {
  const parts = [u64(BigInt(m.sequence)), m.prevHash, i64(ms(m.occurredAt)), i64(ms(m.recordedAt)), utf8('operator'), utf8(m.actor), utf8(m.eventType), utf8(m.eventId), utf8(m.correlationId), utf8(m.causationId), utf8(m.producer), m.payloadDigest];
  return createHash('sha256').update(Buffer.concat([utf8('custody.audit.v1.record\0'), ...parts.map(field)])).digest();
}

/** The checkpoint's signature checked with node:crypto against the audit public key. */
function outsideCheckpointVerifies(m: Announced['message'], publicKey: Uint8Array): boolean {
  const signed = Buffer.concat([utf8('custody.audit.v1.checkpoint\0'), ...[u64(BigInt(m.sequence)), m.recordHash, i64(ms(m.recordedAt)), utf8(m.signingKeyId)].map(field)]);
  const key = createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), Buffer.from(publicKey)]), format: 'der', type: 'spki' });
  return verifySignature(null, signed, key, m.signature);
}

// --------------------------------------------------------------------------------------------
const start = (onBus: EventBus, group: string): Promise<AuditHandle> =>
  startAudit({ bus: onBus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), signer, checkpointIntervalMs: 0, topicName: topic, consumerGroupId: group, outboxPollIntervalMs: 50 });
const recordHashAt = async (sequence: string): Promise<string> =>
  (await db.admin<{ h: Buffer }>(`SELECT record_hash AS h FROM audit_record WHERE sequence = $1`, [sequence]))[0]?.h.toString('hex') ?? 'missing';

beforeAll(async () => {
  root = loadProtos();
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `audit-recorded-${rand()}`, logLevel: 'nothing' }) });
});

afterAll(async () => {
  await audit?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('custody.audit.recorded.v1: checkpoints and operator actions announced through the outbox, readable by outside tools', () => {
  const actions = [operatorAction({ operatorId: 'op-alice' }), operatorAction({ operatorId: 'op-bob', requestDigest: new Uint8Array(32).fill(7) })];
  const group = `audit-${rand()}`;
  let checkpointSequence = '';

  beforeAll(async () => {
    // Phase 1 — "crash between append and publish": the relay cannot publish (its bus refuses),
    // the records and the checkpoint are committed, then this audit instance goes away.
    const refusing: EventBus = {
      publish: () => Promise.reject(new Error('broker unreachable (test: crash before publish)')),
      subscribe: (options) => bus.subscribe(options),
      close: () => Promise.resolve(),
    };
    const first = await start(refusing, group);
    try {
      await first.gate.record(actions[0]!);
      const bus1 = withdrawalRequestedEnvelope('6f1b8a52-3c1e-4a7f-9b0e-2d4c6e8f0a11', `corr-${rand()}`);
      await bus.publish([{ topic: topic(Topics.withdrawalRequested), key: bus1.key, value: protobufEnvelopeCodec.encode(bus1) }]);
      await waitFor(async () => (await db.admin(`SELECT 1 FROM audit_record WHERE event_id = $1`, [bus1.id])).length === 1, 30_000, () => 'bus event recorded');
      await first.gate.record(actions[1]!);
      const cp = await first.checkpoint();
      checkpointSequence = cp?.sequence.toString() ?? '';
    } finally {
      await first.stop();
    }
    // Phase 2 — a new instance with a working bus publishes what the outbox kept.
    audit = await start(bus, group);
    await waitFor(async () => (await db.admin(`SELECT 1 FROM outbox WHERE published_at IS NULL`)).length === 0, 30_000, () => 'outbox drained');
  });

  it('an instance that could not publish lost nothing: the announcements committed with their records and the next instance published all 3', async () => {
    const rows = await db.admin<{ n: string; published: string }>(`SELECT count(*)::text AS n, count(published_at)::text AS published FROM outbox`);
    // 2 operator actions + 1 checkpoint; the bus-event record is not announced on its own.
    expect(rows[0]).toEqual({ n: '3', published: '3' });
    expect(checkpointSequence).toBe('3');
  });

  it('kcat reads exactly one message per announcement, all under the audit-log key, in chain order', async () => {
    const messages = readWithKcat();
    expect(messages.map((m) => [m.message.kind, m.message.sequence])).toEqual([
      ['AUDIT_RECORDED_KIND_OPERATOR_ACTION', '1'],
      ['AUDIT_RECORDED_KIND_OPERATOR_ACTION', '3'],
      ['AUDIT_RECORDED_KIND_CHECKPOINT', '3'],
    ]);
    for (const m of messages) {
      expect(m.key).toBe(AUDIT_LOG_KEY);
      expect(m.envelope).toMatchObject({ type: Topics.auditRecorded, key: AUDIT_LOG_KEY, producer: 'audit' });
    }
    expect(new Set(messages.map((m) => m.envelope.id)).size).toBe(3);
  });

  it('an outside party recomputes each operator record hash from the message alone, and it equals the stored chain', async () => {
    const operators = readWithKcat().filter((m) => m.message.kind === 'AUDIT_RECORDED_KIND_OPERATOR_ACTION');
    expect(operators.map((m) => m.message.actor)).toEqual(['op-alice', 'op-bob']);
    for (const { message } of operators) {
      expect(outsideRecordHash(message).toString('hex')).toBe(message.recordHash.toString('hex'));
      expect(message.recordHash.toString('hex')).toBe(await recordHashAt(message.sequence));
      expect(message.eventType).toBe('policy.bundle.activate');
    }
    // Record 3 links to record 2 (the bus event, not announced) — the chain is continuous.
    expect(operators[1]?.message.prevHash.toString('hex')).toBe(await recordHashAt('2'));
    // The operator's request digest is in the hashed payload (its digest is announced).
    const payload = (await db.admin<{ p: Buffer }>(`SELECT payload AS p FROM audit_record WHERE sequence = 3`))[0]?.p ?? Buffer.alloc(0);
    expect(JSON.parse(payload.toString('utf8'))).toMatchObject({ request_digest: '07'.repeat(32) });
    expect(createHash('sha256').update(payload).digest('hex')).toBe(operators[1]?.message.payloadDigest.toString('hex'));
  });

  it('the checkpoint carries sequence, head hash, key id and an Ed25519 signature that verifies with node:crypto (and fails for a changed hash)', async () => {
    const checkpoint = readWithKcat().find((m) => m.message.kind === 'AUDIT_RECORDED_KIND_CHECKPOINT')?.message;
    expect(checkpoint).toBeDefined();
    if (!checkpoint) return;
    expect(checkpoint.signingKeyId).toBe('audit-k1');
    expect(checkpoint.recordHash.toString('hex')).toBe(await recordHashAt('3'));
    expect(outsideCheckpointVerifies(checkpoint, signer.publicKey)).toBe(true);
    const forged = { ...checkpoint, recordHash: Buffer.from(checkpoint.recordHash).fill(0, 0, 1) };
    expect(outsideCheckpointVerifies(forged, signer.publicKey)).toBe(false);
    expect((await audit?.verify())?.ok).toBe(true);
  });

  it('a failed append announces nothing (INSERT revoked: no record, no outbox row)', async () => {
    const before = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM outbox`);
    await db.admin(`REVOKE INSERT ON audit_record FROM "${db.appRole}"`);
    try {
      await expect(audit?.gate.record(operatorAction())).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    } finally {
      await db.admin(`GRANT INSERT ON audit_record TO "${db.appRole}"`);
    }
    expect(await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM outbox`)).toEqual(before);
  });
});
