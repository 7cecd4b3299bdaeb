// Consumes the events that move money in the books and posts each exactly once
// (handleOnce: inbox row + posting in one transaction). Undecodable events and malformed
// amounts are dead-lettered; database failures are retried by the bus.
import { DepositState, KeyPurpose, KeyTier, PolicyDecision, Topics, TxState, WithdrawalStatus, decodePayload, timestampToDate, type DecodedEvent, type Topic } from '@custody/contracts';
import { NonRetryableError, handleOnce, protobufEnvelopeCodec, withDeadLetter, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import { isDomainError } from '@custody/platform';
import type { DataSource } from 'typeorm';
import type { LedgerPostings, PostingOutcome } from '../../application/postings.js';
import { isTreasuryTransferId, type Tx } from '../../application/ports.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import { isValidWalletId } from '../../domain/postings.js';
import { parseAmount } from '../../domain/amount.js';
import type { WalletTier } from '../../domain/wallets.js';

export type TopicNamer = (topic: Topic) => string;
export const identityTopics: TopicNamer = (topic) => topic;

/**
 * One consumer group (ledger.postings) reads all of them; key.lifecycle registers the custodial
 * wallets; policy.decided only for treasury transfers (an ALLOW names what moves between our own wallets).
 */
export const LEDGER_TOPICS: readonly Topic[] = [Topics.withdrawalRequested, Topics.withdrawalStatus, Topics.txStatus, Topics.depositDetected, Topics.keyLifecycle, Topics.policyDecided];

const TIERS = new Map<KeyTier, WalletTier>([
  [KeyTier.KEY_TIER_HOT, 'hot'],
  [KeyTier.KEY_TIER_WARM, 'warm'],
  [KeyTier.KEY_TIER_COLD, 'cold'],
]);

const RELEASING_STATUS = new Map<WithdrawalStatus, string>([
  [WithdrawalStatus.WITHDRAWAL_STATUS_DENIED, 'DENIED'],
  [WithdrawalStatus.WITHDRAWAL_STATUS_CANCELLED, 'CANCELLED'],
  [WithdrawalStatus.WITHDRAWAL_STATUS_FAILED, 'FAILED'],
]);

/** The posting an event means (undefined: nothing for the books). */
export function postingFor(event: DecodedEvent, postings: LedgerPostings, ctx: { eventId: string; correlationId: string }): ((tx: Tx) => Promise<PostingOutcome>) | undefined {
  switch (event.type) {
    case Topics.withdrawalRequested: {
      const m = event.message;
      const amount = parseAmount(m.amount, 'amount');
      return (tx) => postings.withdrawalRequested({ withdrawalId: m.withdrawalId, clientId: m.clientId, customerAccount: m.customerAccount, asset: m.asset, chain: m.chain, amount }, ctx, tx);
    }
    case Topics.withdrawalStatus: {
      const reason = RELEASING_STATUS.get(event.message.status);
      const id = event.message.withdrawalId;
      return reason ? (tx) => postings.release(id, reason, ctx, tx) : undefined;
    }
    case Topics.policyDecided: {
      // Customer withdrawals are booked from withdrawal.requested / tx.status; a decision about
      // one changes nothing here. A treasury transfer has no withdrawal.requested: its ALLOW is
      // where the ledger learns what will move.
      const m = event.message;
      if (!isTreasuryTransferId(m.withdrawalId) || m.decision !== PolicyDecision.POLICY_DECISION_ALLOW) return undefined;
      if (!m.treasuryTransfer) throw new InvalidArgumentError('treasury_transfer', 'TRANSFER_INVALID', `decision ${m.decisionId} of transfer ${m.withdrawalId} lacks treasury_transfer`);
      const destinationWallet = m.treasuryTransfer.destinationWallet;
      for (const [field, id] of [['source_wallet', m.sourceWallet], ['destination_wallet', destinationWallet]] as const) {
        if (!isValidWalletId(id)) throw new InvalidArgumentError(field, 'TRANSFER_INVALID', `transfer ${m.withdrawalId}: ${field} is not a wallet id`);
      }
      if (m.sourceWallet === destinationWallet) throw new InvalidArgumentError('destination_wallet', 'TRANSFER_INVALID', `transfer ${m.withdrawalId}: source and destination are the same wallet`);
      const amount = parseAmount(m.amount, 'amount');
      const t = { transferId: m.withdrawalId, decisionId: m.decisionId, asset: m.asset, chain: m.chain, amount, sourceWallet: m.sourceWallet, destinationWallet };
      return (tx) => postings.transferAuthorised(t, ctx, tx);
    }
    case Topics.txStatus: {
      const m = event.message;
      if (isTreasuryTransferId(m.withdrawalId)) {
        if (m.state === TxState.TX_STATE_FINAL) {
          const fee = m.feePaid === '' ? 0n : parseAmount(m.feePaid, 'fee_paid', { allowZero: true });
          return (tx) => postings.transferFinal(m.withdrawalId, fee, ctx, tx);
        }
        if (m.state === TxState.TX_STATE_REORGED) return (tx) => postings.transferReorged(m.withdrawalId, ctx, tx);
        // Failed / dropped: nothing was booked, nothing to release.
        return undefined;
      }
      if (m.state === TxState.TX_STATE_FINAL) {
        const fee = m.feePaid === '' ? 0n : parseAmount(m.feePaid, 'fee_paid', { allowZero: true });
        return (tx) => postings.settle(m.withdrawalId, m.sourceWallet, fee, ctx, tx);
      }
      if (m.state === TxState.TX_STATE_REORGED) return (tx) => postings.reverse(m.withdrawalId, ctx, tx);
      if (m.state === TxState.TX_STATE_FAILED || m.state === TxState.TX_STATE_DROPPED) return (tx) => postings.release(m.withdrawalId, m.reasonCode || 'TX_FAILED', ctx, tx);
      return undefined;
    }
    case Topics.depositDetected: {
      const m = event.message;
      if (m.state === DepositState.DEPOSIT_STATE_FINAL) {
        const amount = parseAmount(m.amount, 'amount');
        return (tx) => postings.depositFinal({ depositId: m.depositId, clientId: m.clientId, customerAccount: m.customerAccount, asset: m.asset, amount, chain: m.chain, address: m.address }, ctx, tx);
      }
      if (m.state === DepositState.DEPOSIT_STATE_ORPHANED) return (tx) => postings.depositOrphaned(m.depositId, ctx, tx);
      return undefined;
    }
    case Topics.keyLifecycle: {
      const m = event.message;
      const facts = {
        keyId: m.keyId,
        signatureKey: m.purpose === KeyPurpose.KEY_PURPOSE_SIGNATURE,
        walletId: m.walletId,
        tier: TIERS.get(m.tier),
        chain: m.chain,
        address: m.address.toLowerCase(),
        at: m.transitionedAt ? timestampToDate(m.transitionedAt) : new Date(0),
      };
      return (tx) => postings.registerWallet(facts, tx);
    }
    default:
      return undefined;
  }
}

export interface LedgerConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly postings: LedgerPostings;
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onPosted?: (envelope: Envelope, outcome: PostingOutcome | 'duplicate') => void;
  /** A posting attempt failed (it is retried, then dead-lettered). */
  readonly onFailure?: (envelope: Envelope, error: unknown) => void;
}

export async function startLedgerConsumer(options: LedgerConsumerOptions): Promise<Subscription> {
  const handler = withDeadLetter<Envelope>({
    bus: options.bus,
    // A posting must not be dead-lettered by a database outage: retry in place (the
    // partition waits) for ~15 minutes before giving up. (Events that overtake their
    // withdrawal.requested are parked, not retried: see LedgerPostings.)
    maxAttempts: 40,
    backoff: { initialMs: 200, maxMs: 30_000, factor: 2 },
    decode: (message) => protobufEnvelopeCodec.decode(message.value),
    handle: async (envelope) => {
      let posting: ((tx: Tx) => Promise<PostingOutcome>) | undefined;
      try {
        posting = postingFor(decodePayload(envelope), options.postings, { eventId: envelope.id, correlationId: envelope.correlationId });
      } catch (err) {
        throw new NonRetryableError(isDomainError(err) ? err.message : 'payload cannot be decoded', { cause: err });
      }
      if (!posting) return;
      const run = posting;
      let outcome: Awaited<ReturnType<typeof handleOnce<PostingOutcome>>>;
      try {
        outcome = await handleOnce(options.dataSource, options.groupId, envelope, (manager) => run(manager));
      } catch (err) {
        options.onFailure?.(envelope, err);
        // A malformed wallet id in key.lifecycle is not guessed at, nor retried.
        if (isDomainError(err) && err.code === 'WALLET_ID_INVALID') throw new NonRetryableError(err.message, { cause: err });
        throw err;
      }
      options.onPosted?.(envelope, outcome.status === 'duplicate' ? 'duplicate' : outcome.result);
    },
  });
  return options.bus.subscribe({ groupId: options.groupId, topics: LEDGER_TOPICS.map(options.topicName), handler });
}
