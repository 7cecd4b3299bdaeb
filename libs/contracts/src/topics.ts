// Kafka topic names and partition keys — the one place they are defined.
// Rule: custody.<entity>.<event>.v<N>. The event type carried in EventEnvelope.type is
// the name of the topic the event is published on (see registry.ts).

export const Topics = {
  withdrawalRequested: 'custody.withdrawal.requested.v1',
  withdrawalStatus: 'custody.withdrawal.status.v1',
  riskAssessed: 'custody.risk.assessed.v1',
  policyDecided: 'custody.policy.decided.v1',
  txPrepared: 'custody.tx.prepared.v1',
  txSigned: 'custody.tx.signed.v1',
  txRefused: 'custody.tx.refused.v1',
  txStatus: 'custody.tx.status.v1',
  depositDetected: 'custody.deposit.detected.v1',
  keyLifecycle: 'custody.key.lifecycle.v1',
  auditRecorded: 'custody.audit.recorded.v1',
  maintenanceScheduled: 'custody.maintenance.scheduled.v1',
  incidentRaised: 'custody.incident.raised.v1',
  integratorChanged: 'custody.integrator.changed.v1',
} as const;

export type Topic = (typeof Topics)[keyof typeof Topics];

export const ALL_TOPICS: readonly Topic[] = Object.freeze(Object.values(Topics));

/** custody.<entity>.<event>.v<N>: lower-case words (underscores allowed), N >= 1. */
export const TOPIC_NAME_PATTERN = /^custody\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*\.v[1-9][0-9]*$/;

export const DEAD_LETTER_SUFFIX = '.dlq';

/** Dead-letter topic for a topic: `<topic>.dlq`. Records there are DeadLetter messages. */
export function deadLetterTopic(topic: string): string {
  return topic + DEAD_LETTER_SUFFIX;
}

export function isDeadLetterTopic(topic: string): boolean {
  return topic.endsWith(DEAD_LETTER_SUFFIX);
}

/** Schema version of a topic (the N of .v<N>). */
export function topicVersion(topic: string): number {
  const match = /\.v([1-9][0-9]*)$/.exec(topic);
  if (!match?.[1]) throw new Error(`topicVersion: "${topic}" does not end in .v<N>`);
  return Number(match[1]);
}

/**
 * What a topic's records are keyed (partitioned) by. Per ARCHITECTURE.md: withdrawal id
 * for request/decision topics, so one withdrawal's events stay ordered; source wallet for
 * tx.* topics, so one consumer owns a wallet's nonce sequence.
 */
export type PartitionKeyKind =
  | 'withdrawal_id'
  | 'source_wallet'
  | 'deposit_address'
  | 'key_id'
  | 'audit_log'
  | 'maintenance_id'
  | 'incident_id'
  | 'client_id';

export const TOPIC_PARTITION_KEYS: Readonly<Record<Topic, PartitionKeyKind>> = Object.freeze({
  [Topics.withdrawalRequested]: 'withdrawal_id',
  [Topics.withdrawalStatus]: 'withdrawal_id',
  [Topics.riskAssessed]: 'withdrawal_id',
  [Topics.policyDecided]: 'withdrawal_id',
  [Topics.txPrepared]: 'source_wallet',
  [Topics.txSigned]: 'source_wallet',
  [Topics.txRefused]: 'source_wallet',
  [Topics.txStatus]: 'source_wallet',
  [Topics.depositDetected]: 'deposit_address',
  [Topics.keyLifecycle]: 'key_id',
  // One hash chain, one partition: every audit record carries the same key.
  [Topics.auditRecorded]: 'audit_log',
  [Topics.maintenanceScheduled]: 'maintenance_id',
  [Topics.incidentRaised]: 'incident_id',
  [Topics.integratorChanged]: 'client_id',
});

/** The constant key of custody.audit.recorded.v1 (a single ordered hash chain). */
export const AUDIT_LOG_KEY = 'custody-audit-log';
