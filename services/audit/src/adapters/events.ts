// Domain -> custody.audit.recorded.v1 envelopes for the outbox (docs/audit.md). One hash
// chain, one key (AUDIT_LOG_KEY): every message lands on one partition, in chain order.
// Announced: each signed checkpoint (what outside parties hold the log to) and each
// operator-action record; bus-event records are pinned by the checkpoints, not announced.
import { AUDIT_LOG_KEY, AuditRecorded, AuditRecordedKind, Topics, encodeEvent, timestampFromDate, topicVersion } from '@custody/contracts';
import { createEnvelope, type OutboxEntry } from '@custody/event-bus';
import type { StoredCheckpoint, StoredRecord } from '../domain/verify.js';
import type { TopicNamer } from './kafka/audit-consumer.js';

export const PRODUCER = 'audit';

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function entry(message: AuditRecorded, correlationId: string, causationId: string | undefined, occurredAt: Date, topicName: TopicNamer): OutboxEntry {
  const type = Topics.auditRecorded;
  return {
    topic: topicName(type),
    envelope: createEnvelope({
      type,
      key: AUDIT_LOG_KEY,
      correlationId,
      ...(causationId ? { causationId } : {}),
      producer: PRODUCER,
      schemaVersion: topicVersion(type),
      payload: encodeEvent(type, message),
      occurredAt,
    }),
  };
}

/** A signed checkpoint: sequence + head hash + signature + key id; recorded_at = the signed created_at. */
export function checkpointRecordedEntry(c: StoredCheckpoint, topicName: TopicNamer): OutboxEntry {
  const message = AuditRecorded.fromPartial({
    kind: AuditRecordedKind.AUDIT_RECORDED_KIND_CHECKPOINT,
    sequence: c.sequence.toString(),
    recordHash: buf(c.recordHash),
    signature: buf(c.signature),
    signingKeyId: c.keyId,
    recordedAt: timestampFromDate(c.createdAt),
  });
  return entry(message, `audit-checkpoint-${c.sequence.toString()}`, undefined, c.createdAt, topicName);
}

/** One operator-action record with every field its record_hash covers (payload by digest). */
export function operatorRecordedEntry(r: StoredRecord, topicName: TopicNamer): OutboxEntry {
  const message = AuditRecorded.fromPartial({
    kind: AuditRecordedKind.AUDIT_RECORDED_KIND_OPERATOR_ACTION,
    sequence: r.sequence.toString(),
    prevHash: buf(r.prevHash),
    recordHash: buf(r.recordHash),
    eventId: r.eventId,
    eventType: r.action,
    correlationId: r.correlationId,
    recordedAt: timestampFromDate(r.recordedAt),
    actor: r.actor,
    causationId: r.causationId,
    producer: r.producer,
    occurredAt: timestampFromDate(r.occurredAt),
    payloadDigest: buf(r.payloadDigest),
  });
  return entry(message, r.correlationId, r.causationId || undefined, r.recordedAt, topicName);
}
