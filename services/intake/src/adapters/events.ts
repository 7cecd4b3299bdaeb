// Domain -> custody.events.v1 envelopes for the outbox. Topic names go through `topicName`
// so tests can isolate themselves with a prefix; the envelope type stays the canonical one.
import {
  IntegratorAction,
  IntegratorChanged,
  MaintenanceScheduled,
  RequestSignature,
  Topics,
  WithdrawalRequested,
  WithdrawalStatus,
  WithdrawalStatusChanged,
  encodeEvent,
  timestampFromDate,
  topicVersion,
  type EventType,
  type Topic,
} from '@custody/contracts';
import { createEnvelope, type OutboxEntry } from '@custody/event-bus';
import type { AdminRecord } from '../application/ports.js';
import type { MaintenanceWindow } from '../domain/maintenance.js';
import type { Withdrawal } from '../domain/withdrawal.js';
import type { WithdrawalStateName } from '../domain/withdrawal-state.js';

export const PRODUCER = 'intake';

export type TopicNamer = (topic: Topic) => string;
export const identityTopics: TopicNamer = (topic) => topic;

const STATUS: Readonly<Record<WithdrawalStateName, WithdrawalStatus>> = {
  REQUESTED: WithdrawalStatus.WITHDRAWAL_STATUS_REQUESTED,
  SCREENED: WithdrawalStatus.WITHDRAWAL_STATUS_SCREENED,
  HELD: WithdrawalStatus.WITHDRAWAL_STATUS_HELD,
  AWAITING_APPROVAL: WithdrawalStatus.WITHDRAWAL_STATUS_PENDING_APPROVAL,
  APPROVED: WithdrawalStatus.WITHDRAWAL_STATUS_APPROVED,
  PREPARED: WithdrawalStatus.WITHDRAWAL_STATUS_SIGNING,
  SIGNED: WithdrawalStatus.WITHDRAWAL_STATUS_SIGNED,
  BROADCAST: WithdrawalStatus.WITHDRAWAL_STATUS_BROADCAST,
  CONFIRMED: WithdrawalStatus.WITHDRAWAL_STATUS_CONFIRMED,
  FINAL: WithdrawalStatus.WITHDRAWAL_STATUS_COMPLETED,
  DENIED: WithdrawalStatus.WITHDRAWAL_STATUS_DENIED,
  CANCELLED: WithdrawalStatus.WITHDRAWAL_STATUS_CANCELLED,
  FAILED: WithdrawalStatus.WITHDRAWAL_STATUS_FAILED,
  REORGED: WithdrawalStatus.WITHDRAWAL_STATUS_REORGED,
};

export function toEventStatus(state: WithdrawalStateName): WithdrawalStatus {
  return STATUS[state];
}

function entry<K extends EventType & Topic>(
  type: K,
  key: string,
  payload: Buffer,
  context: { correlationId: string; causationId?: string | undefined; occurredAt: Date },
  topicName: TopicNamer,
): OutboxEntry {
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

export function withdrawalRequestedEntry(w: Withdrawal, correlationId: string, topicName: TopicNamer): OutboxEntry {
  const message = WithdrawalRequested.fromPartial({
    withdrawalId: w.id,
    clientId: w.clientId,
    customerAccount: w.customerAccount,
    asset: w.asset,
    chain: w.chain,
    amount: w.amount.toString(),
    destinationAddress: w.destinationAddress,
    destinationTag: w.destinationTag,
    clientReference: w.clientReference,
    idempotencyKey: w.idempotencyKey,
    requestedAt: timestampFromDate(w.createdAt),
    requestSignature: RequestSignature.fromPartial({
      keyId: w.evidence.keyId,
      algorithm: w.evidence.algorithm,
      signature: Buffer.from(w.evidence.signature),
      signedPayload: Buffer.from(w.evidence.signedPayload),
    }),
  });
  return entry(Topics.withdrawalRequested, w.id, encodeEvent(Topics.withdrawalRequested, message), { correlationId, occurredAt: w.createdAt }, topicName);
}

export function withdrawalStatusEntry(
  before: Withdrawal,
  after: Withdrawal,
  context: { correlationId: string; causationId?: string | undefined },
  topicName: TopicNamer,
): OutboxEntry {
  const message = WithdrawalStatusChanged.fromPartial({
    withdrawalId: after.id,
    clientId: after.clientId,
    previousStatus: toEventStatus(before.state),
    status: toEventStatus(after.state),
    reasonCode: after.reasonCode,
    detail: after.reasonDetail,
    txHash: after.txHash,
    changedAt: timestampFromDate(after.updatedAt),
  });
  return entry(Topics.withdrawalStatus, after.id, encodeEvent(Topics.withdrawalStatus, message), { ...context, occurredAt: after.updatedAt }, topicName);
}

export function maintenanceScheduledEntry(w: MaintenanceWindow, correlationId: string, topicName: TopicNamer): OutboxEntry {
  const message = MaintenanceScheduled.fromPartial({
    maintenanceId: w.id,
    chains: [...w.chains],
    assets: [...w.assets],
    startsAt: timestampFromDate(w.startsAt),
    endsAt: timestampFromDate(w.endsAt),
    withdrawalsSuspended: w.withdrawalsSuspended,
    depositsDelayed: w.depositsDelayed,
    description: w.description,
    announcedBy: w.announcedBy,
    // A cancellation repeats the whole window (same key): the latest record per id is its state.
    cancelled: w.cancelledAt !== undefined,
    ...(w.cancelledAt ? { cancelledAt: timestampFromDate(w.cancelledAt), cancelledBy: w.cancelledBy ?? '' } : {}),
  });
  return entry(Topics.maintenanceScheduled, w.id, encodeEvent(Topics.maintenanceScheduled, message), { correlationId, occurredAt: w.cancelledAt ?? w.announcedAt }, topicName);
}

const INTEGRATOR_ACTIONS = {
  REGISTER_INTEGRATOR: IntegratorAction.INTEGRATOR_ACTION_REGISTERED,
  REVOKE_INTEGRATOR: IntegratorAction.INTEGRATOR_ACTION_REVOKED,
  ROTATE_INTEGRATOR_KEY: IntegratorAction.INTEGRATOR_ACTION_KEY_ROTATED,
} as const;

/** custody.integrator.changed.v1 for an operator's change (public keys and pins only). */
export function integratorChangedEntry(
  record: AdminRecord & { readonly action: keyof typeof INTEGRATOR_ACTIONS },
  details: { readonly keyId?: string; readonly publicKey?: Uint8Array; readonly previousKeysExpireAt?: Date; readonly certificateSha256?: string },
  topicName: TopicNamer,
): OutboxEntry {
  const message = IntegratorChanged.fromPartial({
    clientId: record.target,
    action: INTEGRATOR_ACTIONS[record.action],
    actor: record.actor.operatorId,
    changedAt: timestampFromDate(record.at),
    keyId: details.keyId ?? '',
    publicKey: details.publicKey ? Buffer.from(details.publicKey).toString('hex') : '',
    ...(details.previousKeysExpireAt ? { previousKeysExpireAt: timestampFromDate(details.previousKeysExpireAt) } : {}),
    certificateSha256: details.certificateSha256 ?? '',
    reason: record.reason ?? '',
    signedPayload: Buffer.from(record.actor.evidence.signedPayload),
    signature: Buffer.from(record.actor.evidence.signature),
    signatureKeyId: record.actor.evidence.keyId,
  });
  return entry(Topics.integratorChanged, record.target, encodeEvent(Topics.integratorChanged, message), { correlationId: record.correlationId, occurredAt: record.at }, topicName);
}
