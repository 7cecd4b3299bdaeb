// One benchmark run of the full delivery path on a given bus:
//   producer transaction (state + outbox) -> relay -> bus -> consumer (inbox + effect).
// Latency of an event = effect committed - envelope.occurredAt (set just before its
// producer transaction), so it includes the outbox, the relay poll, the broker and the inbox.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  CreateEventBusTables1795478400000,
  OutboxRelay,
  PostgresOutboxStore,
  createEnvelope,
  enqueue,
  handleOnce,
  protobufEnvelopeCodec,
  withDeadLetter,
  type Envelope,
  type EventBus,
} from '@custody/event-bus';

export interface PipelineOptions {
  readonly label: string;
  readonly bus: EventBus;
  /** Creates the topic (and its .dlq) with `partitions` partitions. */
  readonly createTopic: (topic: string, partitions: number) => Promise<void>;
  readonly pgAdminUrl: string;
  readonly events: number;
  readonly keys: number;
  readonly partitions: number;
  readonly perTransaction: number;
  /** Producer pace in events/s; 0 = as fast as it can (a throughput run). */
  readonly ratePerSecond: number;
  readonly timeoutMs: number;
}

export interface PipelineResult {
  readonly label: string;
  readonly ratePerSecond: number;
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly produceSeconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly effects: number;
  readonly duplicates: number;
}

class CreateBenchTables1795478400002 implements MigrationInterface {
  readonly name = 'CreateBenchTables1795478400002';
  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = (queryRunner.dataSource.options as { schema: string }).schema;
    await queryRunner.query(`CREATE TABLE "${schema}"."state" ("key" text PRIMARY KEY, "seq" integer NOT NULL)`);
    await queryRunner.query(`CREATE TABLE "${schema}"."effects" ("event_id" text NOT NULL, "key" text NOT NULL, "seq" integer NOT NULL)`);
  }
  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = (queryRunner.dataSource.options as { schema: string }).schema;
    await queryRunner.query(`DROP TABLE "${schema}"."effects"; DROP TABLE "${schema}"."state"`);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function runPipeline(options: PipelineOptions): Promise<PipelineResult> {
  const suffix = randomBytes(4).toString('hex');
  const database = `bus_bench_${suffix}`;
  const schema = 'bench';
  const topic = `bench.${suffix}.events.v1`;
  const admin = new pg.Client({ connectionString: options.pgAdminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${database}"`);
  await admin.end();
  const url = new URL(options.pgAdminUrl);
  url.pathname = `/${database}`;
  const bootstrap = new pg.Client({ connectionString: url.toString() });
  await bootstrap.connect();
  await bootstrap.query(`CREATE SCHEMA "${schema}"`);
  await bootstrap.end();

  const dataSource = new DataSource({
    type: 'postgres',
    url: url.toString(),
    schema,
    synchronize: false,
    logging: false,
    migrations: [CreateEventBusTables1795478400000, CreateBenchTables1795478400002],
    extra: { max: options.partitions + 6 },
  });
  let relay: OutboxRelay | undefined;
  const stops: (() => Promise<void>)[] = [];
  try {
    await dataSource.initialize();
    await dataSource.runMigrations();
    await options.createTopic(topic, options.partitions);

    const latencies: number[] = [];
    let duplicates = 0;
    let lastEffectAt = 0;
    const groupId = `bench-${suffix}`;
    const handler = withDeadLetter<Envelope>({
      bus: options.bus,
      decode: (m) => protobufEnvelopeCodec.decode(m.value),
      handle: async (envelope) => {
        const { key, seq } = JSON.parse(decoder.decode(envelope.payload)) as { key: string; seq: number };
        const outcome = await handleOnce(dataSource, groupId, envelope, (manager) =>
          manager.query(`INSERT INTO "${schema}"."effects" ("event_id", "key", "seq") VALUES ($1, $2, $3)`, [envelope.id, key, seq]),
        );
        if (outcome.status === 'duplicate') {
          duplicates++;
          return;
        }
        lastEffectAt = performance.timeOrigin + performance.now();
        latencies.push(lastEffectAt - envelope.occurredAt.getTime());
      },
    });
    const subscription = await options.bus.subscribe({ groupId, topics: [topic], handler });
    stops.push(() => subscription.stop());
    relay = new OutboxRelay({ store: new PostgresOutboxStore(dataSource), bus: options.bus, batchSize: 500, pollIntervalMs: 10 });
    relay.start();

    const started = performance.now();
    for (let produced = 0; produced < options.events; ) {
      const count = Math.min(options.perTransaction, options.events - produced);
      const batch: { key: string; seq: number }[] = [];
      for (let i = 0; i < count; i++, produced++) batch.push({ key: `key-${produced % options.keys}`, seq: Math.floor(produced / options.keys) + 1 });
      await dataSource.transaction(async (manager) => {
        const now = new Date();
        const envelopes = batch.map((e) =>
          createEnvelope({
            type: 'custody.bench.sequenced.v1',
            key: e.key,
            correlationId: e.key,
            producer: 'bench',
            schemaVersion: 1,
            occurredAt: now,
            payload: encoder.encode(JSON.stringify(e)),
          }),
        );
        await manager.query(
          `INSERT INTO "${schema}"."state" ("key", "seq") SELECT * FROM unnest($1::text[], $2::int[])
           ON CONFLICT ("key") DO UPDATE SET "seq" = EXCLUDED."seq"`,
          [batch.map((e) => e.key), batch.map((e) => e.seq)],
        );
        await enqueue(manager, envelopes.map((envelope) => ({ topic, envelope })));
      });
      relay.notify();
      if (options.ratePerSecond > 0) {
        const due = started + (produced / options.ratePerSecond) * 1000;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
    const produceSeconds = (performance.now() - started) / 1000;
    const startedWall = performance.timeOrigin + started;

    const deadline = Date.now() + options.timeoutMs;
    while (latencies.length < options.events) {
      if (Date.now() > deadline) throw new Error(`${options.label}: only ${latencies.length} of ${options.events} effects after ${options.timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const seconds = (lastEffectAt - startedWall) / 1000;
    const [{ n }] = (await dataSource.query(`SELECT count(DISTINCT "event_id")::int AS "n" FROM "${schema}"."effects"`)) as [{ n: number }];
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      label: options.label,
      ratePerSecond: options.ratePerSecond,
      events: options.events,
      seconds,
      eventsPerSecond: options.events / seconds,
      produceSeconds,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      maxMs: sorted[sorted.length - 1] ?? Number.NaN,
      effects: n,
      duplicates,
    };
  } finally {
    await relay?.stop();
    for (const stop of stops) await stop().catch(() => undefined);
    if (dataSource.isInitialized) await dataSource.destroy();
    const cleanup = new pg.Client({ connectionString: options.pgAdminUrl });
    await cleanup.connect();
    await cleanup.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await cleanup.end();
  }
}
