// Domain outcomes -> custody.events.v1 envelopes for the outbox. Topic names go through
// `topicName` so tests can isolate themselves with a prefix.
import {
  KeyLifecycle,
  KeyPurpose,
  KeyTier as WireKeyTier,
  KeyTransition,
  QuorumEvidence,
  Topics,
  TxSigned,
  TxSigningRefused,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventType,
  type Topic,
} from '@custody/contracts';
import { createEnvelope, type OutboxEntry } from '@custody/event-bus';
import type { RefusedOutcome, SignedOutcome, TransitionRecord } from '../application/ports.js';
import type { KeyRecord, KeyTransitionEvent, KeyTransitionName } from '../domain/key.js';

export const PRODUCER = 'signer';

export type TopicNamer = (topic: Topic) => string;
export const identityTopics: TopicNamer = (topic) => topic;

function entry(type: EventType & Topic, key: string, payload: Buffer, context: { correlationId: string; causationId?: string | undefined; occurredAt: Date }, topicName: TopicNamer): OutboxEntry {
  return {
    topic: topicName(type),
    envelope: createEnvelope({
      type,
      key,
      correlationId: context.correlationId,
      causationId: context.causationId,
      producer: PRODUCER,
      schemaVersion: topicVersion(type),
      payload,
      occurredAt: context.occurredAt,
    }),
  };
}

export function txSignedEntry(o: SignedOutcome, ctx: { correlationId: string; causationId: string }, topicName: TopicNamer): OutboxEntry {
  const message = TxSigned.fromPartial({
    withdrawalId: o.withdrawalId,
    decisionId: o.decisionId,
    chain: o.chain,
    sourceWallet: o.sourceWallet,
    keyId: o.keyId,
    signedTx: Buffer.from(o.signedTx),
    txHash: o.txHash,
    signedAt: timestampFromDate(o.at),
  });
  return entry(Topics.txSigned, o.sourceWallet, encodeEvent(Topics.txSigned, message), { ...ctx, occurredAt: o.at }, topicName);
}

export function txRefusedEntry(o: RefusedOutcome, ctx: { correlationId: string; causationId: string }, topicName: TopicNamer): OutboxEntry {
  const message = TxSigningRefused.fromPartial({
    withdrawalId: o.withdrawalId,
    decisionId: o.decisionId,
    chain: o.chain,
    sourceWallet: o.sourceWallet,
    reasonCode: o.refusal.code,
    detail: o.refusal.detail.slice(0, 500),
    refusedAt: timestampFromDate(o.at),
    decisionConsumed: o.decisionConsumed,
  });
  // An unparseable request may have no wallet; the key must still be non-empty.
  return entry(Topics.txRefused, o.sourceWallet || 'unknown', encodeEvent(Topics.txRefused, message), { ...ctx, occurredAt: o.at }, topicName);
}

const TRANSITIONS: Readonly<Record<KeyTransitionName, KeyTransition>> = {
  generated: KeyTransition.KEY_TRANSITION_GENERATED,
  activated: KeyTransition.KEY_TRANSITION_ACTIVATED,
  deactivated: KeyTransition.KEY_TRANSITION_DEACTIVATED,
  suspended: KeyTransition.KEY_TRANSITION_SUSPENDED,
  resumed: KeyTransition.KEY_TRANSITION_RESUMED,
  retired: KeyTransition.KEY_TRANSITION_RETIRED,
  destroyed: KeyTransition.KEY_TRANSITION_DESTROYED,
};

const TIERS = { hot: WireKeyTier.KEY_TIER_HOT, warm: WireKeyTier.KEY_TIER_WARM, cold: WireKeyTier.KEY_TIER_COLD } as const;

export function keyLifecycleEntry(
  key: KeyRecord,
  event: KeyTransitionEvent,
  quorum: TransitionRecord['quorum'],
  ctx: { correlationId: string; causationId?: string },
  topicName: TopicNamer,
): OutboxEntry {
  const message = KeyLifecycle.fromPartial({
    keyId: key.keyId,
    transition: TRANSITIONS[event.transition],
    purpose: key.purpose === 'signature' ? KeyPurpose.KEY_PURPOSE_SIGNATURE : KeyPurpose.KEY_PURPOSE_ENCRYPTION,
    tier: TIERS[key.tier],
    chain: key.chain,
    actor: event.actor,
    ...(quorum
      ? {
          quorumEvidence: QuorumEvidence.fromPartial({
            quorum: quorum.required,
            approvals: quorum.approvals.map((a) => ({ operatorId: a.operatorId, role: a.role, keyId: a.keyId, signature: Buffer.from(a.signature) })),
          }),
        }
      : {}),
    reason: `${event.from ?? 'none'} -> ${event.to}: ${event.reason}`.slice(0, 500),
    transitionedAt: timestampFromDate(event.at),
    // Consumers (chain-adapter's wallet registry) map the wallet id to its chain address.
    walletId: key.walletId,
    address: key.address,
  });
  return entry(Topics.keyLifecycle, key.keyId, encodeEvent(Topics.keyLifecycle, message), { correlationId: ctx.correlationId, causationId: ctx.causationId, occurredAt: event.at }, topicName);
}
