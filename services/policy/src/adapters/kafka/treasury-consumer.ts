// Closes treasury transfers when the chain has the last word: custody.tx.status.v1 FINAL
// (closed, the ledger books it), FAILED / DROPPED and custody.tx.refused.v1 with
// decision_consumed (closed as failed: the monitor may propose again), REORGED (a final
// transfer is open again, so no second sweep is proposed while it may be re-included).
// Only ids starting with "treasury:" are read; everything else is a customer withdrawal and
// none of this consumer's business. Its own group (`<decision group>.treasury`), exactly once
// through the inbox.
import { Topics, TxState, type DecodedEvent } from '@custody/contracts';
import type { BusMetrics, Envelope, EventBus, Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { TreasuryService } from '../../application/treasury.js';
import { isTreasuryTransferId } from '../../domain/treasury.js';
import type { TopicNamer } from '../events.js';
import { startExactlyOnceConsumer } from './exactly-once-consumer.js';

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
  return startExactlyOnceConsumer({
    bus: options.bus,
    dataSource: options.dataSource,
    groupId: treasuryGroupOf(options.groupId),
    topics: TREASURY_TOPICS.map(options.topicName),
    route: (event) => {
      const o = chainOutcomeOf(event);
      return o ? (manager) => options.treasury.onChainOutcome(manager, o.transferId, o.outcome, o.reason) : undefined;
    },
    ...(options.onResult ? { onResult: options.onResult } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}
