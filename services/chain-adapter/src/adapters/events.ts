// Application events -> custody.events.v1 envelopes for the outbox. Topic names go through
// `topicName` so tests can isolate themselves with a prefix; the envelope type stays canonical.
import { Topics, encodeEvent, topicVersion, type EventType, type Topic } from '@custody/contracts';
import { createEnvelope, type OutboxEntry } from '@custody/event-bus';
import type { OutEvent } from '../application/store.js';

export const PRODUCER = 'chain-adapter';

export type TopicNamer = (topic: Topic) => string;
export const identityTopics: TopicNamer = (topic) => topic;

export function outboxEntry(event: OutEvent, now: Date, topicName: TopicNamer): OutboxEntry {
  let type: EventType & Topic;
  let key: string;
  let payload: Buffer;
  switch (event.type) {
    case 'tx.prepared':
      type = Topics.txPrepared;
      key = event.message.sourceWallet;
      payload = encodeEvent(Topics.txPrepared, event.message);
      break;
    case 'tx.status':
      type = Topics.txStatus;
      key = event.message.sourceWallet;
      payload = encodeEvent(Topics.txStatus, event.message);
      break;
    case 'deposit.detected':
      type = Topics.depositDetected;
      key = event.message.address;
      payload = encodeEvent(Topics.depositDetected, event.message);
      break;
    case 'incident.raised':
      type = Topics.incidentRaised;
      key = event.message.incidentId;
      payload = encodeEvent(Topics.incidentRaised, event.message);
      break;
  }
  return {
    topic: topicName(type),
    envelope: createEnvelope({
      type,
      key,
      correlationId: event.correlationId,
      causationId: event.causationId,
      producer: PRODUCER,
      schemaVersion: topicVersion(type),
      payload,
      occurredAt: now,
    }),
  };
}
