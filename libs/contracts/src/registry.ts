// Event type -> generated message codec, so consumers decode EventEnvelope.payload by
// EventEnvelope.type, and producers get the payload bytes and partition key from one place.
import { AuditRecorded } from './gen/custody/events/v1/audit.js';
import { DepositDetected } from './gen/custody/events/v1/deposit.js';
import { IncidentRaised } from './gen/custody/events/v1/incident.js';
import { IntegratorChanged } from './gen/custody/events/v1/integrator.js';
import { KeyLifecycle } from './gen/custody/events/v1/key.js';
import { MaintenanceScheduled } from './gen/custody/events/v1/maintenance.js';
import { PolicyDecided } from './gen/custody/events/v1/policy.js';
import { RiskAssessed } from './gen/custody/events/v1/risk.js';
import { TxPrepared, TxSigned, TxSigningRefused, TxStatus } from './gen/custody/events/v1/tx.js';
import { WithdrawalRequested, WithdrawalStatusChanged } from './gen/custody/events/v1/withdrawal.js';
import { asBuffer } from './bytes.js';
import { AUDIT_LOG_KEY, type PartitionKeyKind, type Topic, TOPIC_PARTITION_KEYS, Topics, topicVersion } from './topics.js';

/** The part of a ts-proto message const (e.g. `WithdrawalRequested`) the registry uses. */
export interface MessageCodec<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(input: Uint8Array): T;
  fromJSON(object: unknown): T;
  toJSON(message: T): unknown;
}

/** Event type string -> its payload message type. Extend together with EVENTS. */
export interface EventMessages {
  'custody.withdrawal.requested.v1': WithdrawalRequested;
  'custody.withdrawal.status.v1': WithdrawalStatusChanged;
  'custody.risk.assessed.v1': RiskAssessed;
  'custody.policy.decided.v1': PolicyDecided;
  'custody.tx.prepared.v1': TxPrepared;
  'custody.tx.signed.v1': TxSigned;
  'custody.tx.refused.v1': TxSigningRefused;
  'custody.tx.status.v1': TxStatus;
  'custody.deposit.detected.v1': DepositDetected;
  'custody.key.lifecycle.v1': KeyLifecycle;
  'custody.audit.recorded.v1': AuditRecorded;
  'custody.maintenance.scheduled.v1': MaintenanceScheduled;
  'custody.incident.raised.v1': IncidentRaised;
  'custody.integrator.changed.v1': IntegratorChanged;
}

export type EventType = keyof EventMessages & Topic;

export interface EventDefinition<T> {
  /** EventEnvelope.type; also the topic the event is published on. */
  readonly type: EventType;
  readonly topic: Topic;
  /** EventEnvelope.schema_version (the topic's v<N>). */
  readonly schemaVersion: number;
  /** Fully-qualified protobuf message name, e.g. "custody.events.v1.TxStatus". */
  readonly messageName: string;
  readonly codec: MessageCodec<T>;
  readonly partitionKey: PartitionKeyKind;
  /** The Kafka record key (EventEnvelope.key) for a message of this type. */
  keyOf(message: T): string;
}

function define<K extends EventType>(
  type: K,
  messageName: string,
  codec: MessageCodec<EventMessages[K]>,
  keyOf: (message: EventMessages[K]) => string,
): EventDefinition<EventMessages[K]> {
  return Object.freeze({
    type,
    topic: type,
    schemaVersion: topicVersion(type),
    messageName: `custody.events.v1.${messageName}`,
    codec,
    partitionKey: TOPIC_PARTITION_KEYS[type],
    keyOf,
  });
}

export const EVENTS: { readonly [K in EventType]: EventDefinition<EventMessages[K]> } = Object.freeze({
  [Topics.withdrawalRequested]: define(Topics.withdrawalRequested, 'WithdrawalRequested', WithdrawalRequested, (m) => m.withdrawalId),
  [Topics.withdrawalStatus]: define(Topics.withdrawalStatus, 'WithdrawalStatusChanged', WithdrawalStatusChanged, (m) => m.withdrawalId),
  [Topics.riskAssessed]: define(Topics.riskAssessed, 'RiskAssessed', RiskAssessed, (m) => m.withdrawalId),
  [Topics.policyDecided]: define(Topics.policyDecided, 'PolicyDecided', PolicyDecided, (m) => m.withdrawalId),
  [Topics.txPrepared]: define(Topics.txPrepared, 'TxPrepared', TxPrepared, (m) => m.sourceWallet),
  [Topics.txSigned]: define(Topics.txSigned, 'TxSigned', TxSigned, (m) => m.sourceWallet),
  [Topics.txRefused]: define(Topics.txRefused, 'TxSigningRefused', TxSigningRefused, (m) => m.sourceWallet),
  [Topics.txStatus]: define(Topics.txStatus, 'TxStatus', TxStatus, (m) => m.sourceWallet),
  [Topics.depositDetected]: define(Topics.depositDetected, 'DepositDetected', DepositDetected, (m) => m.address),
  [Topics.keyLifecycle]: define(Topics.keyLifecycle, 'KeyLifecycle', KeyLifecycle, (m) => m.keyId),
  [Topics.auditRecorded]: define(Topics.auditRecorded, 'AuditRecorded', AuditRecorded, () => AUDIT_LOG_KEY),
  [Topics.maintenanceScheduled]: define(Topics.maintenanceScheduled, 'MaintenanceScheduled', MaintenanceScheduled, (m) => m.maintenanceId),
  [Topics.incidentRaised]: define(Topics.incidentRaised, 'IncidentRaised', IncidentRaised, (m) => m.incidentId),
  [Topics.integratorChanged]: define(Topics.integratorChanged, 'IntegratorChanged', IntegratorChanged, (m) => m.clientId),
});

export const EVENT_TYPES: readonly EventType[] = Object.freeze(Object.keys(EVENTS) as EventType[]);

/** A decoded payload, discriminated by type. */
export type DecodedEvent = { [K in EventType]: { readonly type: K; readonly message: EventMessages[K] } }[EventType];

export class UnknownEventTypeError extends Error {
  readonly code = 'UNKNOWN_EVENT_TYPE';
  constructor(readonly eventType: string) {
    super(`Unknown event type "${eventType}": not in @custody/contracts EVENTS`);
    this.name = 'UnknownEventTypeError';
  }
}

export function isEventType(type: string): type is EventType {
  return Object.prototype.hasOwnProperty.call(EVENTS, type);
}

export function eventDefinition<K extends EventType>(type: K): EventDefinition<EventMessages[K]> {
  return EVENTS[type] as EventDefinition<EventMessages[K]>;
}

/** Payload bytes for EventEnvelope.payload. */
export function encodeEvent<K extends EventType>(type: K, message: EventMessages[K]): Buffer {
  return asBuffer(eventDefinition(type).codec.encode(message).finish());
}

/** Decode a payload whose type is known statically. */
export function decodeEvent<K extends EventType>(type: K, payload: Uint8Array): EventMessages[K] {
  return eventDefinition(type).codec.decode(payload);
}

/** Partition key (EventEnvelope.key / Kafka record key) for an event. */
export function partitionKeyOf<K extends EventType>(type: K, message: EventMessages[K]): string {
  return eventDefinition(type).keyOf(message);
}

/**
 * Decode an envelope's payload by its type string. Throws UnknownEventTypeError for a type
 * this build does not know, and the codec's error for malformed bytes: both belong on the
 * dead-letter topic, never silently dropped.
 */
export function decodePayload(envelope: { readonly type: string; readonly payload: Uint8Array }): DecodedEvent {
  const { type, payload } = envelope;
  if (!isEventType(type)) throw new UnknownEventTypeError(type);
  return { type, message: decodeEvent(type, payload) } as DecodedEvent;
}
