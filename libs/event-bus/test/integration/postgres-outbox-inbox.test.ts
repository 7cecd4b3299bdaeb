// The Postgres side of the bus on its own (real Postgres; the in-process bus stands in for
// the broker): enqueue atomicity, relays that run side by side, the per-key guard against
// rows held by someone else, inbox de-duplication under concurrency, pruning, migrations.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource, EntityManager } from 'typeorm';
import {
  InProcessBus,
  OutboxRelay,
  PostgresOutboxStore,
  enqueue,
  handleOnce,
  protobufEnvelopeCodec,
  pruneOutbox,
  republishOutbox,
  type IncomingMessage,
} from '../../src/index.js';
import { CountingBus, createTestDatabase, effectSummary, envelopeFor, startEffectConsumer, openServiceSchema, produce, randomSuffix, range, schemaName, sequencedEvents, unpublishedCount, waitFor, type TestDatabase } from './support.js';

const decodeSeq = (m: IncomingMessage): { key: string; seq: number } =>
  JSON.parse(new TextDecoder().decode(protobufEnvelopeCodec.decode(m.value).payload)) as { key: string; seq: number };

describe('Postgres outbox, relay and inbox', () => {
  let db: TestDatabase;
  let dataSource: DataSource;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function schema(): Promise<DataSource> {
    dataSource = await openServiceSchema(db, `svc_${randomSuffix()}`);
    cleanups.push(() => dataSource.destroy());
    return dataSource;
  }

  it('enqueues only inside the caller’s transaction, and rolls back with it', async () => {
    const ds = await schema();
    const entry = { topic: 't', envelope: envelopeFor({ key: 'k', seq: 1 }) };
    await expect(enqueue(ds.manager, [entry])).rejects.toMatchObject({ code: 'OUTBOX_NOT_IN_TRANSACTION' });
    await expect(
      ds.transaction(async (manager) => {
        await enqueue(manager, [entry]);
        throw new Error('the state change failed');
      }),
    ).rejects.toThrow('the state change failed');
    expect(await unpublishedCount(ds)).toBe(0);
    await ds.transaction((manager) => enqueue(manager, [entry]));
    const [row] = (await ds.query(`SELECT "id", "topic", "key", "envelope", "attempts", "published_at" FROM "${schemaName(ds)}"."outbox"`)) as {
      id: string;
      topic: string;
      key: string;
      envelope: Buffer;
      attempts: number;
      published_at: Date | null;
    }[];
    expect(row).toMatchObject({ id: entry.envelope.id, topic: 't', key: 'k', attempts: 0, published_at: null });
    expect(protobufEnvelopeCodec.decode(row!.envelope).id).toBe(entry.envelope.id);
    // the same event id cannot be enqueued twice
    await expect(ds.transaction((manager) => enqueue(manager, [entry]))).rejects.toThrow(/duplicate key/);
  });

  it('lets two relay instances run side by side: every row is published once, each key in order', async () => {
    const ds = await schema();
    const bus = new CountingBus(new InProcessBus({ defaultPartitions: 4 }));
    cleanups.push(() => bus.close());
    const topic = `t-${randomSuffix()}`;
    const received: IncomingMessage[] = [];
    await bus.subscribe({ groupId: 'reader', topics: [topic], handler: async (m) => void received.push(m) });
    const relays = [0, 1].map(() => new OutboxRelay({ store: new PostgresOutboxStore(ds), bus, batchSize: 37, pollIntervalMs: 5 }));
    const batchesByRelay = [0, 0];
    relays.forEach((relay, i) => {
      relay.hooks.afterPublishBeforeMark = () => void batchesByRelay[i]!++;
      relay.start();
      cleanups.push(() => relay.stop());
    });
    const events = sequencedEvents(10, 60);
    await produce(ds, topic, events, { perTransaction: 15 });
    await waitFor(async () => (await unpublishedCount(ds)) === 0 && received.length >= events.length, 60_000, () => `${received.length} of ${events.length} received`);
    expect(bus.count(topic)).toBe(events.length); // no row was published twice
    expect(received).toHaveLength(events.length);
    const perKey = new Map<string, number[]>();
    for (const m of received) {
      const { key, seq } = decodeSeq(m);
      perKey.set(key, [...(perKey.get(key) ?? []), seq]);
    }
    for (const seqs of perKey.values()) expect(seqs).toEqual(range(1, 60));
    expect(batchesByRelay[0]! + batchesByRelay[1]!).toBeGreaterThan(1);
  });

  it('holds back a key whose oldest row someone else has locked, and publishes the other keys', async () => {
    const ds = await schema();
    const bus = new CountingBus(new InProcessBus({ defaultPartitions: 2 }));
    cleanups.push(() => bus.close());
    const topic = `t-${randomSuffix()}`;
    await produce(ds, topic, sequencedEvents(3, 4), { perTransaction: 12 });
    // Someone (a misconfigured relay with another lock name, an operator) holds key-1's oldest row.
    const intruder = ds.createQueryRunner();
    await intruder.connect();
    await intruder.startTransaction();
    cleanups.push(async () => {
      if (intruder.isTransactionActive) await intruder.rollbackTransaction();
      await intruder.release();
    });
    await intruder.query(`SELECT "id" FROM "${schemaName(ds)}"."outbox" WHERE "key" = 'key-1' ORDER BY "seq" LIMIT 1 FOR UPDATE`);

    const relay = new OutboxRelay({ store: new PostgresOutboxStore(ds), bus });
    const first = await relay.publishBatch();
    expect(first.published).toBe(8);
    const outbox = (await ds.query(`SELECT "key", count(*)::int AS "n" FROM "${schemaName(ds)}"."outbox" WHERE "published_at" IS NULL GROUP BY "key"`)) as {
      key: string;
      n: number;
    }[];
    expect(outbox).toEqual([{ key: 'key-1', n: 4 }]);

    await intruder.rollbackTransaction();
    expect((await relay.publishBatch()).published).toBe(4);
    const received: IncomingMessage[] = [];
    await bus.subscribe({ groupId: 'reader', topics: [topic], handler: async (m) => void received.push(m) });
    await waitFor(() => received.length === 12, 10_000, () => `${received.length} of 12`);
    expect(received.filter((m) => m.key === 'key-1').map((m) => decodeSeq(m).seq)).toEqual([1, 2, 3, 4]);
  });

  it('runs an effect once per event id, even when two deliveries race', async () => {
    const ds = await schema();
    const envelope = envelopeFor({ key: 'k', seq: 1 });
    const table = `"${schemaName(ds)}"."effects"`;
    const effect = async (manager: EntityManager): Promise<string> => {
      await manager.query(`INSERT INTO ${table} ("group_id", "event_id", "key", "seq") VALUES ('g', $1, 'k', 1)`, [envelope.id]);
      await new Promise((resolve) => setTimeout(resolve, 50)); // keep the first transaction open while the second arrives
      return 'applied';
    };
    const outcomes = await Promise.all([handleOnce(ds, 'g', envelope, effect), handleOnce(ds, 'g', envelope, effect)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['duplicate', 'handled']);
    expect(outcomes.find((o) => o.status === 'handled')).toEqual({ status: 'handled', result: 'applied' });
    // another group is independent
    expect((await handleOnce(ds, 'other-group', envelope, async () => 'x')).status).toBe('handled');
    const [{ n }] = (await ds.query(`SELECT count(*)::int AS "n" FROM ${table}`)) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('forgets a failed effect: the inbox row rolls back with it and the next delivery applies it', async () => {
    const ds = await schema();
    const envelope = envelopeFor({ key: 'k', seq: 1 });
    await expect(
      handleOnce(ds, 'g', envelope, async () => {
        throw new Error('effect failed');
      }),
    ).rejects.toThrow('effect failed');
    expect(await handleOnce(ds, 'g', envelope, async () => 42)).toEqual({ status: 'handled', result: 42 });
    expect(await handleOnce(ds, 'g', envelope, async () => 43)).toEqual({ status: 'duplicate' });
  });

  it('prunes only published rows older than the cut-off', async () => {
    const ds = await schema();
    const bus = new InProcessBus();
    cleanups.push(() => bus.close());
    await produce(ds, 't', sequencedEvents(2, 3), { perTransaction: 6 });
    const relay = new OutboxRelay({ store: new PostgresOutboxStore(ds), bus, batchSize: 4 });
    await relay.publishBatch(); // 4 of 6 published
    expect(await pruneOutbox(ds, { publishedBefore: new Date(Date.now() - 60_000) })).toBe(0);
    expect(await pruneOutbox(ds, { publishedBefore: new Date(Date.now() + 60_000) })).toBe(4);
    expect(await unpublishedCount(ds)).toBe(2);
  });

  it('embedded restart: the in-process log is gone, republishOutbox replays it and the inbox absorbs what was already applied', async () => {
    const ds = await schema();
    const topic = `t-${randomSuffix()}`;
    const events = sequencedEvents(5, 20);
    // first "process": everything published, only part of it consumed before the crash
    const before = new InProcessBus({ defaultPartitions: 2 });
    const firstRelay = new OutboxRelay({ store: new PostgresOutboxStore(ds), bus: before });
    await produce(ds, topic, events, { perTransaction: 100 });
    await firstRelay.publishBatch();
    expect(await unpublishedCount(ds)).toBe(0);
    let applied = 0;
    const early = await startEffectConsumer(before, ds, {
      groupId: 'ledger',
      topic,
      failOn: () => (applied++ >= 30 ? new Error('process is dying') : undefined),
    });
    await waitFor(() => applied > 40, 10_000, () => `${applied} handled before the crash`);
    await early.stop();
    await before.close(); // the crash: the in-memory log and offsets are gone
    const beforeCrash = await effectSummary(ds, 'ledger');
    expect(beforeCrash.rows).toBe(30);

    // second "process": fresh bus, replay, same group
    const after = new InProcessBus({ defaultPartitions: 2 });
    cleanups.push(() => after.close());
    expect(await republishOutbox(ds)).toBe(100);
    const consumer = await startEffectConsumer(after, ds, { groupId: 'ledger', topic });
    cleanups.push(consumer.stop);
    const relay = new OutboxRelay({ store: new PostgresOutboxStore(ds), bus: after, pollIntervalMs: 5 });
    relay.start();
    cleanups.push(() => relay.stop());
    // A delivery is counted when the handler starts; its effect commits a moment later.
    await waitFor(async () => consumer.stats.deliveries >= 100 && (await effectSummary(ds, 'ledger')).rows >= 100, 30_000, () => `${consumer.stats.deliveries} of 100 redelivered`);
    const summary = await effectSummary(ds, 'ledger');
    expect(summary.rows).toBe(100);
    expect(summary.distinctEvents).toBe(100);
    expect(consumer.stats.duplicates).toBe(30);
    expect(consumer.stats.violations).toEqual([]);
    for (const seqs of summary.perKey.values()) expect(seqs).toEqual(range(1, 20));
  });

  it('migrates down and up again', async () => {
    const ds = await schema();
    await ds.undoLastMigration(); // test tables
    await ds.undoLastMigration(); // bus tables
    const tables = async (): Promise<string[]> =>
      ((await ds.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_name IN ('outbox', 'inbox') ORDER BY 1`, [
        schemaName(ds),
      ])) as { table_name: string }[]).map((r) => r.table_name);
    expect(await tables()).toEqual([]);
    await ds.runMigrations();
    expect(await tables()).toEqual(['inbox', 'outbox']);
  });
});
