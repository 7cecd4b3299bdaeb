// Metrics hooks. The bus reports through this small interface; a service adapts it to
// prom-client (bounded labels only: topic and group names, outcome and error codes —
// never keys or ids). Every method is optional.
import type { DeadLetterCode } from './dead-letter-record.js';

export type ConsumeOutcome = 'ok' | 'error';

export interface BusMetrics {
  /** `count` messages were acknowledged by the broker on `topic`. */
  published?(topic: string, count: number): void;
  /** One handler invocation finished: 'ok' (will be committed) or 'error' (will be redelivered). */
  consumed?(topic: string, groupId: string, outcome: ConsumeOutcome): void;
  /** One message was written to `<topic>.dlq` by withDeadLetter(). */
  deadLettered?(topic: string, groupId: string, code: DeadLetterCode): void;
  /** Relay poll: age in seconds of the oldest unpublished outbox row (0 when none), and how many rows it claimed. */
  relayLag?(oldestPendingSeconds: number, claimed: number): void;
}

export const NO_METRICS: BusMetrics = Object.freeze({});
