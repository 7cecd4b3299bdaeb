// The EventBus contract, run against every adapter (kafka-bus.test.ts,
// in-process-bus.test.ts) with the real Postgres for the outbox and the inbox:
//  outbox -> relay -> bus -> consumer -> inbox + effect, exactly-once effects, per-key
//  order, relay death between broker ack and DB commit, dead letters, consumer groups.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import type { DataSource } from 'typeorm';
import {
  DeadLetterHeaders,
  deadLetterTopicFor,
  OutboxRelay,
  PostgresOutboxStore,
  protobufDeadLetterCodec,
  protobufEnvelopeCodec,
  type DeadLetterCode,
  type EventBus,
  type IncomingMessage,
  type OutboxRelayOptions,
} from '../../src/index.js';
import {
  CountingBus,
  NonRetryableError,
  createTestDatabase,
  effectCount,
  effectSummary,
  openServiceSchema,
  produce,
  randomSuffix,
  range,
  sequencedEvents,
  startEffectConsumer,
  unpublishedCount,
  waitFor,
  type TestDatabase,
} from './support.js';

export interface BusFixture {
  readonly bus: EventBus;
  /** Creates each topic and its `.dlq` twin with `partitions` partitions. */
  createTopics(topics: readonly string[], partitions: number): Promise<void>;
  /** Stops everything and deletes what createTopics created. */
  close(): Promise<void>;
}

export type MakeBus = () => Promise<BusFixture>;

/** How long a pipeline may take to drain; a bound, not an expectation. */
export const DRAIN_TIMEOUT_MS = 90_000;

/** A test's resources, torn down after it whatever happened. */
export class Scenario {
  readonly relays: OutboxRelay[] = [];
  readonly stoppers: (() => Promise<void>)[] = [];
  readonly relayErrors: unknown[] = [];
  bus!: CountingBus;
  dataSource!: DataSource;
  fixture!: BusFixture;
  readonly topic = `bus-contract.${randomSuffix()}.events.v1`;

  static async open(db: TestDatabase, makeBus: MakeBus, partitions: number): Promise<Scenario> {
    const scenario = new Scenario();
    scenario.fixture = await makeBus();
    scenario.bus = new CountingBus(scenario.fixture.bus);
    scenario.dataSource = await openServiceSchema(db, `svc_${randomSuffix()}`);
    await scenario.fixture.createTopics([scenario.topic], partitions);
    return scenario;
  }

  startRelay(options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(this.dataSource),
      bus: this.bus,
      batchSize: 100,
      pollIntervalMs: 20,
      errorBackoff: { initialMs: 100, maxMs: 1000 },
      onError: (error) => this.relayErrors.push(error),
      ...options,
    });
    this.relays.push(relay);
    relay.start();
    return relay;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.relays.map((relay) => relay.stop()));
    await Promise.allSettled(this.stoppers.map((stop) => stop()));
    await this.fixture?.close().catch(() => undefined);
    if (this.dataSource?.isInitialized) await this.dataSource.destroy();
  }
}

export function runBusContract(name: string, makeBus: MakeBus): void {
  describe(`${name}: outbox -> bus -> inbox delivery contract`, () => {
    let db: TestDatabase;
    let scenario: Scenario | undefined;

    beforeAll(async () => {
      db = await createTestDatabase();
    });
    afterEach(async () => {
      await scenario?.close();
      scenario = undefined;
    });
    afterAll(async () => {
      await db?.drop();
    });

    it('delivers 1,000 events (20 keys x 50) with every effect exactly once and each key in order', async () => {
      const s = (scenario = await Scenario.open(db, makeBus, 4));
      const groupId = `effects-${randomSuffix()}`;
      const consumer = await startEffectConsumer(s.bus, s.dataSource, { groupId, topic: s.topic });
      s.stoppers.push(consumer.stop);
      s.startRelay();
      const events = sequencedEvents(20, 50);
      await produce(s.dataSource, s.topic, events, { perTransaction: 25 });

      await waitFor(
        async () => (await effectCount(s.dataSource, groupId)) >= events.length && consumer.stats.deliveries >= s.bus.count(s.topic),
        DRAIN_TIMEOUT_MS,
        () => `effects of ${events.length}; deliveries ${consumer.stats.deliveries}, published ${s.bus.count(s.topic)}`,
      );
      const summary = await effectSummary(s.dataSource, groupId);
      expect(summary.rows).toBe(1000);
      expect(summary.distinctEvents).toBe(1000);
      expect(consumer.stats.violations).toEqual([]);
      expect(summary.perKey.size).toBe(20);
      for (const seqs of summary.perKey.values()) expect(seqs).toEqual(range(1, 50));
      expect(await unpublishedCount(s.dataSource)).toBe(0);
      expect(s.bus.count(s.topic)).toBeGreaterThanOrEqual(1000);
    });

    it('survives the relay dying between the broker ack and the DB commit: the batch is republished and absorbed by the inbox', async () => {
      const s = (scenario = await Scenario.open(db, makeBus, 4));
      const groupId = `effects-${randomSuffix()}`;
      const events = sequencedEvents(20, 50);
      await produce(s.dataSource, s.topic, events, { perTransaction: 50 });
      const consumer = await startEffectConsumer(s.bus, s.dataSource, { groupId, topic: s.topic });
      s.stoppers.push(consumer.stop);

      let batches = 0;
      let diedAfter: readonly string[] = [];
      const doomed = s.startRelay();
      doomed.hooks.afterPublishBeforeMark = (batch) => {
        if (++batches === 3) {
          diedAfter = batch.ids;
          throw new Error('simulated SIGKILL after broker ack, before commit');
        }
      };
      await expect(doomed.done).rejects.toMatchObject({ code: 'RELAY_CRASHED' });
      expect(doomed.state).toBe('crashed');
      expect(diedAfter).toHaveLength(100);
      // Two batches were marked; the third was acknowledged by the broker but not marked.
      expect(await unpublishedCount(s.dataSource)).toBe(800);

      s.startRelay(); // a new relay instance (the "restarted process")
      await waitFor(
        async () => (await effectCount(s.dataSource, groupId)) >= events.length && consumer.stats.deliveries >= s.bus.count(s.topic),
        DRAIN_TIMEOUT_MS,
        () => `effects of ${events.length}; deliveries ${consumer.stats.deliveries}, published ${s.bus.count(s.topic)}`,
      );
      expect(s.bus.count(s.topic)).toBe(1100); // the dead relay's last batch went out twice
      expect(consumer.stats.deliveries).toBeGreaterThanOrEqual(1100);
      expect(consumer.stats.duplicates).toBeGreaterThanOrEqual(100);
      const summary = await effectSummary(s.dataSource, groupId);
      expect(summary.rows).toBe(1000);
      expect(summary.distinctEvents).toBe(1000);
      expect(consumer.stats.violations).toEqual([]);
      for (const seqs of summary.perKey.values()) expect(seqs).toEqual(range(1, 50));
      expect(await unpublishedCount(s.dataSource)).toBe(0);
    });

    it('dead-letters a poison message, an exhausted retry and undecodable bytes with the reason, and the partition moves on', async () => {
      const s = (scenario = await Scenario.open(db, makeBus, 3));
      const groupId = `effects-${randomSuffix()}`;
      const dlqTopic = deadLetterTopicFor(s.topic);
      const deadLettered: DeadLetterCode[] = [];
      const consumer = await startEffectConsumer(s.bus, s.dataSource, {
        groupId,
        topic: s.topic,
        maxAttempts: 3,
        metrics: { deadLettered: (_topic, _group, code) => void deadLettered.push(code) },
        failOn: ({ key, seq }) => {
          if (key === 'poison' && seq === 5) return new NonRetryableError('poisoned: seq 5 can never be applied');
          if (key === 'flaky' && seq === 3) return new Error('downstream unavailable');
          return undefined;
        },
      });
      s.stoppers.push(consumer.stop);
      const dlq: IncomingMessage[] = [];
      const reader = await s.bus.subscribe({ groupId: `dlq-reader-${randomSuffix()}`, topics: [dlqTopic], handler: async (m) => void dlq.push(m) });
      s.stoppers.push(() => reader.stop());
      s.startRelay();

      const events = range(1, 10).flatMap((seq) => [
        { key: 'poison', seq },
        { key: 'flaky', seq },
        ...range(0, 4).map((k) => ({ key: `ok-${k}`, seq })),
      ]);
      const envelopes = await produce(s.dataSource, s.topic, events, { perTransaction: 10 });
      const garbage = new Uint8Array([0xde, 0xad, 0xbe, 0xef]);
      await s.bus.publish([{ topic: s.topic, key: 'garbage', value: garbage, headers: { origin: 'test' } }]);

      const expectedEffects = events.length - 2;
      await waitFor(
        async () => dlq.length >= 3 && (await effectCount(s.dataSource, groupId)) >= expectedEffects,
        DRAIN_TIMEOUT_MS,
        () => `3 dead letters (have ${dlq.length}) and ${expectedEffects} effects`,
      );
      expect(dlq).toHaveLength(3);
      const byCode = new Map(dlq.map((m) => [m.headers[DeadLetterHeaders.code], m]));
      expect([...byCode.keys()].sort()).toEqual(['DECODE_FAILED', 'HANDLER_FAILED', 'RETRIES_EXHAUSTED']);
      expect([...deadLettered].sort()).toEqual(['DECODE_FAILED', 'HANDLER_FAILED', 'RETRIES_EXHAUSTED']);

      const poison = byCode.get('HANDLER_FAILED')!;
      const poisonEnvelope = envelopes.filter((e) => e.key === 'poison')[4]!;
      expect(poison.key).toBe('poison');
      expect(poison.headers).toMatchObject({
        [DeadLetterHeaders.errorClass]: 'NonRetryableError',
        [DeadLetterHeaders.errorMessage]: 'poisoned: seq 5 can never be applied',
        [DeadLetterHeaders.originalTopic]: s.topic,
        [DeadLetterHeaders.consumerGroup]: groupId,
        [DeadLetterHeaders.attempts]: '1',
        'event-id': poisonEnvelope.id,
      });
      const poisonRecord = protobufDeadLetterCodec.decode(poison.value);
      expect(poisonRecord).toMatchObject({ code: 'HANDLER_FAILED', topic: s.topic, consumerGroup: groupId, attempts: 1 });
      expect(poisonRecord.reason).toBe('NonRetryableError: poisoned: seq 5 can never be applied');
      expect(String(poisonRecord.partition)).toBe(poison.headers[DeadLetterHeaders.originalPartition]);
      expect(poisonRecord.offset).toBe(poison.headers[DeadLetterHeaders.originalOffset]);
      expect(protobufEnvelopeCodec.decode(poisonRecord.originalValue).id).toBe(poisonEnvelope.id);

      const exhausted = protobufDeadLetterCodec.decode(byCode.get('RETRIES_EXHAUSTED')!.value);
      expect(exhausted).toMatchObject({ code: 'RETRIES_EXHAUSTED', attempts: 3, reason: 'Error: downstream unavailable' });
      expect(JSON.parse(new TextDecoder().decode(protobufEnvelopeCodec.decode(exhausted.originalValue).payload))).toMatchObject({ key: 'flaky', seq: 3 });

      const undecodable = byCode.get('DECODE_FAILED')!;
      expect(undecodable.key).toBe('garbage');
      expect(undecodable.headers.origin).toBe('test');
      expect(Uint8Array.from(protobufDeadLetterCodec.decode(undecodable.value).originalValue)).toEqual(garbage);
      expect(undecodable.headers[DeadLetterHeaders.errorClass]).toBe('EventBusError');

      // Everything else was applied, including what came after the failures on their partitions.
      const summary = await effectSummary(s.dataSource, groupId);
      expect(summary.perKey.get('poison')).toEqual([1, 2, 3, 4, 6, 7, 8, 9, 10]);
      expect(summary.perKey.get('flaky')).toEqual([1, 2, 4, 5, 6, 7, 8, 9, 10]);
      for (let k = 0; k < 5; k++) expect(summary.perKey.get(`ok-${k}`)).toEqual(range(1, 10));
      expect(summary.rows).toBe(expectedEffects);
      expect(summary.distinctEvents).toBe(expectedEffects);
      // the order check saw the gaps the dead letters left, and nothing else
      expect([...consumer.stats.violations].sort()).toEqual(['flaky: got seq 4 after 2', 'poison: got seq 6 after 4']);
    });

    it('gives each group every event once, with the members of a group sharing the partitions', async () => {
      const s = (scenario = await Scenario.open(db, makeBus, 4));
      const shared = `shared-${randomSuffix()}`;
      const solo = `solo-${randomSuffix()}`;
      const pair = await startEffectConsumer(s.bus, s.dataSource, { groupId: shared, topic: s.topic, members: 2 });
      s.stoppers.push(pair.stop);
      const single = await startEffectConsumer(s.bus, s.dataSource, { groupId: solo, topic: s.topic });
      s.stoppers.push(single.stop);
      s.startRelay();
      const events = sequencedEvents(16, 20);
      await produce(s.dataSource, s.topic, events, { perTransaction: 40 });

      await waitFor(
        async () =>
          (await effectCount(s.dataSource, shared)) >= events.length &&
          (await effectCount(s.dataSource, solo)) >= events.length &&
          pair.stats.deliveries >= s.bus.count(s.topic) &&
          single.stats.deliveries >= s.bus.count(s.topic),
        DRAIN_TIMEOUT_MS,
        () => `both groups to apply ${events.length} events`,
      );
      for (const groupId of [shared, solo]) {
        const summary = await effectSummary(s.dataSource, groupId);
        expect(summary.rows).toBe(events.length);
        expect(summary.distinctEvents).toBe(events.length);
        for (const seqs of summary.perKey.values()) expect(seqs).toEqual(range(1, 20));
      }
      expect(pair.stats.violations).toEqual([]);
      expect(single.stats.violations).toEqual([]);
      // both members of the shared group got work, and between them they covered every partition
      const [first, second] = [pair.stats.partitionsByMember.get(0)!, pair.stats.partitionsByMember.get(1)!];
      expect(first.size).toBeGreaterThan(0);
      expect(second.size).toBeGreaterThan(0);
      expect(new Set([...first, ...second]).size).toBe(4);
    });
  });
}
