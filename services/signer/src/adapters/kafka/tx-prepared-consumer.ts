// Consumes tx.prepared: decode → SignTransaction (which owns the inbox/outbox transactions).
// Undecodable records go to the dead-letter topic.
import { Topics, decodePayload } from '@custody/contracts';
import { NonRetryableError, protobufEnvelopeCodec, withDeadLetter, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { SignTransaction } from '../../application/sign-transaction.js';
import type { TopicNamer } from '../events.js';

export async function startTxPreparedConsumer(options: { bus: EventBus; useCase: SignTransaction; groupId: string; topicName: TopicNamer; metrics?: BusMetrics }): Promise<Subscription> {
  const handler = withDeadLetter<Envelope>({
    bus: options.bus,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let event;
      try {
        event = decodePayload(envelope);
      } catch (err) {
        throw new NonRetryableError('payload cannot be decoded', { cause: err });
      }
      if (event.type !== Topics.txPrepared) throw new NonRetryableError(`unexpected event type ${event.type} on the tx.prepared topic`);
      await options.useCase.handle(event.message, { eventId: envelope.id, correlationId: envelope.correlationId });
    },
  });
  return options.bus.subscribe({ groupId: options.groupId, topics: [options.topicName(Topics.txPrepared)], handler });
}
