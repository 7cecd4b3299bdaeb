// The event envelope as the bus's domain type. On the wire it is the protobuf
// custody.events.v1.EventEnvelope (see protobuf-envelope-codec.ts); code outside the
// codec only sees this plain type.
import { randomUUID } from 'node:crypto';
import { EventBusError } from './errors.js';

export interface Envelope {
  /** Event id, a UUID. Consumers de-duplicate on it (inbox); the outbox row id is the same. */
  readonly id: string;
  /** Event type: the topic it is first published on, e.g. "custody.withdrawal.requested.v1". */
  readonly type: string;
  /** Partition key (withdrawal id, source wallet, ...). */
  readonly key: string;
  /** Shared by every event that one external request caused. */
  readonly correlationId: string;
  /** The event or request that directly caused this one; undefined for a first cause. */
  readonly causationId?: string | undefined;
  /** W3C trace context ("traceparent", "tracestate"). */
  readonly traceContext: Readonly<Record<string, string>>;
  /** Producing service, e.g. "intake". */
  readonly producer: string;
  /** When the fact happened (not when it was published). */
  readonly occurredAt: Date;
  /** Payload schema version (the topic's v<N>). */
  readonly schemaVersion: number;
  /** The encoded event message named by `type`. */
  readonly payload: Uint8Array;
}

/** Bytes <-> Envelope. decode() throws EventBusError('ENVELOPE_DECODE_FAILED') on anything it cannot vouch for. */
export interface EnvelopeCodec {
  encode(envelope: Envelope): Uint8Array;
  decode(bytes: Uint8Array): Envelope;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Throws EventBusError('ENVELOPE_INVALID') naming the first bad field; returns the envelope unchanged. */
const TRACE_CONTEXT_NAME = /^[a-z0-9][a-z0-9_.-]{0,63}$/;

export function assertValidEnvelope(envelope: Envelope): Envelope {
  const fail = (field: string, why: string): never => {
    throw new EventBusError('ENVELOPE_INVALID', `envelope.${field} ${why}`);
  };
  if (typeof envelope.id !== 'string' || !UUID.test(envelope.id)) fail('id', `must be a UUID, got ${JSON.stringify(envelope.id)}`);
  if (typeof envelope.type !== 'string' || envelope.type.length === 0) fail('type', 'must be a non-empty string');
  if (typeof envelope.key !== 'string' || envelope.key.length === 0) fail('key', 'must be a non-empty string');
  if (typeof envelope.correlationId !== 'string' || envelope.correlationId.length === 0) fail('correlationId', 'must be a non-empty string');
  if (envelope.causationId !== undefined && (typeof envelope.causationId !== 'string' || envelope.causationId.length === 0)) {
    fail('causationId', 'must be a non-empty string or undefined');
  }
  if (typeof envelope.producer !== 'string' || envelope.producer.length === 0) fail('producer', 'must be a non-empty string');
  if (!(envelope.occurredAt instanceof Date) || Number.isNaN(envelope.occurredAt.getTime())) fail('occurredAt', 'must be a valid Date');
  if (!Number.isInteger(envelope.schemaVersion) || envelope.schemaVersion < 1) fail('schemaVersion', 'must be an integer >= 1');
  if (!(envelope.payload instanceof Uint8Array)) fail('payload', 'must be a Uint8Array');
  if (typeof envelope.traceContext !== 'object' || envelope.traceContext === null) fail('traceContext', 'must be an object');
  for (const [name, value] of Object.entries(envelope.traceContext)) {
    // W3C trace-context style names (traceparent, tracestate, baggage…): lowercase, no
    // "__proto__"-like keys that a decoder's plain-object map would silently swallow.
    if (!TRACE_CONTEXT_NAME.test(name)) fail('traceContext', `name ${JSON.stringify(name.slice(0, 64))} must match ${TRACE_CONTEXT_NAME.source}`);
    if (typeof value !== 'string') fail(`traceContext.${name}`, 'must be a string');
  }
  return envelope;
}

export interface NewEnvelope {
  readonly type: string;
  readonly key: string;
  readonly correlationId: string;
  readonly causationId?: string | undefined;
  readonly traceContext?: Readonly<Record<string, string>>;
  readonly producer: string;
  readonly schemaVersion: number;
  readonly payload: Uint8Array;
  readonly id?: string;
  readonly occurredAt?: Date;
}

export interface EnvelopeFactoryPorts {
  readonly newId?: () => string;
  readonly now?: () => Date;
}

/** A validated, frozen Envelope; id and occurredAt default to a random UUID and the clock. */
export function createEnvelope(input: NewEnvelope, ports: EnvelopeFactoryPorts = {}): Envelope {
  const envelope: Envelope = {
    id: input.id ?? (ports.newId ?? randomUUID)(),
    type: input.type,
    key: input.key,
    correlationId: input.correlationId,
    causationId: input.causationId,
    traceContext: Object.freeze({ ...(input.traceContext ?? {}) }),
    producer: input.producer,
    occurredAt: input.occurredAt ?? (ports.now ?? (() => new Date()))(),
    schemaVersion: input.schemaVersion,
    payload: input.payload,
  };
  return Object.freeze(assertValidEnvelope(envelope));
}
