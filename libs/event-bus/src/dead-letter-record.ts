// What a dead-letter record says. On the wire the record value is the protobuf
// custody.events.v1.DeadLetter (protobuf-dead-letter-codec.ts) and the same facts are
// repeated as plain headers, so `kcat` or an operator can read them without decoding.

/** Why a message was dead-lettered. */
export type DeadLetterCode =
  /** The record value could not be decoded/validated: retrying can never help. */
  | 'DECODE_FAILED'
  /** The handler threw a non-retryable error. */
  | 'HANDLER_FAILED'
  /** The handler threw retryable errors maxAttempts times in a row. */
  | 'RETRIES_EXHAUSTED';

export interface DeadLetterRecord {
  /** The original record value, byte for byte. */
  readonly originalValue: Uint8Array;
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly code: DeadLetterCode;
  /** `ErrorClass: message` of the last failure. */
  readonly reason: string;
  readonly consumerGroup: string;
  readonly attempts: number;
  readonly failedAt: Date;
}

export interface DeadLetterCodec {
  encode(record: DeadLetterRecord): Uint8Array;
  decode(bytes: Uint8Array): DeadLetterRecord;
}

/** Header names on a dead-letter record (the original record's headers are kept too). */
export const DeadLetterHeaders = Object.freeze({
  code: 'dlq-error-code',
  errorClass: 'dlq-error-class',
  errorMessage: 'dlq-error-message',
  originalTopic: 'dlq-original-topic',
  originalPartition: 'dlq-original-partition',
  originalOffset: 'dlq-original-offset',
  consumerGroup: 'dlq-consumer-group',
  attempts: 'dlq-attempts',
  failedAt: 'dlq-failed-at',
} as const);

export const DEAD_LETTER_TOPIC_SUFFIX = '.dlq';

/** `<topic>.dlq` */
export function deadLetterTopicFor(topic: string): string {
  return topic + DEAD_LETTER_TOPIC_SUFFIX;
}
