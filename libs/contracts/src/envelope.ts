// EventEnvelope <-> bytes (the Kafka record value). Encoders return Buffer (kafkajs-ready).
import { EventEnvelope } from './gen/custody/events/v1/envelope.js';
import { DeadLetter } from './gen/custody/events/v1/dead_letter.js';
import { asBuffer } from './bytes.js';

export function encodeEnvelope(envelope: EventEnvelope): Buffer {
  return asBuffer(EventEnvelope.encode(envelope).finish());
}

/** Throws on malformed bytes (send the record to the dead-letter topic). */
export function decodeEnvelope(bytes: Uint8Array): EventEnvelope {
  return EventEnvelope.decode(bytes);
}

export function encodeDeadLetter(deadLetter: DeadLetter): Buffer {
  return asBuffer(DeadLetter.encode(deadLetter).finish());
}

export function decodeDeadLetter(bytes: Uint8Array): DeadLetter {
  return DeadLetter.decode(bytes);
}
