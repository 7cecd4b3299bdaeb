// DeadLetterRecord <-> custody.events.v1.DeadLetter (protobuf, generated in @custody/contracts).
import { DeadLetter, asBuffer, timestampFromDate, timestampToDate } from '@custody/contracts';
import type { DeadLetterCode, DeadLetterCodec, DeadLetterRecord } from './dead-letter-record.js';

const CODES: ReadonlySet<string> = new Set<DeadLetterCode>(['DECODE_FAILED', 'HANDLER_FAILED', 'RETRIES_EXHAUSTED']);

export const protobufDeadLetterCodec: DeadLetterCodec = Object.freeze({
  encode(record: DeadLetterRecord): Uint8Array {
    return DeadLetter.encode({
      originalEnvelope: asBuffer(record.originalValue),
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      errorCode: record.code,
      errorReason: record.reason,
      consumerGroup: record.consumerGroup,
      attempts: record.attempts,
      failedAt: timestampFromDate(record.failedAt),
    }).finish();
  },

  decode(bytes: Uint8Array): DeadLetterRecord {
    const wire = DeadLetter.decode(bytes);
    if (!CODES.has(wire.errorCode)) throw new Error(`DeadLetter.error_code ${JSON.stringify(wire.errorCode)} is not one of ${[...CODES].join(', ')}`);
    if (wire.failedAt === undefined) throw new Error('DeadLetter.failed_at is missing');
    return Object.freeze({
      originalValue: wire.originalEnvelope,
      topic: wire.topic,
      partition: wire.partition,
      offset: wire.offset,
      code: wire.errorCode as DeadLetterCode,
      reason: wire.errorReason,
      consumerGroup: wire.consumerGroup,
      attempts: wire.attempts,
      failedAt: timestampToDate(wire.failedAt),
    });
  },
});
