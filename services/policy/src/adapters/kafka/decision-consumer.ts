// Consumes withdrawal.requested and risk.assessed: decode -> DecisionService inside
// handleOnce (inbox), so each event has its effect exactly once. Undecodable records go
// to the dead-letter topic. With no active bundle the handler throws (the bus retries):
// nothing is decided and nothing is acknowledged (fail closed).
import { RiskVerdict, Topics, decodePayload, timestampToDate, type DecodedEvent, type RiskAssessed, type WithdrawalRequested } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type BackoffOptions, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { DecisionService, EventContext } from '../../application/decisions.js';
import { parseAmount } from '../../domain/amount.js';
import type { StoredAssessment, StoredRequest } from '../../domain/policy-input.js';
import type { TopicNamer } from '../events.js';

export const CONSUMED_TOPICS = [Topics.withdrawalRequested, Topics.riskAssessed] as const;

const SANCTIONS = /sanction/i;

export function requestOf(m: WithdrawalRequested): StoredRequest {
  const amount = parseAmount(m.amount);
  if (!m.withdrawalId || amount === undefined || amount === 0n || !m.asset || !m.destinationAddress) {
    throw new NonRetryableError('withdrawal.requested lacks a withdrawal id, asset, destination or canonical positive amount');
  }
  return {
    withdrawalId: m.withdrawalId,
    clientId: m.clientId,
    customerAccount: m.customerAccount,
    asset: m.asset,
    chain: m.chain,
    amount,
    destinationAddress: m.destinationAddress,
    destinationTag: m.destinationTag,
    requestedAt: m.requestedAt ? timestampToDate(m.requestedAt) : new Date(0),
  };
}

/** RiskAssessed -> what the policy reads; sanctions_hit is a BLOCK whose reasons name a sanctions match. */
export function assessmentOf(m: RiskAssessed): StoredAssessment | undefined {
  if (!m.withdrawalId) return undefined; // a deposit screening: not the policy's
  const verdict =
    m.verdict === RiskVerdict.RISK_VERDICT_CLEAR ? 'ALLOW' : m.verdict === RiskVerdict.RISK_VERDICT_REVIEW ? 'REVIEW' : m.verdict === RiskVerdict.RISK_VERDICT_BLOCK ? 'BLOCK' : 'UNKNOWN';
  return {
    withdrawalId: m.withdrawalId,
    assessmentId: m.assessmentId || `unidentified-${m.withdrawalId}`,
    verdict,
    score: Math.min(100, m.score),
    sanctionsHit: m.reasons.some((r) => SANCTIONS.test(r.code)),
    assessedAt: m.assessedAt ? timestampToDate(m.assessedAt) : new Date(0),
  };
}

export interface DecisionConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly decisions: DecisionService;
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onResult?: (result: string, envelope: Envelope) => void;
  readonly metrics?: BusMetrics;
  /**
   * Retries in place of a failing event (default withDeadLetter's: 5 attempts). With the
   * ledger facts, it must outlast the ledger-hold wait (see redeliveryFor).
   */
  readonly redelivery?: { readonly maxAttempts: number; readonly backoff: BackoffOptions };
}

export async function startDecisionConsumer(options: DecisionConsumerOptions): Promise<Subscription> {
  const handler = withDeadLetter<Envelope>({
    bus: options.bus,
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.redelivery ? { maxAttempts: options.redelivery.maxAttempts, backoff: options.redelivery.backoff } : {}),
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let event: DecodedEvent;
      try {
        event = decodePayload(envelope);
      } catch (err) {
        throw new NonRetryableError('payload cannot be decoded', { cause: err });
      }
      const ctx: EventContext = { correlationId: envelope.correlationId, causationId: envelope.id };
      let effect: ((tx: unknown) => Promise<string>) | undefined;
      if (event.type === Topics.withdrawalRequested) {
        const request = requestOf(event.message);
        effect = (tx) => options.decisions.onWithdrawalRequested(tx, request, ctx);
      } else if (event.type === Topics.riskAssessed) {
        const assessment = assessmentOf(event.message);
        if (assessment) effect = (tx) => options.decisions.onRiskAssessed(tx, assessment, ctx);
      }
      if (!effect) return;
      const run = effect;
      const outcome = await handleOnce(options.dataSource, options.groupId, envelope, (manager) => run(manager));
      options.onResult?.(outcome.status === 'duplicate' ? 'duplicate' : outcome.result, envelope);
    },
  });
  return options.bus.subscribe({ groupId: options.groupId, topics: CONSUMED_TOPICS.map(options.topicName), handler });
}
