// Throughput and end-to-end latency of outbox -> bus -> inbox, on the in-process bus and
// on the real Kafka broker. Run: scripts/bench.sh event-bus [--events N] [--bus kafka|in-process|both]
// Needs the local infrastructure (npm run infra:up); reads .local/infra.env through bench.sh.
import { parseArgs } from 'node:util';
import { InProcessBus, KafkaBus, createKafkaClient, ensureTopics, withDeadLetterTopics } from '@custody/event-bus';
import { runPipeline, type PipelineResult } from './support/bus-pipeline.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '5000' },
    keys: { type: 'string', default: '100' },
    partitions: { type: 'string', default: '6' },
    'per-transaction': { type: 'string', default: '50' },
    /** Second run per bus, paced: latency without a backlog. 0 skips it. */
    rate: { type: 'string', default: '200' },
    'paced-events': { type: 'string', default: '1000' },
    bus: { type: 'string', default: 'both' },
  },
});

function positive(name: string, raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
  return n;
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run npm run infra:up, then scripts/bench.sh event-bus`);
  return value;
}

const events = positive('events', values.events);
const keys = positive('keys', values.keys);
const partitions = positive('partitions', values.partitions);
const perTransaction = positive('per-transaction', values['per-transaction']);
const rate = Number(values.rate);
if (!Number.isInteger(rate) || rate < 0) throw new Error(`--rate must be an integer >= 0, got ${values.rate}`);
const pacedEvents = positive('paced-events', values['paced-events']);
const which = values.bus;
if (!['both', 'kafka', 'in-process'].includes(which ?? '')) throw new Error(`--bus must be kafka, in-process or both, got ${which}`);
const pgAdminUrl = env('CUSTODY_PG_ADMIN_URL');
const common = { pgAdminUrl, keys, partitions, timeoutMs: 300_000 };
/** The throughput run (producer flat out, big transactions), then the paced run (small transactions at --rate). */
const runs = [
  { events, perTransaction, ratePerSecond: 0 },
  ...(rate > 0 ? [{ events: pacedEvents, perTransaction: 5, ratePerSecond: rate }] : []),
];
const results: PipelineResult[] = [];

if (which === 'both' || which === 'in-process') {
  const bus = new InProcessBus();
  try {
    for (const run of runs) {
      results.push(await runPipeline({ ...common, ...run, label: 'in-process bus', bus, createTopic: async (topic, n) => bus.ensureTopic(topic, n) }));
    }
  } finally {
    await bus.close();
  }
}

if (which === 'both' || which === 'kafka') {
  const kafka = createKafkaClient({ brokers: env('KAFKA_BROKERS').split(','), clientId: 'event-bus-bench', logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  const bus = new KafkaBus({ kafka, consumer: { partitionsConsumedConcurrently: partitions, maxWaitTimeInMs: 50 } });
  const topics: string[] = [];
  try {
    const createTopic = async (topic: string, n: number): Promise<void> => {
      const specs = withDeadLetterTopics([{ topic, partitions: n }]);
      await ensureTopics(admin, specs);
      topics.push(...specs.map((s) => s.topic));
    };
    for (const run of runs) results.push(await runPipeline({ ...common, ...run, label: 'Kafka bus', bus, createTopic }));
  } finally {
    await bus.close();
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  }
}

const fmt = (n: number, digits = 1): string => n.toFixed(digits);
console.log(`\nevent-bus: ${keys} keys, ${partitions} partitions; throughput run: ${events} events, ${perTransaction} per producer transaction, unpaced;`);
console.log(`paced run: ${rate > 0 ? `${pacedEvents} events, 5 per transaction, at ${rate} events/s` : 'skipped'}`);
console.log('path: producer tx (state + outbox) -> relay -> bus -> consumer (inbox + effect, one tx per event)');
console.log('latency: effect committed - occurredAt (set just before the producer transaction)\n');
console.log('bus              producer   events  events/s   total s   produce s   p50 ms   p99 ms   max ms   effects  dups');
for (const r of results) {
  const pace = r.ratePerSecond > 0 ? `${r.ratePerSecond}/s` : 'flat out';
  console.log(
    `${r.label.padEnd(16)} ${pace.padStart(8)} ${String(r.events).padStart(8)} ${fmt(r.eventsPerSecond, 0).padStart(9)} ${fmt(r.seconds, 2).padStart(9)} ${fmt(r.produceSeconds, 2).padStart(11)} ${fmt(r.p50Ms).padStart(8)} ${fmt(r.p99Ms).padStart(8)} ${fmt(r.maxMs).padStart(8)} ${String(r.effects).padStart(9)} ${String(r.duplicates).padStart(5)}`,
  );
  if (r.effects !== r.events) {
    console.error(`${r.label}: ${r.effects} distinct effects for ${r.events} events`);
    process.exitCode = 1;
  }
}
