// withDeadLetter(): the consumer wrapper that keeps a partition moving without ever
// dropping a message silently.
//  - value cannot be decoded          -> dead-lettered at once (DECODE_FAILED)
//  - handler throws a non-retryable   -> dead-lettered at once (HANDLER_FAILED)
//  - handler throws a retryable error -> retried in place with backoff; after maxAttempts
//                                        failures in a row, dead-lettered (RETRIES_EXHAUSTED)
//  - subscription stopping            -> rethrown: not committed, redelivered later
// "Dead-lettered" = published to `<topic>.dlq` (same key) and acknowledged by the broker;
// only then does the wrapper resolve, so the bus commits the offset. If the DLQ publish
// fails the wrapper throws: the bus does not commit and delivers the message again.
import { backoffDelay, sleep as defaultSleep, sleepWithHeartbeat, type Sleep } from './backoff.js';
import {
  DeadLetterHeaders,
  deadLetterTopicFor,
  type DeadLetterCode,
  type DeadLetterCodec,
  type DeadLetterRecord,
} from './dead-letter-record.js';
import { describeError, isNonRetryable } from './errors.js';
import type { BackoffOptions, DeliveryContext, EventBus, IncomingMessage, MessageHandler } from './event-bus.js';
import type { BusMetrics } from './metrics.js';
import { protobufDeadLetterCodec } from './protobuf-dead-letter-codec.js';

export interface DeadLetterOptions<T> {
  /** Where dead letters are published (normally the same bus). */
  readonly bus: Pick<EventBus, 'publish'>;
  /** Record value -> what the handler needs (e.g. protobufEnvelopeCodec.decode). Throwing dead-letters the record. */
  readonly decode: (message: IncomingMessage) => T;
  readonly handle: (decoded: T, message: IncomingMessage, context: DeliveryContext) => Promise<void>;
  /** Encodes the dead-letter record value. Default: protobuf custody.events.v1.DeadLetter. */
  readonly codec?: DeadLetterCodec;
  /** Attempts for retryable errors before dead-lettering, >= 1. Default 5. */
  readonly maxAttempts?: number;
  /** Delay between attempts. Default 200 ms doubling to 10 s. */
  readonly backoff?: BackoffOptions;
  /** Default: everything except NonRetryableError / `retryable === false` is retryable. */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Default `<topic>.dlq`. */
  readonly deadLetterTopic?: (topic: string) => string;
  readonly metrics?: BusMetrics;
  readonly clock?: () => Date;
  readonly sleep?: Sleep;
}

const DEFAULT_BACKOFF: BackoffOptions = Object.freeze({ initialMs: 200, maxMs: 10_000, factor: 2 });

export function withDeadLetter<T>(options: DeadLetterOptions<T>): MessageHandler {
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new RangeError(`withDeadLetter: maxAttempts must be an integer >= 1, got ${maxAttempts}`);
  const backoff = options.backoff ?? DEFAULT_BACKOFF;
  backoffDelay(1, backoff); // validates
  const isRetryable = options.isRetryable ?? ((error: unknown) => !isNonRetryable(error));
  const topicFor = options.deadLetterTopic ?? deadLetterTopicFor;
  const clock = options.clock ?? (() => new Date());
  const sleep = options.sleep ?? defaultSleep;
  const codec = options.codec ?? protobufDeadLetterCodec;

  const deadLetter = async (message: IncomingMessage, context: DeliveryContext, code: DeadLetterCode, error: unknown, attempts: number): Promise<void> => {
    const { errorClass, message: errorMessage } = describeError(error);
    const failedAt = clock();
    const record: DeadLetterRecord = {
      originalValue: message.value,
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
      code,
      reason: `${errorClass}: ${errorMessage}`,
      consumerGroup: context.groupId,
      attempts,
      failedAt,
    };
    await options.bus.publish([
      {
        topic: topicFor(message.topic),
        // A record without a key (a foreign producer) still needs one on the DLQ.
        key: message.key.length > 0 ? message.key : `${message.topic}/${message.partition}`,
        value: codec.encode(record),
        headers: {
          ...message.headers,
          [DeadLetterHeaders.code]: code,
          [DeadLetterHeaders.errorClass]: errorClass,
          [DeadLetterHeaders.errorMessage]: errorMessage,
          [DeadLetterHeaders.originalTopic]: message.topic,
          [DeadLetterHeaders.originalPartition]: String(message.partition),
          [DeadLetterHeaders.originalOffset]: message.offset,
          [DeadLetterHeaders.consumerGroup]: context.groupId,
          [DeadLetterHeaders.attempts]: String(attempts),
          [DeadLetterHeaders.failedAt]: failedAt.toISOString(),
        },
      },
    ]);
    options.metrics?.deadLettered?.(message.topic, context.groupId, code);
  };

  return async (message, context) => {
    let decoded: T;
    try {
      decoded = options.decode(message);
    } catch (error) {
      await deadLetter(message, context, 'DECODE_FAILED', error, 1);
      return;
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await options.handle(decoded, message, context);
        return;
      } catch (error) {
        if (context.signal.aborted) throw error;
        if (!isRetryable(error)) {
          await deadLetter(message, context, 'HANDLER_FAILED', error, attempt);
          return;
        }
        if (attempt >= maxAttempts) {
          await deadLetter(message, context, 'RETRIES_EXHAUSTED', error, attempt);
          return;
        }
        await context.heartbeat();
        await sleepWithHeartbeat(backoffDelay(attempt, backoff), context.signal, () => context.heartbeat(), sleep);
        if (context.signal.aborted) throw error;
      }
    }
  };
}
