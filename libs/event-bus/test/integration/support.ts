// Shared plumbing for the event-bus integration tests: a throw-away database on the real
// Postgres, a service schema migrated with the bus tables, a sequenced producer writing
// through the outbox, and a consumer writing effects through the inbox.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DataSource, type EntityManager, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  CreateEventBusTables1795478400000,
  createEnvelope,
  enqueue,
  handleOnce,
  NonRetryableError,
  protobufEnvelopeCodec,
  withDeadLetter,
  type Envelope,
  type EventBus,
  type IncomingMessage,
  type OutgoingMessage,
  type SubscribeOptions,
  type Subscription,
} from '../../src/index.js';

export const EVENT_TYPE = 'custody.test.sequenced.v1';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

export const randomSuffix = (): string => randomBytes(5).toString('hex');

/** Polls until `condition` holds; fails with `describe()` after `timeoutMs`. Bounded in count and time. */
export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let polls = 0; polls < 1_000_000; polls++) {
    if (await condition()) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${describe()}`);
}

// --- database -------------------------------------------------------------------------

export interface TestDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const name = `bus_test_${randomSuffix()}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

class CreateTestTables1795478400001 implements MigrationInterface {
  readonly name = 'CreateTestTables1795478400001';
  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = (queryRunner.dataSource.options as { schema: string }).schema;
    // The producer's state (changed in the same transaction as the outbox insert) and the
    // consumer's effects. No unique constraint on effects: a double effect must be visible.
    await queryRunner.query(`CREATE TABLE "${schema}"."producer_state" ("key" text PRIMARY KEY, "last_seq" integer NOT NULL)`);
    await queryRunner.query(`CREATE TABLE "${schema}"."effects" ("group_id" text NOT NULL, "event_id" text NOT NULL, "key" text NOT NULL, "seq" integer NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = (queryRunner.dataSource.options as { schema: string }).schema;
    await queryRunner.query(`DROP TABLE "${schema}"."effects"`);
    await queryRunner.query(`DROP TABLE "${schema}"."producer_state"`);
  }
}

/** A DataSource on a fresh schema of `db`, migrated with the bus tables (what a service does). */
export async function openServiceSchema(db: TestDatabase, schema: string): Promise<DataSource> {
  const bootstrap = new pg.Client({ connectionString: db.url });
  await bootstrap.connect();
  try {
    await bootstrap.query(`CREATE SCHEMA "${schema}"`);
  } finally {
    await bootstrap.end();
  }
  const dataSource = new DataSource({
    type: 'postgres',
    url: db.url,
    schema,
    synchronize: false,
    logging: false,
    migrations: [CreateEventBusTables1795478400000, CreateTestTables1795478400001],
    extra: { max: 12 },
  });
  await dataSource.initialize();
  await dataSource.runMigrations({ transaction: 'each' });
  return dataSource;
}

// --- producing --------------------------------------------------------------------------

export interface SequencedEvent {
  readonly key: string;
  readonly seq: number;
}

/** keys × perKey events, ordered seq-major so every transaction mixes keys: (k0,1) (k1,1) ... (k0,2) ... */
export function sequencedEvents(keys: number, perKey: number, prefix = 'key'): SequencedEvent[] {
  const events: SequencedEvent[] = [];
  for (let seq = 1; seq <= perKey; seq++) for (let k = 0; k < keys; k++) events.push({ key: `${prefix}-${k}`, seq });
  return events;
}

const json = new TextEncoder();

export function envelopeFor(event: SequencedEvent, extra: Record<string, unknown> = {}): Envelope {
  return createEnvelope({
    type: EVENT_TYPE,
    key: event.key,
    correlationId: `corr-${event.key}`,
    producer: 'bus-contract-test',
    schemaVersion: 1,
    payload: json.encode(JSON.stringify({ key: event.key, seq: event.seq, ...extra })),
  });
}

/** Writes events through the outbox, `perTransaction` at a time, each transaction also updating producer_state. */
export async function produce(
  dataSource: DataSource,
  topic: string,
  events: readonly SequencedEvent[],
  options: { perTransaction?: number; extra?: (event: SequencedEvent) => Record<string, unknown>; pauseMs?: number } = {},
): Promise<Envelope[]> {
  const perTransaction = options.perTransaction ?? 25;
  const schema = (dataSource.options as { schema: string }).schema;
  const envelopes: Envelope[] = [];
  for (let start = 0; start < events.length; start += perTransaction) {
    const chunk = events.slice(start, start + perTransaction);
    const batch = chunk.map((event) => envelopeFor(event, options.extra?.(event)));
    await dataSource.transaction(async (manager) => {
      for (const event of chunk) {
        await manager.query(
          `INSERT INTO "${schema}"."producer_state" ("key", "last_seq") VALUES ($1, $2)
           ON CONFLICT ("key") DO UPDATE SET "last_seq" = EXCLUDED."last_seq"`,
          [event.key, event.seq],
        );
      }
      await enqueue(manager, batch.map((envelope) => ({ topic, envelope })));
    });
    envelopes.push(...batch);
    if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
  }
  return envelopes;
}

// --- counting what the bus carried ----------------------------------------------------------

/** An EventBus decorator that counts acknowledged messages per topic. */
export class CountingBus implements EventBus {
  readonly published = new Map<string, number>();
  constructor(readonly inner: EventBus) {}
  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    await this.inner.publish(messages);
    for (const m of messages) this.published.set(m.topic, (this.published.get(m.topic) ?? 0) + 1);
  }
  subscribe(options: SubscribeOptions): Promise<Subscription> {
    return this.inner.subscribe(options);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  count(topic: string): number {
    return this.published.get(topic) ?? 0;
  }
}

// --- consuming ------------------------------------------------------------------------------

const fromJson = new TextDecoder();

export interface EffectConsumerStats {
  /** Messages that reached the handler (duplicates included). */
  deliveries: number;
  /** Inbox said "already handled". */
  duplicates: number;
  /** Per-key order violations seen inside the effect transaction. */
  readonly violations: string[];
  /** Partitions each member handled (member index -> partitions). */
  readonly partitionsByMember: Map<number, Set<number>>;
}

export interface EffectConsumerOptions {
  readonly groupId: string;
  readonly topic: string;
  /** Members to start in this group. Default 1. */
  readonly members?: number;
  /** Throws inside the effect for some events (for DLQ tests). */
  readonly failOn?: (payload: { key: string; seq: number }, attempt: number) => Error | undefined;
  readonly maxAttempts?: number;
  readonly metrics?: Parameters<typeof withDeadLetter>[0]['metrics'];
}

/**
 * Subscribes `members` consumers of one group. Each message: decode the envelope, then in
 * ONE transaction insert the inbox row and the effect; the effect checks that its seq is
 * exactly the key's last seq + 1 (per-key order, no gaps).
 */
export async function startEffectConsumer(
  bus: EventBus,
  dataSource: DataSource,
  options: EffectConsumerOptions,
): Promise<{ stats: EffectConsumerStats; stop(): Promise<void> }> {
  const schema = (dataSource.options as { schema: string }).schema;
  const stats: EffectConsumerStats = { deliveries: 0, duplicates: 0, violations: [], partitionsByMember: new Map() };
  const subscriptions: Subscription[] = [];
  const members = options.members ?? 1;
  for (let member = 0; member < members; member++) {
    stats.partitionsByMember.set(member, new Set());
    const handler = withDeadLetter<Envelope>({
      bus,
      decode: (message: IncomingMessage) => protobufEnvelopeCodec.decode(message.value),
      maxAttempts: options.maxAttempts ?? 3,
      backoff: { initialMs: 20, maxMs: 100 },
      ...(options.metrics ? { metrics: options.metrics } : {}),
      handle: async (envelope, message, context) => {
        stats.deliveries++;
        stats.partitionsByMember.get(member)!.add(message.partition);
        const payload = JSON.parse(fromJson.decode(envelope.payload)) as { key: string; seq: number };
        const outcome = await handleOnce(dataSource, options.groupId, envelope, async (manager: EntityManager) => {
          const failure = options.failOn?.(payload, context.attempt);
          if (failure) throw failure;
          const [last] = (await manager.query(
            `SELECT coalesce(max("seq"), 0)::int AS "seq" FROM "${schema}"."effects" WHERE "group_id" = $1 AND "key" = $2`,
            [options.groupId, envelope.key],
          )) as { seq: number }[];
          if (payload.seq !== last!.seq + 1) stats.violations.push(`${envelope.key}: got seq ${payload.seq} after ${last!.seq}`);
          await manager.query(`INSERT INTO "${schema}"."effects" ("group_id", "event_id", "key", "seq") VALUES ($1, $2, $3, $4)`, [
            options.groupId,
            envelope.id,
            envelope.key,
            payload.seq,
          ]);
        });
        if (outcome.status === 'duplicate') stats.duplicates++;
      },
    });
    subscriptions.push(await bus.subscribe({ groupId: options.groupId, topics: [options.topic], handler }));
  }
  return {
    stats,
    async stop() {
      await Promise.all(subscriptions.map((s) => s.stop()));
    },
  };
}

export { NonRetryableError };

export interface EffectSummary {
  readonly rows: number;
  readonly distinctEvents: number;
  readonly perKey: Map<string, number[]>;
}

export async function effectSummary(dataSource: DataSource, groupId: string): Promise<EffectSummary> {
  const schema = (dataSource.options as { schema: string }).schema;
  const [counts] = (await dataSource.query(
    `SELECT count(*)::int AS "rows", count(DISTINCT "event_id")::int AS "distinct" FROM "${schema}"."effects" WHERE "group_id" = $1`,
    [groupId],
  )) as { rows: number; distinct: number }[];
  const rows = (await dataSource.query(`SELECT "key", "seq" FROM "${schema}"."effects" WHERE "group_id" = $1 ORDER BY "key", "seq"`, [groupId])) as {
    key: string;
    seq: number;
  }[];
  const perKey = new Map<string, number[]>();
  for (const row of rows) perKey.set(row.key, [...(perKey.get(row.key) ?? []), row.seq]);
  return { rows: counts!.rows, distinctEvents: counts!.distinct, perKey };
}

export async function effectCount(dataSource: DataSource, groupId: string): Promise<number> {
  const schema = (dataSource.options as { schema: string }).schema;
  const [row] = (await dataSource.query(`SELECT count(*)::int AS "n" FROM "${schema}"."effects" WHERE "group_id" = $1`, [groupId])) as { n: number }[];
  return row!.n;
}

export async function unpublishedCount(dataSource: DataSource): Promise<number> {
  const schema = (dataSource.options as { schema: string }).schema;
  const [row] = (await dataSource.query(`SELECT count(*)::int AS "n" FROM "${schema}"."outbox" WHERE "published_at" IS NULL`)) as { n: number }[];
  return row!.n;
}

/** The schema a test DataSource was opened on. */
export const schemaName = (dataSource: DataSource): string => (dataSource.options as { schema: string }).schema;

export const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
