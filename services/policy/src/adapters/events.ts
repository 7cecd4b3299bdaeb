// Domain -> custody.events.v1 policy.decided envelopes for the outbox. Topic names go
// through `topicName` so tests can isolate themselves with a prefix.
import { Approval, PolicyDecided, PolicyDecision, RequiredApprovals, Topics, TreasuryTransfer, encodeEvent, timestampFromDate, topicVersion, type Topic } from '@custody/contracts';
import { createEnvelope, type OutboxEntry } from '@custody/event-bus';
import type { DecisionRecord, EventContext, Vote } from '../application/decisions.js';
import { formatAmount } from '../domain/amount.js';

export const PRODUCER = 'policy';

export type TopicNamer = (topic: Topic) => string;
export const identityTopics: TopicNamer = (topic) => topic;

const WIRE: Readonly<Record<DecisionRecord['status'], PolicyDecision>> = {
  allow: PolicyDecision.POLICY_DECISION_ALLOW,
  deny: PolicyDecision.POLICY_DECISION_DENY,
  rejected: PolicyDecision.POLICY_DECISION_DENY,
  expired: PolicyDecision.POLICY_DECISION_DENY,
  require_approval: PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL,
  hold: PolicyDecision.POLICY_DECISION_HOLD,
};

export function policyDecidedMessage(d: DecisionRecord, approvals: readonly Vote[]): PolicyDecided {
  const out = d.output;
  return PolicyDecided.fromPartial({
    decisionId: d.id,
    withdrawalId: d.withdrawalId,
    decision: WIRE[d.status],
    reasons: out.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    bundleDigest: d.bundleDigest,
    requiredApprovals: RequiredApprovals.fromPartial({ quorum: d.quorum, roles: [...d.roles] }),
    ...(d.expiresAt ? { expiresAt: timestampFromDate(d.expiresAt) } : {}),
    ...(out.outcome === 'hold' ? { holdUntil: timestampFromDate(new Date(out.holdUntil)) } : {}),
    decisionToken: d.decisionToken ? Buffer.from(d.decisionToken, 'utf8') : Buffer.alloc(0),
    approvals: approvals.map((v) =>
      Approval.fromPartial({ operatorId: v.operatorId, role: v.role, signature: Buffer.from(v.signature), keyId: v.keyId, approvedAt: timestampFromDate(v.votedAt) }),
    ),
    decidedAt: timestampFromDate(d.updatedAt),
    asset: d.asset,
    chain: d.chain,
    amount: formatAmount(d.amount),
    sourceWallet: d.sourceWallet,
    destinationAddress: d.destinationAddress,
    destinationTag: d.destinationTag,
    ...treasuryTransferOf(d),
  });
}

/** PolicyDecided.treasury_transfer for a treasury transfer's decision (its input says so), nothing otherwise. */
function treasuryTransferOf(d: DecisionRecord): { treasuryTransfer?: TreasuryTransfer } {
  const input = d.input;
  if (input['kind'] !== 'treasury_transfer') return {};
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  const source = input['source_wallet'] as Record<string, unknown> | undefined;
  const destination = input['destination'] as Record<string, unknown> | undefined;
  return {
    treasuryTransfer: TreasuryTransfer.fromPartial({
      direction: text(input['direction']),
      destinationWallet: text(destination?.['wallet_id']),
      sourceTier: text(source?.['tier']),
      destinationTier: text(input['destination_tier']),
    }),
  };
}

export function policyDecidedEntry(d: DecisionRecord, approvals: readonly Vote[], ctx: EventContext, topicName: TopicNamer): OutboxEntry {
  const type = Topics.policyDecided;
  return {
    topic: topicName(type),
    envelope: createEnvelope({
      type,
      key: d.withdrawalId,
      correlationId: ctx.correlationId,
      causationId: ctx.causationId,
      producer: PRODUCER,
      schemaVersion: topicVersion(type),
      payload: encodeEvent(type, policyDecidedMessage(d, approvals)),
      occurredAt: d.updatedAt,
    }),
  };
}
