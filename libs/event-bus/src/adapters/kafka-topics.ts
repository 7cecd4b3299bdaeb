// Topic administration: create what is missing, refuse what disagrees. The partition
// count of a topic is part of its ordering contract (key -> partition), so an existing
// topic with a different count is an error, never silently "fixed".
import type { Admin } from 'kafkajs';
import { deadLetterTopicFor } from '../dead-letter-record.js';
import { EventBusError } from '../errors.js';

export interface TopicSpec {
  readonly topic: string;
  readonly partitions: number;
  /** Default: the broker's default.replication.factor. */
  readonly replicationFactor?: number;
  /** Topic configs, e.g. { 'min.insync.replicas': '2', 'retention.ms': '-1' }. */
  readonly config?: Readonly<Record<string, string>>;
}

export interface EnsureTopicsResult {
  readonly created: readonly string[];
  readonly existing: readonly string[];
}

/** Creates the missing topics (waiting for their leaders) and checks the partition count of all. */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[]): Promise<EnsureTopicsResult> {
  const names = new Set<string>();
  for (const spec of specs) {
    if (typeof spec.topic !== 'string' || spec.topic.length === 0) throw new EventBusError('INVALID_ARGUMENT', 'ensureTopics: topic must be a non-empty string');
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new EventBusError('INVALID_ARGUMENT', `ensureTopics: ${spec.topic}: partitions must be a positive integer, got ${spec.partitions}`);
    }
    if (names.has(spec.topic)) throw new EventBusError('INVALID_ARGUMENT', `ensureTopics: ${spec.topic} is listed twice`);
    names.add(spec.topic);
  }
  if (specs.length === 0) return { created: [], existing: [] };
  const present = new Set(await admin.listTopics());
  const missing = specs.filter((spec) => !present.has(spec.topic));
  if (missing.length > 0) {
    await admin.createTopics({
      waitForLeaders: true,
      topics: missing.map((spec) => ({
        topic: spec.topic,
        numPartitions: spec.partitions,
        replicationFactor: spec.replicationFactor ?? -1,
        configEntries: Object.entries(spec.config ?? {}).map(([name, value]) => ({ name, value })),
      })),
    });
  }
  const { topics } = await admin.fetchTopicMetadata({ topics: specs.map((spec) => spec.topic) });
  for (const spec of specs) {
    const actual = topics.find((t) => t.name === spec.topic)?.partitions.length;
    if (actual !== spec.partitions) {
      throw new EventBusError(
        'TOPIC_PARTITIONS_MISMATCH',
        `topic ${spec.topic} has ${actual ?? 'no'} partitions, expected ${spec.partitions}; changing the count moves keys between partitions, so migrate to a new topic version instead`,
      );
    }
  }
  return {
    created: missing.map((spec) => spec.topic),
    existing: specs.filter((spec) => present.has(spec.topic)).map((spec) => spec.topic),
  };
}

/** The specs plus a `<topic>.dlq` twin of each (same partitions, so a key keeps its partition number). */
export function withDeadLetterTopics(specs: readonly TopicSpec[]): TopicSpec[] {
  return specs.flatMap((spec) => [spec, { ...spec, topic: deadLetterTopicFor(spec.topic) }]);
}
