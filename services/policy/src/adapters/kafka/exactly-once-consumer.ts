// One way policy's side consumers (maintenance windows, treasury outcomes) read a topic: the
// envelope decoded (undecodable → dead letter), the payload decoded (undecodable → dead
// letter), routed to at most one effect, and that effect applied inside handleOnce (the inbox)
// in the consumer's own group — exactly once; a database error is retried, then dead-lettered.
import { decodePayload, type DecodedEvent } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource, EntityManager } from 'typeorm';

/** The effect of one event, run in the inbox's transaction; its result names what happened. */
export type Effect = (manager: EntityManager) => Promise<string>;

export interface ExactlyOnceConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly groupId: string;
  readonly topics: readonly string[];
  /** The effect of an event, or undefined when the event is none of this consumer's business. */
  readonly route: (event: DecodedEvent, envelope: Envelope) => Effect | undefined;
  readonly onResult?: (result: string, envelope: Envelope) => void;
  readonly metrics?: BusMetrics;
}

export async function startExactlyOnceConsumer(options: ExactlyOnceConsumerOptions): Promise<Subscription> {
  const handler = withDeadLetter<Envelope>({
    bus: options.bus,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let event: DecodedEvent;
      try {
        event = decodePayload(envelope);
      } catch (err) {
        throw new NonRetryableError('payload cannot be decoded', { cause: err });
      }
      const effect = options.route(event, envelope);
      if (!effect) return;
      const outcome = await handleOnce(options.dataSource, options.groupId, envelope, effect);
      options.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
    },
  });
  return options.bus.subscribe({ groupId: options.groupId, topics: [...options.topics], handler });
}
