// Withdrawal use cases: prepare (nonce + fees + unsigned tx → tx.prepared), accept the
// signature (only for exactly what was prepared), broadcast and resolve unknown outcomes,
// replace a stuck tx under the same nonce and intent.
import { PolicyDecided, PolicyDecision, TxPrepared, TxSigned, TxSigningRefused, TxState, TxStatus, timestampFromDate } from '@custody/contracts';
import type { EvmAssetProfile } from '../domain/assets.js';
import { ChainAdapterError } from '../domain/errors.js';
import { bumpFees, estimateFees, type Fees } from '../domain/fees.js';
import { decodeSignedEip1559, decodeUnsignedEip1559, encodeUnsignedEip1559, normaliseAddress, sameFields } from '../domain/evm-tx.js';
import { refusalOutcome, type RefusalOutcome } from '../domain/signer-refusal.js';
import { refusalFor } from '../domain/wallet-registry.js';
import type { ChainGuard } from './chain-guard.js';
import type { Clock, EvmChain } from './ports.js';
import type { AttemptRow, ChainStore, IncidentRow, OutEvent, StoreScope, WithdrawalRow } from './store.js';

/** A decision to prepare: `walletId` from the decision, `wallet` its registered chain address. */
export interface PrepareTx {
  readonly kind: 'prepare';
  readonly message: PolicyDecided;
  readonly profile: EvmAssetProfile;
  readonly walletId: string;
  readonly wallet: string;
  readonly destination: string;
  readonly amount: bigint;
  readonly fees: Fees;
  readonly nonceFloor: bigint;
  /**
   * The chain's confirmed count of the wallet (`eth_getTransactionCount(latest)`), read when
   * the wallet has released nonces: a released nonce is reused only if the chain has not used it.
   */
  readonly confirmedCount?: bigint;
}

/** A decision for a suspended/retired/destroyed wallet: tx.status FAILED with the reason, nothing allocated. */
export interface RefuseTx {
  readonly kind: 'refuse';
  readonly message: PolicyDecided;
  readonly profile: EvmAssetProfile;
  readonly walletId: string;
  readonly wallet: string;
  readonly reasonCode: string;
}

export type PreparePlan = PrepareTx | RefuseTx;

export type PrepareOutcome = 'prepared' | 'duplicate' | 'ignored' | 'refused';

export interface WithdrawalHooks {
  onIncident?(incident: IncidentRow): void;
  onRefusedSignature?(reason: string): void;
  onBroadcast?(outcome: string): void;
  onWalletRefused?(reasonCode: string): void;
  /** A custody.tx.refused.v1 handled (duplicates absorbed by the inbox are not reported). */
  onSignerRefusal?(outcome: RefusalOutcome, reasonCode: string): void;
}

export interface WithdrawalFlowDeps {
  readonly chain: EvmChain;
  readonly store: ChainStore;
  readonly guard: ChainGuard;
  readonly clock: Clock;
  readonly profile: EvmAssetProfile;
  readonly hooks?: WithdrawalHooks;
  readonly feeHistoryBlocks?: number;
  readonly feePercentile?: number;
}

export function statusEvent(w: WithdrawalRow, state: TxState, now: Date, extra: Partial<TxStatus> = {}, causationId?: string): OutEvent {
  return {
    type: 'tx.status',
    correlationId: w.correlationId,
    ...(causationId ? { causationId } : {}),
    message: TxStatus.fromPartial({
      withdrawalId: w.withdrawalId,
      chain: w.chain,
      // Wallet id (rows prepared before the registry only know the address).
      sourceWallet: w.walletId || w.wallet,
      sourceAddress: w.wallet,
      txHash: w.txHash ?? '',
      state,
      blockHeight: (w.blockHeight ?? 0n).toString(),
      blockHash: w.blockHash ?? '',
      confirmations: w.confirmations,
      observedAt: timestampFromDate(now),
      ...extra,
    }),
  };
}

export class WithdrawalFlow {
  constructor(private readonly d: WithdrawalFlowDeps) {}

  /** Fresh estimate on every prepare: a cached one can fall under a base fee that just rose. */
  private async currentFees(): Promise<Fees> {
    const history = await this.d.chain.feeHistory(this.d.feeHistoryBlocks ?? 10, this.d.feePercentile ?? 50);
    return estimateFees({ baseFeePerGas: history.baseFeePerGas, rewards: history.rewards }, this.d.profile.fees);
  }

  /** Validation and chain reads, outside any database transaction. undefined = not ours. */
  async plan(message: PolicyDecided): Promise<PreparePlan | undefined> {
    if (message.decision !== PolicyDecision.POLICY_DECISION_ALLOW) return undefined;
    const profile = this.d.profile;
    if (message.asset !== profile.asset || message.chain !== profile.chain) return undefined;
    if (message.decisionToken.length === 0) throw new ChainAdapterError('INVALID_STATE', 'an ALLOW decision without a decision token cannot be prepared');
    const destination = normaliseAddress(message.destinationAddress);
    if (!/^[1-9][0-9]{0,77}$/.test(message.amount)) throw new ChainAdapterError('INVALID_AMOUNT', 'amount must be a positive integer in base units');
    // source_wallet is a wallet id (the decision token's claim): its address comes from the
    // registry fed by key.lifecycle. Unknown → retried (the lifecycle event may still be on its
    // way), then dead-lettered; nothing is allocated.
    const walletId = message.sourceWallet;
    const registered = walletId ? await this.d.store.wallet(profile.chain, walletId) : undefined;
    if (!registered || !registered.address) throw new ChainAdapterError('WALLET_UNKNOWN', `wallet ${JSON.stringify(walletId)} has no registered ${profile.chain} address`);
    const reasonCode = refusalFor(registered);
    if (reasonCode) return { kind: 'refuse', message, profile, walletId, wallet: registered.address, reasonCode };
    const wallet = registered.address;
    await this.assertNotPaused(await this.d.store.breaker(profile.chain));
    await this.d.guard.assertHealthy({ cached: true });
    const fees = await this.currentFees();
    // The chain's count only seeds a wallet we have never allocated for; after that the
    // allocator row is the single source of nonces.
    const known = await this.d.store.nextNonce(profile.chain, wallet);
    const nonceFloor = known ?? (await this.d.chain.pendingNonce(wallet));
    // Released nonces (signer refusals) are reused lowest first, only once the chain shows them
    // unused: read its confirmed count now (outside the transaction) when there are any.
    const released = known === undefined ? [] : await this.d.store.releasedNonces(profile.chain, wallet);
    const confirmedCount = released.length > 0 ? await this.d.chain.latestNonce(wallet) : undefined;
    return { kind: 'prepare', message, profile, walletId, wallet, destination, amount: BigInt(message.amount), fees, nonceFloor, ...(confirmedCount !== undefined ? { confirmedCount } : {}) };
  }

  /**
   * In the inbox transaction: allocate the nonce under the wallet's row lock and record the
   * withdrawal, its first attempt and tx.prepared together. A duplicate decision (same
   * withdrawal id) allocates nothing.
   */
  async commit(plan: PreparePlan, scope: StoreScope, ctx: { correlationId: string; causationId: string }): Promise<PrepareOutcome> {
    const m = plan.message;
    if (await scope.withdrawal(m.withdrawalId)) return 'duplicate';
    // Re-read the registry row under its lock: a suspension committed since plan() is seen here,
    // one committing now waits for this transaction.
    const registered = await scope.wallet(plan.profile.chain, plan.walletId, true);
    if (!registered || registered.address !== plan.wallet) throw new ChainAdapterError('WALLET_UNKNOWN', `wallet ${JSON.stringify(plan.walletId)} changed while preparing: retried`);
    const reasonCode = refusalFor(registered);
    if (reasonCode) return this.refuse(plan, reasonCode, scope, ctx);
    // Refused in plan() but resumed since: plan again (retried) so the fees and nonce floor are fresh.
    if (plan.kind !== 'prepare') throw new ChainAdapterError('WALLET_UNKNOWN', `wallet ${JSON.stringify(plan.walletId)} changed while preparing: retried`);
    // Re-read under a share lock: a trip committing now waits for this prepare, one committed before is seen.
    await this.assertNotPaused(await scope.breaker(plan.profile.chain, true));
    const allocation = await scope.allocateNonce(plan.profile.chain, plan.wallet, plan.nonceFloor, plan.confirmedCount);
    for (const used of allocation.usedOnChain) {
      // Released after a refusal, yet the chain has a transaction at that nonce: something
      // signed outside the pipeline. Never reused; the nonce left the free list.
      const incident: IncidentRow = { chain: plan.profile.chain, asset: plan.profile.asset, kind: 'NONCE_CONSUMED_ELSEWHERE', evidence: { nonce: used.toString(), released: 'true' }, detail: `released nonce ${used} of ${plan.wallet} was used on chain by a transaction we did not prepare: not reused`, wallet: plan.wallet, txHash: '' };
      if (await scope.recordIncident(incident)) this.d.hooks?.onIncident?.(incident);
    }
    const nonce = allocation.nonce;
    const unsigned = encodeUnsignedEip1559({
      chainId: plan.profile.chainId,
      nonce,
      maxPriorityFeePerGas: plan.fees.maxPriorityFeePerGas,
      maxFeePerGas: plan.fees.maxFeePerGas,
      gasLimit: plan.profile.gasLimit,
      to: plan.destination,
      value: plan.amount,
      data: new Uint8Array(0),
    });
    const now = this.d.clock.now();
    const prepared = TxPrepared.fromPartial({
      withdrawalId: m.withdrawalId,
      decisionId: m.decisionId,
      chain: plan.profile.chain,
      asset: plan.profile.asset,
      sourceWallet: plan.walletId,
      sourceAddress: plan.wallet,
      destinationAddress: plan.destination,
      destinationTag: '',
      amount: plan.amount.toString(),
      unsignedTx: Buffer.from(unsigned),
      feeCap: (plan.fees.maxFeePerGas * plan.profile.gasLimit).toString(),
      nonce: nonce.toString(),
      decisionToken: m.decisionToken,
      approvals: m.approvals,
      // The window the approvals were given for: the signer rebuilds the signed bytes from it.
      approvalsExpireAt: m.expiresAt,
      preparedAt: timestampFromDate(now),
    });
    const inserted = await scope.insertWithdrawal({
      withdrawalId: m.withdrawalId,
      decisionId: m.decisionId,
      chain: plan.profile.chain,
      asset: plan.profile.asset,
      walletId: plan.walletId,
      wallet: plan.wallet,
      destination: plan.destination,
      amount: plan.amount,
      nonce,
      state: 'PREPARED',
      correlationId: ctx.correlationId,
      txHash: null,
      blockHeight: null,
      blockHash: null,
      confirmations: 0,
      template: TxPrepared.encode(prepared).finish(),
      reasonCode: '',
      updatedAt: now,
    });
    if (!inserted) throw new ChainAdapterError('INVALID_STATE', 'withdrawal inserted concurrently');
    await scope.insertAttempt({ withdrawalId: m.withdrawalId, attempt: 1, ...plan.fees, gasLimit: plan.profile.gasLimit, unsignedTx: unsigned, signedTx: null, txHash: null, createdAt: now });
    await scope.emit([{ type: 'tx.prepared', message: prepared, correlationId: ctx.correlationId, causationId: ctx.causationId }]);
    return 'prepared';
  }

  /**
   * Fail closed for a wallet that must not send (suspended/retired/destroyed): no nonce, no
   * withdrawal row, tx.status FAILED with the reason (intake fails the withdrawal, the ledger
   * releases the hold), exactly once with the inbox row.
   */
  private async refuse(plan: PreparePlan, reasonCode: string, scope: StoreScope, ctx: { correlationId: string; causationId: string }): Promise<PrepareOutcome> {
    const m = plan.message;
    const message = TxStatus.fromPartial({
      withdrawalId: m.withdrawalId,
      chain: plan.profile.chain,
      sourceWallet: plan.walletId,
      sourceAddress: plan.wallet,
      state: TxState.TX_STATE_FAILED,
      reasonCode,
      observedAt: timestampFromDate(this.d.clock.now()),
    });
    await scope.emit([{ type: 'tx.status', message, correlationId: ctx.correlationId, causationId: ctx.causationId }]);
    this.d.hooks?.onWalletRefused?.(reasonCode);
    return 'refused';
  }

  /** CHAIN_PAUSED (retried: the decision waits, nothing allocated) while the chain's breaker is tripped. */
  private assertNotPaused(breaker: { state: string; tripKind: string } | undefined): Promise<void> {
    if (breaker?.state === 'TRIPPED') {
      return Promise.reject(new ChainAdapterError('CHAIN_PAUSED', `chain ${this.d.profile.chain} is paused (${breaker.tripKind}) until an operator resumes it: the withdrawal waits, nothing was allocated`));
    }
    return Promise.resolve();
  }

  /**
   * Operator cancellation. PREPARED with no signed attempt: FAILED (`OPERATOR_CANCELLED`),
   * tx.status FAILED, the nonce onto the wallet's free list — one transaction, under the
   * withdrawal's row lock (a late tx.signed is then refused NONCE_RELEASED, as after a signer
   * refusal). Signed or broadcast: only a replacement at the same nonce (a 0-value
   * self-transfer the signer must sign) could cancel it — refused CANCEL_NEEDS_REPLACEMENT,
   * nothing changed. Final/failed/released: NOT_CANCELLABLE.
   */
  async cancel(withdrawalId: string, operatorId: string, scope: StoreScope): Promise<{ nonce: bigint }> {
    const w = await scope.withdrawal(withdrawalId, true);
    if (!w || w.chain !== this.d.profile.chain) throw new ChainAdapterError('NOT_FOUND', `no withdrawal ${withdrawalId} on ${this.d.profile.chain}`);
    const signed = (await scope.attempts(withdrawalId)).some((a) => a.signedTx !== null);
    if (w.state === 'FINAL' || w.state === 'FAILED' || w.nonceReleased === true) throw new ChainAdapterError('NOT_CANCELLABLE', `withdrawal ${withdrawalId} is ${w.state}${w.nonceReleased ? ' (nonce released)' : ''}: nothing to cancel`);
    if (signed || w.state !== 'PREPARED') {
      throw new ChainAdapterError('CANCEL_NEEDS_REPLACEMENT', `withdrawal ${withdrawalId} is ${w.state} with a signed transaction at nonce ${w.nonce}: only a replacement at that nonce (a 0-value self-transfer, signed by the signer under an approved decision) can cancel it; not done here`);
    }
    const now = this.d.clock.now();
    await scope.updateWithdrawal(withdrawalId, { state: 'FAILED', reasonCode: 'OPERATOR_CANCELLED', updatedAt: now });
    await scope.releaseNonce(withdrawalId, w.chain, w.wallet, w.nonce, 'OPERATOR_CANCELLED');
    await scope.emit([statusEvent(w, TxState.TX_STATE_FAILED, now, { reasonCode: 'OPERATOR_CANCELLED' })]);
    return { nonce: w.nonce };
  }

  /**
   * custody.tx.refused.v1 (in the inbox transaction). A refusal that spent the decision of a
   * withdrawal still PREPARED, with no signed attempt, means nothing will ever be signed at its
   * nonce: the withdrawal becomes FAILED with the signer's reason, tx.status FAILED is emitted
   * and the nonce goes onto the wallet's free list — all in this transaction, under the
   * withdrawal's row lock (tx.signed takes the same lock, so a signature and a release never
   * both win). Anything else is recorded and changes nothing (domain/signer-refusal.ts).
   */
  async handleRefusal(m: TxSigningRefused, scope: StoreScope, ctx: { eventId: string; correlationId: string }): Promise<RefusalOutcome> {
    const chainName = this.d.profile.chain;
    const w = m.chain === chainName ? await scope.withdrawal(m.withdrawalId, true) : undefined;
    const signedAttempt = w ? (await scope.attempts(w.withdrawalId)).some((a) => a.signedTx !== null) : false;
    const outcome = refusalOutcome(
      { chain: m.chain, decisionId: m.decisionId, sourceWallet: m.sourceWallet, decisionConsumed: m.decisionConsumed },
      chainName,
      w ? { chain: w.chain, decisionId: w.decisionId, walletId: w.walletId, wallet: w.wallet, state: w.state, nonceReleased: w.nonceReleased === true, hasSignedAttempt: signedAttempt } : undefined,
    );
    const reasonCode = m.reasonCode || 'SIGNING_REFUSED';
    // Only refusals of our chain are recorded (a foreign chain's refusal is not ours to keep).
    if (m.chain === chainName) await scope.recordRefusal({ eventId: ctx.eventId, withdrawalId: m.withdrawalId, decisionId: m.decisionId, reasonCode, decisionConsumed: m.decisionConsumed, outcome });
    if (outcome === 'released' && w) {
      const now = this.d.clock.now();
      await scope.updateWithdrawal(w.withdrawalId, { state: 'FAILED', reasonCode, updatedAt: now });
      await scope.releaseNonce(w.withdrawalId, w.chain, w.wallet, w.nonce, reasonCode);
      await scope.emit([statusEvent(w, TxState.TX_STATE_FAILED, now, { reasonCode }, ctx.eventId)]);
    }
    this.d.hooks?.onSignerRefusal?.(outcome, reasonCode);
    return outcome;
  }

  /**
   * tx.signed: accept the signature only if the signed bytes carry exactly the fields of one
   * of our prepared attempts (C-5.5.2-a), their hash is the announced one and the sender is
   * the withdrawal's wallet. Returns the withdrawal id to broadcast after commit.
   */
  async acceptSignature(m: TxSigned, scope: StoreScope): Promise<{ outcome: 'accepted' | 'duplicate' | 'refused'; reason?: string }> {
    const w = await scope.withdrawal(m.withdrawalId, true);
    const refuse = async (reason: string, detail: string): Promise<{ outcome: 'refused'; reason: string }> => {
      const incident: IncidentRow = { chain: this.d.profile.chain, asset: this.d.profile.asset, kind: 'SIGNED_TX_MISMATCH', evidence: { reason, withdrawalId: m.withdrawalId }, detail: `${reason}: ${detail}`, wallet: w?.wallet ?? '', txHash: m.txHash };
      const recorded = await scope.recordIncident(incident);
      this.d.hooks?.onRefusedSignature?.(reason);
      if (recorded) this.d.hooks?.onIncident?.(incident);
      return { outcome: 'refused', reason };
    };
    if (!w) return refuse('UNKNOWN_WITHDRAWAL', `no prepared withdrawal ${m.withdrawalId}`);
    // Its nonce went back to the free list after the signer spent the decision: a signature
    // now would compete with the nonce's new holder. Never broadcast.
    if (w.nonceReleased) return refuse('NONCE_RELEASED', `withdrawal ${w.withdrawalId} was refused by the signer and released nonce ${w.nonce}`);
    let decoded;
    try {
      decoded = decodeSignedEip1559(m.signedTx);
    } catch (err) {
      return refuse('UNDECODABLE', err instanceof Error ? err.message : 'undecodable');
    }
    const attempts = await scope.attempts(w.withdrawalId);
    const attempt = attempts.find((a) => sameFields(decodeUnsignedEip1559(a.unsignedTx), decoded.fields));
    if (!attempt) return refuse('NOT_PREPARED', 'the signed transaction differs from every prepared attempt');
    if (m.txHash && m.txHash.toLowerCase() !== decoded.hash) return refuse('HASH_MISMATCH', `announced ${m.txHash}, bytes hash to ${decoded.hash}`);
    if (decoded.from !== w.wallet) return refuse('WRONG_SENDER', `signed by ${decoded.from}, the withdrawal's wallet is ${w.wallet}`);
    if (attempt.txHash === decoded.hash) return { outcome: 'duplicate' };
    await scope.setSigned(w.withdrawalId, attempt.attempt, m.signedTx, decoded.hash);
    if (w.state === 'PREPARED') await scope.updateWithdrawal(w.withdrawalId, { state: 'SIGNED', updatedAt: this.d.clock.now() });
    return { outcome: 'accepted' };
  }

  /**
   * Send every signed attempt of the withdrawal that the node does not know yet. The same
   * bytes are safe to send any number of times; a different payload at this nonce is never
   * created here. Outcome unknown (timeout) → the row stays SIGNED; the next call asks the
   * node for the hash first.
   */
  async broadcast(withdrawalId: string): Promise<void> {
    // A check passed within the last second counts (every follower pass checks afresh).
    await this.d.guard.assertHealthy({ cached: true });
    const attempts = (await this.d.store.attempts(withdrawalId)).filter((a): a is AttemptRow & { signedTx: Uint8Array; txHash: string } => a.signedTx !== null && a.txHash !== null);
    for (const a of attempts.sort((x, y) => y.attempt - x.attempt)) {
      let outcome: string;
      if (await this.d.chain.transactionKnown(a.txHash)) {
        outcome = 'already-known';
      } else {
        const sent = await this.d.chain.sendRawTransaction(a.signedTx);
        outcome = sent.kind;
        if (sent.kind === 'nonce-too-low') {
          // Our nonce is used. Mined with one of our hashes → the follower confirms it. Otherwise
          // someone else consumed it: never re-sign, raise an incident.
          const ours = await this.anyAttemptMined(withdrawalId);
          if (!ours) await this.nonceConsumedElsewhere(withdrawalId);
          this.d.hooks?.onBroadcast?.(ours ? 'mined' : 'nonce-consumed');
          return;
        }
        if (sent.kind === 'underpriced' || sent.kind === 'rejected') {
          this.d.hooks?.onBroadcast?.(sent.kind);
          continue; // an older attempt may still be valid; the row stays as it is
        }
      }
      this.d.hooks?.onBroadcast?.(outcome);
      await this.d.store.transaction(async (scope) => {
        const w = await scope.withdrawal(withdrawalId, true);
        if (!w || (w.state !== 'SIGNED' && w.state !== 'PREPARED')) return;
        const next = { ...w, state: 'BROADCAST' as const, txHash: a.txHash, updatedAt: this.d.clock.now() };
        await scope.updateWithdrawal(withdrawalId, { state: 'BROADCAST', txHash: a.txHash, updatedAt: next.updatedAt });
        await scope.emit([statusEvent(next, TxState.TX_STATE_BROADCAST, next.updatedAt)]);
      });
      return;
    }
  }

  private async anyAttemptMined(withdrawalId: string): Promise<boolean> {
    for (const a of await this.d.store.attempts(withdrawalId)) {
      if (a.txHash && (await this.d.chain.receipt(a.txHash))) return true;
    }
    return false;
  }

  private async nonceConsumedElsewhere(withdrawalId: string): Promise<void> {
    await this.d.store.transaction(async (scope) => {
      const w = await scope.withdrawal(withdrawalId, true);
      if (!w || w.state === 'FAILED') return;
      const incident: IncidentRow = { chain: w.chain, asset: w.asset, kind: 'NONCE_CONSUMED_ELSEWHERE', evidence: { withdrawalId: w.withdrawalId, nonce: w.nonce.toString() }, detail: `nonce ${w.nonce} of ${w.wallet} was used by a transaction that is not ours`, wallet: w.wallet, txHash: w.txHash ?? '' };
      if (await scope.recordIncident(incident)) this.d.hooks?.onIncident?.(incident);
      const now = this.d.clock.now();
      await scope.updateWithdrawal(withdrawalId, { state: 'FAILED', reasonCode: 'NONCE_CONSUMED_ELSEWHERE', updatedAt: now });
      await scope.emit([statusEvent(w, TxState.TX_STATE_FAILED, now, { reasonCode: 'NONCE_CONSUMED_ELSEWHERE' })]);
    });
  }

  /**
   * Speed-up (C-5.5.5.2-a/b): a new attempt at the SAME nonce, same destination and amount,
   * same decision, fees raised by `percent`; goes to the signer as tx.prepared. Refused past
   * the fee caps (FEE_CAP_EXCEEDED: an operator decides).
   */
  async bumpFee(withdrawalId: string, percent = 25n): Promise<{ attempt: number; fees: Fees }> {
    return this.d.store.transaction(async (scope) => {
      const w = await scope.withdrawal(withdrawalId, true);
      if (!w) throw new ChainAdapterError('NOT_FOUND', `no withdrawal ${withdrawalId}`);
      if (w.state !== 'BROADCAST' && w.state !== 'SIGNED') throw new ChainAdapterError('INVALID_STATE', `withdrawal ${withdrawalId} is ${w.state}: only an unconfirmed transaction can be replaced`);
      const attempts = await scope.attempts(withdrawalId);
      const last = attempts.reduce((a, b) => (b.attempt > a.attempt ? b : a));
      const fees = bumpFees({ maxFeePerGas: last.maxFeePerGas, maxPriorityFeePerGas: last.maxPriorityFeePerGas }, this.d.profile.fees, percent);
      const previous = decodeUnsignedEip1559(last.unsignedTx);
      const unsigned = encodeUnsignedEip1559({ ...previous, ...fees });
      const now = this.d.clock.now();
      const attempt = last.attempt + 1;
      await scope.insertAttempt({ withdrawalId, attempt, ...fees, gasLimit: previous.gasLimit, unsignedTx: unsigned, signedTx: null, txHash: null, createdAt: now });
      await scope.updateWithdrawal(withdrawalId, { updatedAt: now }); // the stuck timer restarts
      const template = TxPrepared.decode(w.template);
      const prepared = TxPrepared.fromPartial({ ...template, unsignedTx: Buffer.from(unsigned), feeCap: (fees.maxFeePerGas * previous.gasLimit).toString(), preparedAt: timestampFromDate(now) });
      await scope.emit([{ type: 'tx.prepared', message: prepared, correlationId: w.correlationId }]);
      return { attempt, fees };
    });
  }
}
