// The delivery contract on the real Kafka broker (scripts/infra/kafka.sh), plus what only
// Kafka can do to us: the broker restarting mid-stream.
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { KafkaBus, createKafkaClient, ensureTopics, withDeadLetterTopics, type EventBus, type KafkaErrorContext } from '../../src/index.js';
import { DRAIN_TIMEOUT_MS, Scenario, runBusContract, type BusFixture } from './bus-contract.js';
import {
  createTestDatabase,
  effectCount,
  effectSummary,
  produce,
  randomSuffix,
  range,
  requireEnv,
  sequencedEvents,
  startEffectConsumer,
  unpublishedCount,
  waitFor,
  type TestDatabase,
} from './support.js';

const execFileAsync = promisify(execFile);

interface FixtureOptions {
  readonly errors?: { error: unknown; context: KafkaErrorContext }[];
  /** Small kafkajs retry budgets, so an outage outlasts them and the bus's own recovery runs. */
  readonly impatient?: boolean;
}

async function makeKafkaBus(options: FixtureOptions = {}): Promise<BusFixture> {
  const errors = options.errors ?? [];
  const impatient = { initialRetryTime: 100, maxRetryTime: 500, retries: 2 };
  const kafka = createKafkaClient({
    brokers: requireEnv('KAFKA_BROKERS').split(','),
    clientId: `bus-contract-${randomSuffix()}`,
    logLevel: 'nothing',
    ...(options.impatient ? { extra: { retry: impatient } } : {}),
  });
  const admin = kafka.admin();
  await admin.connect();
  const inner = new KafkaBus({
    kafka,
    consumer: {
      sessionTimeout: 10_000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      commitIntervalMs: 100,
      ...(options.impatient ? { retry: impatient } : {}),
    },
    ...(options.impatient ? { producerRetry: impatient } : {}),
    redeliveryBackoff: { initialMs: 20, maxMs: 500 },
    restartBackoff: { initialMs: 500, maxMs: 3000 },
    onError: (error, context) => void errors.push({ error, context }),
  });
  const topics: string[] = [];
  const groups = new Set<string>();
  const bus: EventBus = {
    publish: (messages) => inner.publish(messages),
    subscribe: (options) => {
      groups.add(options.groupId);
      return inner.subscribe(options);
    },
    close: () => inner.close(),
  };
  return {
    bus,
    async createTopics(names, partitions) {
      const specs = withDeadLetterTopics(names.map((topic) => ({ topic, partitions })));
      const result = await ensureTopics(admin, specs);
      expect(result.created).toEqual(specs.map((s) => s.topic));
      topics.push(...result.created);
    },
    async close() {
      await inner.close();
      // Best effort: the broker may be restarting; the names are unique per test anyway.
      await admin.deleteGroups([...groups]).catch(() => undefined);
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 10_000 }).catch(() => undefined);
      await admin.disconnect();
    },
  };
}

runBusContract('Kafka bus', () => makeKafkaBus());

describe('Kafka bus: the broker restarts mid-stream', () => {
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

  it('relay and consumer recover by themselves: all 1,000 effects exactly once, each key in order', async () => {
    const errors: { error: unknown; context: KafkaErrorContext }[] = [];
    const s = (scenario = await Scenario.open(db, () => makeKafkaBus({ errors, impatient: true }), 4));
    const groupId = `effects-${randomSuffix()}`;
    const consumer = await startEffectConsumer(s.bus, s.dataSource, { groupId, topic: s.topic });
    s.stoppers.push(consumer.stop);
    s.startRelay();

    const events = sequencedEvents(20, 50);
    const [before, during] = [events.slice(0, 300), events.slice(300)];
    await produce(s.dataSource, s.topic, before, { perTransaction: 20 });
    await waitFor(async () => (await effectCount(s.dataSource, groupId)) >= 200, DRAIN_TIMEOUT_MS, () => '200 effects before the restart');

    const pidFile = resolve(process.cwd(), '.local/kafka/kafka.pid');
    const pidBefore = readFileSync(pidFile, 'utf8').trim();
    // Restart while the relay, the consumer and the producer keep running (async, so they
    // really run into the outage instead of being frozen through it). The producer keeps
    // committing events, slowly, until the broker is back, so the relay has work during
    // the outage.
    let restarted = false;
    const restart = execFileAsync('bash', [resolve(process.cwd(), 'scripts/infra/kafka.sh'), 'restart'], { cwd: process.cwd(), timeout: 150_000 }).finally(() => {
      restarted = true;
    });
    for (let start = 0; start < during.length; start += 10) {
      await produce(s.dataSource, s.topic, during.slice(start, start + 10));
      if (!restarted) await new Promise((r) => setTimeout(r, 100));
    }
    await restart;
    expect(readFileSync(pidFile, 'utf8').trim()).not.toBe(pidBefore);

    await waitFor(
      async () => (await effectCount(s.dataSource, groupId)) >= events.length && consumer.stats.deliveries >= s.bus.count(s.topic),
      150_000,
      () => `effects of ${events.length}; deliveries ${consumer.stats.deliveries}, published ${s.bus.count(s.topic)}; ${errors.length} bus errors, ${s.relayErrors.length} relay errors`,
    );
    // the clients did run into the outage (and got over it by themselves)
    expect(errors.length + s.relayErrors.length).toBeGreaterThan(0);
    const summary = await effectSummary(s.dataSource, groupId);
    expect(summary.rows).toBe(1000);
    expect(summary.distinctEvents).toBe(1000);
    expect(consumer.stats.violations).toEqual([]);
    expect(summary.perKey.size).toBe(20);
    for (const seqs of summary.perKey.values()) expect(seqs).toEqual(range(1, 50));
    expect(await unpublishedCount(s.dataSource)).toBe(0);
  }, 300_000);
});
