// Envelope <-> custody.events.v1.EventEnvelope (protobuf, generated in @custody/contracts).
import { EventEnvelope, asBuffer, timestampFromDate, timestampToDate } from '@custody/contracts';
import { assertValidEnvelope, type Envelope, type EnvelopeCodec } from './envelope.js';
import { EventBusError } from './errors.js';

export const protobufEnvelopeCodec: EnvelopeCodec = Object.freeze({
  encode(envelope: Envelope): Uint8Array {
    assertValidEnvelope(envelope);
    const wire: EventEnvelope = {
      id: envelope.id,
      type: envelope.type,
      key: envelope.key,
      correlationId: envelope.correlationId,
      causationId: envelope.causationId ?? '',
      traceContext: { ...envelope.traceContext },
      producer: envelope.producer,
      occurredAt: timestampFromDate(envelope.occurredAt),
      schemaVersion: envelope.schemaVersion,
      payload: asBuffer(envelope.payload),
    };
    return EventEnvelope.encode(wire).finish();
  },

  decode(bytes: Uint8Array): Envelope {
    let wire: EventEnvelope;
    try {
      wire = EventEnvelope.decode(bytes);
    } catch (cause) {
      throw new EventBusError('ENVELOPE_DECODE_FAILED', `not an EventEnvelope: ${(cause as Error).message}`, { cause });
    }
    if (wire.occurredAt === undefined) {
      throw new EventBusError('ENVELOPE_DECODE_FAILED', 'EventEnvelope.occurred_at is missing');
    }
    try {
      return Object.freeze(
        assertValidEnvelope({
          id: wire.id,
          type: wire.type,
          key: wire.key,
          correlationId: wire.correlationId,
          causationId: wire.causationId === '' ? undefined : wire.causationId,
          traceContext: Object.freeze({ ...wire.traceContext }),
          producer: wire.producer,
          occurredAt: timestampToDate(wire.occurredAt),
          schemaVersion: wire.schemaVersion,
          payload: wire.payload,
        }),
      );
    } catch (cause) {
      throw new EventBusError('ENVELOPE_DECODE_FAILED', `invalid EventEnvelope: ${(cause as Error).message}`, { cause });
    }
  },
});
