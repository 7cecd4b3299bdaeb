// Consumes the pipeline's events (risk, policy, chain-adapter, signer) and projects them
// onto withdrawals: decode -> map -> PipelineProjector inside handleOnce (inbox), so each
// event has its effect exactly once. Undecodable records go to the dead-letter topic.
import {
  PolicyDecision,
  RiskVerdict,
  Topics,
  TxState,
  decodePayload,
  type DecodedEvent,
  type Topic,
} from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { PipelineFact, PipelineProjector } from '../../application/pipeline.js';
import type { TopicNamer } from '../events.js';

export const PIPELINE_TOPICS: readonly Topic[] = [Topics.riskAssessed, Topics.policyDecided, Topics.txPrepared, Topics.txSigned, Topics.txRefused, Topics.txStatus];

const firstReason = (reasons: readonly { code: string; detail: string }[]): { reasonCode: string; reasonDetail: string } => ({
  reasonCode: reasons[0]?.code ?? '',
  reasonDetail: reasons.map((r) => r.detail).filter(Boolean).join('; ').slice(0, 500),
});

/**
 * Treasury transfers between the custodian's own wallets (hot-wallet sweeps and
 * replenishments, decided by policy: docs/policies.md) travel the same topics under ids that
 * start with "treasury:" (proto PolicyDecided.treasury_transfer). They are not withdrawals of
 * intake's: ignored explicitly, never looked up (withdrawal ids are UUIDs) nor parked.
 */
export const TREASURY_TRANSFER_PREFIX = 'treasury:';

/** Pipeline event -> the state it means for intake (undefined: nothing to do). */
export function factOf(event: DecodedEvent): PipelineFact | undefined {
  const fact = withdrawalFactOf(event);
  return fact && fact.withdrawalId.startsWith(TREASURY_TRANSFER_PREFIX) ? undefined : fact;
}

function withdrawalFactOf(event: DecodedEvent): PipelineFact | undefined {
  switch (event.type) {
    case Topics.riskAssessed: {
      const m = event.message;
      const reason = firstReason(m.reasons);
      if (m.verdict === RiskVerdict.RISK_VERDICT_CLEAR) return { withdrawalId: m.withdrawalId, to: 'SCREENED', ...reason };
      if (m.verdict === RiskVerdict.RISK_VERDICT_REVIEW) return { withdrawalId: m.withdrawalId, to: 'HELD', ...reason, reasonCode: reason.reasonCode || 'RISK_REVIEW' };
      if (m.verdict === RiskVerdict.RISK_VERDICT_BLOCK) return { withdrawalId: m.withdrawalId, to: 'DENIED', ...reason, reasonCode: reason.reasonCode || 'RISK_BLOCKED' };
      return undefined;
    }
    case Topics.policyDecided: {
      const m = event.message;
      const reason = firstReason(m.reasons);
      switch (m.decision) {
        case PolicyDecision.POLICY_DECISION_ALLOW:
          return { withdrawalId: m.withdrawalId, to: 'APPROVED', ...reason };
        case PolicyDecision.POLICY_DECISION_DENY:
          return { withdrawalId: m.withdrawalId, to: 'DENIED', ...reason, reasonCode: reason.reasonCode || 'POLICY_DENIED' };
        case PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL:
          return { withdrawalId: m.withdrawalId, to: 'AWAITING_APPROVAL', ...reason };
        case PolicyDecision.POLICY_DECISION_HOLD:
          return { withdrawalId: m.withdrawalId, to: 'HELD', ...reason, reasonCode: reason.reasonCode || 'POLICY_HOLD' };
        default:
          return undefined;
      }
    }
    case Topics.txPrepared:
      return { withdrawalId: event.message.withdrawalId, to: 'PREPARED', reasonCode: '', reasonDetail: '' };
    case Topics.txSigned:
      return { withdrawalId: event.message.withdrawalId, to: 'SIGNED', reasonCode: '', reasonDetail: '', txHash: event.message.txHash };
    case Topics.txRefused:
      // Only a refusal that spent the decision fails the withdrawal. A forged, tampered or
      // replayed request refused before the signer's single-use reservation leaves the genuine
      // one signable: failing the withdrawal then would show FAILED while it may still be paid.
      if (!event.message.decisionConsumed) return undefined;
      return { withdrawalId: event.message.withdrawalId, to: 'FAILED', reasonCode: event.message.reasonCode || 'SIGNING_REFUSED', reasonDetail: event.message.detail };
    case Topics.txStatus: {
      const m = event.message;
      const base = { withdrawalId: m.withdrawalId, txHash: m.txHash, confirmations: m.confirmations };
      switch (m.state) {
        case TxState.TX_STATE_BROADCAST:
          return { ...base, to: 'BROADCAST', reasonCode: '', reasonDetail: '' };
        case TxState.TX_STATE_CONFIRMED:
          return { ...base, to: 'CONFIRMED', reasonCode: '', reasonDetail: '' };
        case TxState.TX_STATE_FINAL:
          return { ...base, to: 'FINAL', reasonCode: '', reasonDetail: '' };
        case TxState.TX_STATE_REORGED:
          return { ...base, to: 'REORGED', reasonCode: 'REORGED', reasonDetail: `block ${m.blockHash} left the canonical chain` };
        case TxState.TX_STATE_FAILED:
        case TxState.TX_STATE_DROPPED:
          return { ...base, to: 'FAILED', reasonCode: m.reasonCode || (m.state === TxState.TX_STATE_DROPPED ? 'TX_DROPPED' : 'TX_FAILED'), reasonDetail: '' };
        case TxState.TX_STATE_REPLACED:
          // Fee bump: same withdrawal, new hash; the state does not change.
          return { withdrawalId: m.withdrawalId, to: 'BROADCAST', reasonCode: '', reasonDetail: '', txHash: m.replacedByTxHash };
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}

export interface PipelineConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly projector: PipelineProjector;
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onResult?: (result: string, envelope: Envelope) => void;
}

export async function startPipelineConsumer(options: PipelineConsumerOptions): Promise<Subscription> {
  const handler = withDeadLetter<Envelope>({
    bus: options.bus,
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let event: DecodedEvent;
      try {
        event = decodePayload(envelope);
      } catch (err) {
        throw new NonRetryableError('payload cannot be decoded', { cause: err });
      }
      const fact = factOf(event);
      if (!fact) return;
      const outcome = await handleOnce(options.dataSource, options.groupId, envelope, (manager) =>
        options.projector.apply(fact, { correlationId: envelope.correlationId, causationId: envelope.id, topic: envelope.type }, manager),
      );
      options.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
    },
  });
  return options.bus.subscribe({ groupId: options.groupId, topics: PIPELINE_TOPICS.map(options.topicName), handler });
}
