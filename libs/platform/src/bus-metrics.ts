// Prometheus adapter for the event bus's optional metrics hooks (`BusMetrics` of
// @custody/event-bus): custody_bus_consumed_total, custody_bus_dead_letters_total and
// custody_bus_outbox_oldest_pending_seconds, as docs/metrics.md specifies. Only a type is
// imported from the bus (no cycle: event-bus never imports platform). Labels stay bounded:
// topics and consumer groups are declared up front (anything else is recorded as "other"),
// outcome and code are the bus's own enums; never an id, a key or an amount.
import { ALL_TOPICS } from '@custody/contracts';
import type { BusMetrics, ConsumeOutcome, DeadLetterCode } from '@custody/event-bus';
import type { Registry } from 'prom-client';
import { OTHER_LABEL_VALUE, createCounter, createGauge } from './metrics.js';

const OUTCOMES: readonly ConsumeOutcome[] = ['ok', 'error'];
const DEAD_LETTER_CODES: readonly DeadLetterCode[] = ['DECODE_FAILED', 'HANDLER_FAILED', 'RETRIES_EXHAUSTED'];

export interface BusMetricsOptions {
  /** Topic names the service produces or consumes (as the bus sees them); default: every known topic. */
  readonly topics?: readonly string[];
  /** Consumer group ids of the service; default none (recorded as "other"). */
  readonly groups?: readonly string[];
}

/** The bus's metrics hooks, recording into `registry`. Pass the result to the bus, OutboxRelay and withDeadLetter. */
export function createBusMetrics(registry: Registry, options: BusMetricsOptions = {}): BusMetrics {
  const topics = [...new Set(options.topics ?? ALL_TOPICS)];
  const groups = options.groups && options.groups.length > 0 ? [...new Set(options.groups)] : [OTHER_LABEL_VALUE];
  const consumed = createCounter(registry, {
    name: 'custody_bus_consumed_total',
    help: 'Handler invocations by topic, consumer group and outcome (ok: committed, error: redelivered).',
    labels: { topic: topics, group: groups, outcome: OUTCOMES },
  });
  const deadLetters = createCounter(registry, {
    name: 'custody_bus_dead_letters_total',
    help: 'Messages written to <topic>.dlq, by source topic, consumer group and dead-letter code.',
    labels: { topic: topics, group: groups, code: DEAD_LETTER_CODES },
  });
  const oldestPending = createGauge(registry, {
    name: 'custody_bus_outbox_oldest_pending_seconds',
    help: 'Age in seconds of the oldest unpublished outbox row (0 when none), at the last relay poll.',
  });
  return {
    consumed: (topic, groupId, outcome) => consumed.inc({ topic, group: groupId, outcome }),
    deadLettered: (topic, groupId, code) => deadLetters.inc({ topic, group: groupId, code }),
    relayLag: (oldestPendingSeconds) => oldestPending.set({}, oldestPendingSeconds),
  };
}
