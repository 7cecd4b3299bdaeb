// EventBus on Apache Kafka (kafkajs).
//
// Producer: idempotent (no duplicates or reordering from the client's own retries),
// maxInFlightRequests 1, acks=all, Kafka's default (murmur2) partitioner. A failed send is
// reported to the caller (who publishes again: the relay does) and the producer is replaced,
// so a producer whose sequence state the broker no longer knows is never reused.
//
// Consumer: eachBatch with autoCommit off. Messages of a partition are handled one at a
// time; a message's offset is resolved only after its handler resolved and committed
// every commitIntervalMs and at the end of each batch — never ahead of a handler. A
// handler that throws gets the same message again after a backoff; the partition waits.
// Broker trouble is retried by kafkajs; if kafkajs gives up (it does not restart on some
// errors, e.g. "no broker available" during a broker restart) the subscription starts a
// new consumer after a backoff, until stop().
import {
  Partitioners,
  type Consumer,
  type EachBatchPayload,
  type IHeaders,
  type Kafka,
  type KafkaMessage,
  type Producer,
  type RetryOptions,
  type TopicMessages,
} from 'kafkajs';
import { backoffDelay, sleepWithHeartbeat } from '../backoff.js';
import { EventBusError } from '../errors.js';
import type {
  BackoffOptions,
  DeliveryContext,
  EventBus,
  IncomingMessage,
  MessageHeaders,
  OutgoingMessage,
  SubscribeOptions,
  Subscription,
} from '../event-bus.js';
import { assertValidOutgoing, assertValidSubscribe } from '../message-validation.js';
import type { BusMetrics } from '../metrics.js';

export interface KafkaConsumerTuning {
  /** Default 10,000 ms (the broker's group.min.session.timeout.ms is 6,000 by default). */
  readonly sessionTimeout?: number;
  /** Default 30,000 ms. */
  readonly rebalanceTimeout?: number;
  /** Default 1,000 ms. */
  readonly heartbeatInterval?: number;
  /** Longest a fetch waits for data. Default 250 ms. */
  readonly maxWaitTimeInMs?: number;
  readonly maxBytesPerPartition?: number;
  /** Partitions handled in parallel by one member (each still one message at a time). Default 1. */
  readonly partitionsConsumedConcurrently?: number;
  /** Longest a handled message stays uncommitted while its batch goes on. Default 250 ms. */
  readonly commitIntervalMs?: number;
  /** kafkajs retry for broker errors inside the consumer. */
  readonly retry?: RetryOptions;
}

export type KafkaErrorPhase = 'publish' | 'handler' | 'consumer' | 'commit';

export interface KafkaErrorContext {
  readonly phase: KafkaErrorPhase;
  readonly groupId?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: string;
}

export interface KafkaBusOptions {
  /** A configured kafkajs client (brokers, clientId, TLS/SASL, logging). See createKafkaClient(). */
  readonly kafka: Kafka;
  /** kafkajs retry for the producer (broker errors during a send). */
  readonly producerRetry?: RetryOptions;
  /** Let the producer create missing topics (broker defaults). Default false: use ensureTopics(). */
  readonly allowAutoTopicCreation?: boolean;
  readonly consumer?: KafkaConsumerTuning;
  /** Default delay between redeliveries of a failing message: 100 ms doubling to 5 s. */
  readonly redeliveryBackoff?: BackoffOptions;
  /** Delay before a subscription replaces a consumer kafkajs gave up on: 500 ms doubling to 30 s. */
  readonly restartBackoff?: BackoffOptions;
  readonly metrics?: BusMetrics;
  /** Told about every failure the bus handles itself (for logs). */
  readonly onError?: (error: unknown, context: KafkaErrorContext) => void;
}

const DEFAULT_REDELIVERY: BackoffOptions = Object.freeze({ initialMs: 100, maxMs: 5000, factor: 2 });
const DEFAULT_RESTART: BackoffOptions = Object.freeze({ initialMs: 500, maxMs: 30_000, factor: 2 });
const DEFAULT_PRODUCER_RETRY: RetryOptions = Object.freeze({ initialRetryTime: 200, maxRetryTime: 5000, retries: 8 });
const DEFAULT_CONSUMER_RETRY: RetryOptions = Object.freeze({ initialRetryTime: 300, maxRetryTime: 10_000, retries: 10 });

export class KafkaBus implements EventBus {
  private producer: Promise<Producer> | undefined;
  private readonly subscriptions = new Set<KafkaSubscription>();
  private closed = false;

  constructor(readonly options: KafkaBusOptions) {}

  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    this.assertOpen();
    assertValidOutgoing(messages);
    if (messages.length === 0) return;
    const byTopic = new Map<string, TopicMessages>();
    for (const message of messages) {
      let entry = byTopic.get(message.topic);
      if (!entry) {
        entry = { topic: message.topic, messages: [] };
        byTopic.set(message.topic, entry);
      }
      entry.messages.push({ key: message.key, value: asBuffer(message.value), headers: { ...(message.headers ?? {}) } });
    }
    const producerPromise = this.connectedProducer();
    try {
      const producer = await producerPromise;
      await producer.sendBatch({ topicMessages: [...byTopic.values()], acks: -1 });
    } catch (error) {
      this.options.onError?.(error, { phase: 'publish' });
      this.replaceProducer(producerPromise);
      throw error;
    }
    for (const { topic, messages: sent } of byTopic.values()) this.options.metrics?.published?.(topic, sent.length);
  }

  async subscribe(options: SubscribeOptions): Promise<Subscription> {
    this.assertOpen();
    assertValidSubscribe(options);
    const subscription = new KafkaSubscription(this.options, options, () => this.subscriptions.delete(subscription));
    this.subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.stop();
      throw error;
    }
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((subscription) => subscription.stop()));
    const producer = this.producer;
    this.producer = undefined;
    if (producer) await producer.then((p) => p.disconnect()).catch(() => undefined);
  }

  private connectedProducer(): Promise<Producer> {
    if (!this.producer) {
      const producer = this.options.kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        createPartitioner: Partitioners.DefaultPartitioner,
        allowAutoTopicCreation: this.options.allowAutoTopicCreation ?? false,
        retry: this.options.producerRetry ?? DEFAULT_PRODUCER_RETRY,
      });
      this.producer = producer.connect().then(() => producer);
    }
    return this.producer;
  }

  private replaceProducer(failed: Promise<Producer>): void {
    if (this.producer !== failed) return;
    this.producer = undefined;
    void failed.then((p) => p.disconnect()).catch(() => undefined);
  }

  private assertOpen(): void {
    if (this.closed) throw new EventBusError('BUS_CLOSED', 'KafkaBus is closed');
  }
}

class KafkaSubscription implements Subscription {
  private consumer: Consumer | undefined;
  private readonly stopController = new AbortController();
  private restartTimer: NodeJS.Timeout | undefined;
  private restarts = 0;
  private stopping: Promise<void> | undefined;
  private readonly tuning: KafkaConsumerTuning;
  private readonly redelivery: BackoffOptions;

  constructor(
    private readonly busOptions: KafkaBusOptions,
    private readonly options: SubscribeOptions,
    private readonly onStopped: () => void,
  ) {
    this.tuning = busOptions.consumer ?? {};
    this.redelivery = options.redeliveryBackoff ?? busOptions.redeliveryBackoff ?? DEFAULT_REDELIVERY;
  }

  get groupId(): string {
    return this.options.groupId;
  }

  async start(): Promise<void> {
    await this.startConsumer();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.stopController.abort(new EventBusError('BUS_CLOSED', `subscription of group ${this.groupId} stopped`));
      clearTimeout(this.restartTimer);
      this.restartTimer = undefined;
      await this.consumer?.disconnect().catch(() => undefined);
      this.onStopped();
    })();
    return this.stopping;
  }

  private async startConsumer(): Promise<void> {
    const { tuning } = this;
    const consumer = this.busOptions.kafka.consumer({
      groupId: this.options.groupId,
      sessionTimeout: tuning.sessionTimeout ?? 10_000,
      rebalanceTimeout: tuning.rebalanceTimeout ?? 30_000,
      heartbeatInterval: tuning.heartbeatInterval ?? 1000,
      maxWaitTimeInMs: tuning.maxWaitTimeInMs ?? 250,
      ...(tuning.maxBytesPerPartition !== undefined ? { maxBytesPerPartition: tuning.maxBytesPerPartition } : {}),
      allowAutoTopicCreation: false,
      retry: { ...(tuning.retry ?? DEFAULT_CONSUMER_RETRY), restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      this.report(event.payload.error, { phase: 'consumer' });
      if (!event.payload.restart) this.scheduleRestart(consumer);
    });
    const stopped = this.stopController.signal;
    try {
      await consumer.connect();
      if (stopped.aborted) throw stopped.reason;
      await consumer.subscribe({ topics: [...this.options.topics], fromBeginning: this.options.fromBeginning ?? true });
      if (stopped.aborted) throw stopped.reason;
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: tuning.partitionsConsumedConcurrently ?? 1,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      throw error;
    }
  }

  private scheduleRestart(failed: Consumer): void {
    if (this.stopController.signal.aborted || this.consumer !== failed || this.restartTimer) return;
    this.restarts += 1;
    const delay = backoffDelay(Math.min(this.restarts, 30), this.busOptions.restartBackoff ?? DEFAULT_RESTART);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopController.signal.aborted) return;
      void (async () => {
        await failed.disconnect().catch(() => undefined);
        if (this.stopController.signal.aborted) return;
        try {
          await this.startConsumer();
          this.restarts = 0;
        } catch (error) {
          this.report(error, { phase: 'consumer' });
          if (this.consumer) this.scheduleRestart(this.consumer);
        }
      })();
    }, delay);
  }

  private async eachBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, uncommittedOffsets } = payload;
    const { groupId, handler } = this.options;
    const metrics = this.busOptions.metrics;
    const commitIntervalMs = this.tuning.commitIntervalMs ?? 250;
    const batchAbort = new AbortController();
    const signal = AbortSignal.any([this.stopController.signal, batchAbort.signal]);
    let heartbeatError: unknown;
    const beat = async (): Promise<void> => {
      try {
        await heartbeat();
      } catch (error) {
        heartbeatError ??= error;
        batchAbort.abort(error);
        throw error;
      }
    };
    const gone = (): boolean => signal.aborted || !isRunning() || isStale();
    let uncommitted = 0;
    let lastCommit = Date.now();
    const commit = async (): Promise<void> => {
      if (uncommitted === 0) return;
      await commitOffsetsIfNecessary(uncommittedOffsets());
      uncommitted = 0;
      lastCommit = Date.now();
    };
    try {
      for (const raw of batch.messages) {
        if (gone()) return;
        const message = toIncoming(batch.topic, batch.partition, raw);
        for (let attempt = 1; ; attempt++) {
          const context: DeliveryContext = { groupId, attempt, signal, heartbeat: beat };
          try {
            await handler(message, context);
            metrics?.consumed?.(message.topic, groupId, 'ok');
            break;
          } catch (error) {
            metrics?.consumed?.(message.topic, groupId, 'error');
            this.report(error, { phase: 'handler', groupId, topic: message.topic, partition: message.partition, offset: message.offset });
            if (heartbeatError) throw heartbeatError;
            if (gone()) return;
            await sleepWithHeartbeat(backoffDelay(attempt, this.redelivery), signal, beat);
            if (gone()) return;
            await beat();
          }
        }
        resolveOffset(raw.offset);
        uncommitted += 1;
        if (Date.now() - lastCommit >= commitIntervalMs) await commit();
        await beat();
      }
    } finally {
      await commit().catch((error: unknown) => this.report(error, { phase: 'commit', groupId, topic: batch.topic, partition: batch.partition }));
    }
  }

  private report(error: unknown, context: KafkaErrorContext): void {
    try {
      this.busOptions.onError?.(error, { groupId: this.options.groupId, ...context });
    } catch {
      // a failing logger must not break consumption
    }
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function headerValue(value: IHeaders[string]): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.length > 0 ? headerValue(value[value.length - 1]) : undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

function toIncoming(topic: string, partition: number, raw: KafkaMessage): IncomingMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw.headers ?? {})) {
    const text = headerValue(value);
    if (text !== undefined) headers[name] = text;
  }
  return Object.freeze({
    topic,
    partition,
    offset: raw.offset,
    key: raw.key ? raw.key.toString('utf8') : '',
    value: raw.value ?? new Uint8Array(0),
    headers: Object.freeze(headers) as MessageHeaders,
    timestamp: new Date(Number(raw.timestamp)),
  });
}
