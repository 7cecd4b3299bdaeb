// Closes treasury transfers when the chain has the last word: custody.tx.status.v1 FINAL
// (closed, the ledger books it), FAILED / DROPPED and custody.tx.refused.v1 with
// decision_consumed (closed as failed: the monitor may propose again), REORGED (a final
// transfer is open again, so no second sweep is proposed while it may be re-included).
// Only ids starting with "treasury:" are read; everything else is a customer withdrawal and
// none of this consumer's business. Its own group (`<decision group>.treasury`), exactly once
// through the inbox.
import { Topics, TxState, decodePayload, type DecodedEvent } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { TreasuryService } from '../../application/treasury.js';
import { isTreasuryTransferId } from '../../domain/treasury.js';
import type { TopicNamer } from '../events.js';

export const TREASURY_TOPICS = [Topics.txStatus, Topics.txRefused] as const;

export const treasuryGroupOf = (groupId: string): string => `${groupId}.treasury`;

export type ChainOutcome = { readonly transferId: string; readonly outcome: 'final' | 'failed' | 'reorged'; readonly reason: string };

/** The outcome a pipeline event means for a treasury transfer (undefined: nothing). */
export function chainOutcomeOf(event: DecodedEvent): ChainOutcome | undefined {
  if (event.type === Topics.txStatus) {
    const m = event.message;
    if (!isTreasuryTransferId(m.withdrawalId)) return undefined;
    switch (m.state) {
      case TxState.TX_STATE_FINAL:
        return { transferId: m.withdrawalId, outcome: 'final', reason: '' };
      case TxState.TX_STATE_FAILED:
      case TxState.TX_STATE_DROPPED:
        return { transferId: m.withdrawalId, outcome: 'failed', reason: m.reasonCode || (m.state === TxState.TX_STATE_DROPPED ? 'TX_DROPPED' : 'TX_FAILED') };
      case TxState.TX_STATE_REORGED:
        return { transferId: m.withdrawalId, outcome: 'reorged', reason: '' };
      default:
        return undefined;
    }
  }
  if (event.type === Topics.txRefused) {
    const m = event.message;
    if (!isTreasuryTransferId(m.withdrawalId) || !m.decisionConsumed) return undefined;
    return { transferId: m.withdrawalId, outcome: 'failed', reason: m.reasonCode || 'SIGNING_REFUSED' };
  }
  return undefined;
}

export interface TreasuryConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly treasury: TreasuryService;
  /** The decision consumer's group id; this consumer joins `treasuryGroupOf(groupId)`. */
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onResult?: (result: string, envelope: Envelope) => void;
  readonly metrics?: BusMetrics;
}

export async function startTreasuryConsumer(options: TreasuryConsumerOptions): Promise<Subscription> {
  const group = treasuryGroupOf(options.groupId);
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
      const o = chainOutcomeOf(event);
      if (!o) return;
      const outcome = await handleOnce(options.dataSource, group, envelope, (manager) => options.treasury.onChainOutcome(manager, o.transferId, o.outcome, o.reason));
      options.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
    },
  });
  return options.bus.subscribe({ groupId: group, topics: TREASURY_TOPICS.map(options.topicName), handler });
}
