// Consumes every custody topic and appends one record per event, exactly once: the inbox
// row (handleOnce) and the record commit in one transaction. The envelope bytes are recorded
// as received. If the append fails (database unwritable) the handler throws and the bus
// retries: nothing is acknowledged that is not in the log.
import { ALL_TOPICS, Topics, type Topic } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { AuditLog } from '../../application/audit-log.js';

export type TopicNamer = (topic: Topic) => string;
export const identityTopics: TopicNamer = (topic) => topic;

export interface AuditConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly log: AuditLog;
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onRecorded?: (envelope: Envelope, outcome: 'recorded' | 'duplicate' | 'skipped') => void;
}

interface Received {
  readonly bytes: Uint8Array;
  readonly envelope: Envelope;
}

export async function startAuditConsumer(options: AuditConsumerOptions): Promise<Subscription> {
  const handler = withDeadLetter<Received>({
    bus: options.bus,
    // An unwritable log must not push events past the audit trail into the DLQ: retry in
    // place (the partition waits) for ~15 minutes before giving up.
    maxAttempts: 40,
    backoff: { initialMs: 200, maxMs: 30_000, factor: 2 },
    decode: (message) => {
      try {
        return { bytes: Uint8Array.from(message.value), envelope: protobufEnvelopeCodec.decode(message.value) };
      } catch (err) {
        throw new NonRetryableError('envelope cannot be decoded', { cause: err });
      }
    },
    handle: async ({ bytes, envelope }) => {
      // A record of our own records would loop: audit never audits custody.audit.recorded
      // events it produced itself.
      if (envelope.type === Topics.auditRecorded && envelope.producer === 'audit') {
        options.onRecorded?.(envelope, 'skipped');
        return;
      }
      const outcome = await handleOnce(options.dataSource, options.groupId, envelope, (manager) =>
        options.log.recordEvent(
          {
            id: envelope.id,
            type: envelope.type,
            producer: envelope.producer,
            correlationId: envelope.correlationId,
            causationId: envelope.causationId,
            occurredAt: envelope.occurredAt,
            bytes,
          },
          manager,
        ),
      );
      options.onRecorded?.(envelope, outcome.status === 'duplicate' ? 'duplicate' : 'recorded');
    },
  });
  return options.bus.subscribe({ groupId: options.groupId, topics: ALL_TOPICS.map(options.topicName), handler });
}
