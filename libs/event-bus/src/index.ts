// @custody/event-bus — the curated entry point (named exports only).
// Port and semantics: plain TypeScript. Framework code (kafkajs, TypeORM/pg) lives in
// ./adapters. docs/event-bus.md explains the delivery guarantees.

// --- The port ------------------------------------------------------------------------
export type {
  EventBus,
  OutgoingMessage,
  IncomingMessage,
  MessageHeaders,
  MessageHandler,
  DeliveryContext,
  SubscribeOptions,
  Subscription,
  BackoffOptions,
} from './event-bus.js';
export { EventBusError, NonRetryableError, isNonRetryable, type EventBusErrorCode } from './errors.js';
export type { BusMetrics, ConsumeOutcome } from './metrics.js';
export { partitionForKey, murmur2 } from './partitioner.js';

// --- Envelope ------------------------------------------------------------------------
export {
  createEnvelope,
  assertValidEnvelope,
  type Envelope,
  type EnvelopeCodec,
  type NewEnvelope,
  type EnvelopeFactoryPorts,
} from './envelope.js';
export { protobufEnvelopeCodec } from './protobuf-envelope-codec.js';

// --- Dead letters --------------------------------------------------------------------
export { withDeadLetter, type DeadLetterOptions } from './dead-letter.js';
export {
  DeadLetterHeaders,
  DEAD_LETTER_TOPIC_SUFFIX,
  deadLetterTopicFor,
  type DeadLetterCode,
  type DeadLetterRecord,
  type DeadLetterCodec,
} from './dead-letter-record.js';
export { protobufDeadLetterCodec } from './protobuf-dead-letter-codec.js';

// --- Outbox relay (port + logic) -----------------------------------------------------
export {
  OutboxRelay,
  selectPublishable,
  RelayHeaders,
  ENVELOPE_CONTENT_TYPE,
  type OutboxRelayOptions,
  type OutboxStore,
  type OutboxRow,
  type ClaimedBatch,
  type RelayHooks,
  type RelayBatchInfo,
  type RelayState,
  type BatchResult,
} from './outbox-relay.js';

// --- In-process bus (embedded default) -----------------------------------------------
export { InProcessBus, type InProcessBusOptions } from './in-process-bus.js';

// --- Adapters: Kafka -----------------------------------------------------------------
export { KafkaBus, type KafkaBusOptions, type KafkaConsumerTuning, type KafkaErrorContext, type KafkaErrorPhase } from './adapters/kafka-bus.js';
export { createKafkaClient, type KafkaClientOptions } from './adapters/kafka-client.js';
export {
  kafkaSecurityFromEnv,
  isLoopbackBroker,
  KafkaSecurityConfigError,
  KAFKA_SECURITY_MODES,
  KAFKA_SECURITY_VARIABLES,
  type KafkaSecurityMode,
  type KafkaSecurityOptions,
  type KafkaSecurityProblem,
} from './adapters/kafka-security.js';
export { ensureTopics, withDeadLetterTopics, type TopicSpec, type EnsureTopicsResult } from './adapters/kafka-topics.js';

// --- Adapters: Postgres (TypeORM) ----------------------------------------------------
export { CreateEventBusTables1795478400000 } from './adapters/event-bus-migration.js';
export {
  enqueue,
  PostgresOutboxStore,
  pruneOutbox,
  republishOutbox,
  type OutboxEntry,
  type EnqueueOptions,
  type PostgresOutboxStoreOptions,
  type PruneOptions,
  type RepublishOptions,
} from './adapters/postgres-outbox.js';
export { handleOnce, type InboxOutcome } from './adapters/postgres-inbox.js';
export { OUTBOX_TABLE, INBOX_TABLE, type SchemaOption } from './adapters/postgres-schema.js';
