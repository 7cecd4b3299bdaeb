// Event -> posting. Each handler runs inside the inbox transaction of its event (exactly
// once per event id) and also checks the withdrawal's / deposit's own state, so a second,
// different event meaning the same thing (two FINAL statuses) posts nothing.
import { customerAccount, depositLines, holdLines, negate, releaseLines, settleLines } from '../domain/postings.js';
import { InsufficientFundsError, type LedgerStore, type PendingAction, type Tx } from './ports.js';

export interface EventContext {
  readonly eventId: string;
  readonly correlationId: string;
}

export type PostingOutcome =
  | 'held'
  | 'rejected-insufficient-funds'
  | 'released'
  | 'settled'
  | 'settle-refused-insufficient-funds'
  | 'reversed'
  | 'credited'
  | 'deposit-reversed'
  | 'deposit-reversal-refused'
  | 'deferred'
  | 'ignored';

export class LedgerPostings {
  constructor(
    private readonly deps: {
      readonly store: LedgerStore;
      /** Fee asset of a chain (e.g. ethereum -> ETH); undefined = unknown chain. */
      readonly feeAssetOf: (chain: string) => string | undefined;
    },
  ) {}

  /** withdrawal.requested: hold the amount (refused, not retried, if available is short). */
  async withdrawalRequested(
    w: { withdrawalId: string; clientId: string; customerAccount: string; asset: string; chain: string; amount: bigint },
    ctx: EventContext,
    tx: Tx,
  ): Promise<PostingOutcome> {
    const { store } = this.deps;
    if (await store.lockWithdrawal(w.withdrawalId, tx)) return 'ignored';
    const account = customerAccount(w.clientId, w.customerAccount);
    const base = { withdrawalId: w.withdrawalId, account, asset: w.asset, chain: w.chain, amount: w.amount, settleEntryId: null };
    try {
      await store.post({ kind: 'HOLD', causeEventId: ctx.eventId, referenceId: w.withdrawalId, correlationId: ctx.correlationId, lines: holdLines(account, w.asset, w.amount) }, tx);
    } catch (err) {
      if (!(err instanceof InsufficientFundsError)) throw err;
      await store.insertWithdrawal({ ...base, state: 'REJECTED' }, 'INSUFFICIENT_FUNDS', tx);
      await this.applyPending(w.withdrawalId, tx);
      return 'rejected-insufficient-funds';
    }
    await store.insertWithdrawal({ ...base, state: 'HELD' }, '', tx);
    await this.applyPending(w.withdrawalId, tx);
    return 'held';
  }

  /**
   * Events that overtook their withdrawal.requested (different topics are consumed
   * independently) were parked; apply them now, in the order they arrived.
   */
  private async applyPending(withdrawalId: string, tx: Tx): Promise<void> {
    for (const p of await this.deps.store.takePending(withdrawalId, tx)) {
      const ctx = { eventId: p.eventId, correlationId: p.correlationId };
      if (p.action === 'RELEASE') await this.release(withdrawalId, p.reason, ctx, tx);
      else if (p.action === 'SETTLE') await this.settle(withdrawalId, p.fee, ctx, tx);
      else await this.reverse(withdrawalId, ctx, tx);
    }
  }

  private async defer(withdrawalId: string, action: PendingAction, ctx: EventContext, tx: Tx, extra: { fee?: bigint; reason?: string } = {}): Promise<PostingOutcome> {
    await this.deps.store.park({ eventId: ctx.eventId, correlationId: ctx.correlationId, withdrawalId, action, fee: extra.fee ?? 0n, reason: extra.reason ?? '' }, tx);
    return 'deferred';
  }

  /** Denied, cancelled or failed before settlement: release the hold. */
  async release(withdrawalId: string, reason: string, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const w = await store.lockWithdrawal(withdrawalId, tx);
    if (!w) return this.defer(withdrawalId, 'RELEASE', ctx, tx, { reason });
    if (w.state !== 'HELD') return 'ignored';
    await store.post({ kind: 'RELEASE', causeEventId: ctx.eventId, referenceId: withdrawalId, correlationId: ctx.correlationId, lines: releaseLines(w.account, w.asset, w.amount) }, tx);
    await store.updateWithdrawal(withdrawalId, 'RELEASED', null, reason, tx);
    return 'released';
  }

  /** tx.status FINAL: the held amount leaves the books, the actual network fee is booked. */
  async settle(withdrawalId: string, fee: bigint, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const w = await store.lockWithdrawal(withdrawalId, tx);
    if (!w) return this.defer(withdrawalId, 'SETTLE', ctx, tx, { fee });
    if (w.state !== 'HELD') return 'ignored';
    const feeAsset = this.deps.feeAssetOf(w.chain);
    if (feeAsset === undefined) throw new Error(`no fee asset configured for chain "${w.chain}"`);
    try {
      const entryId = await store.post(
        { kind: 'SETTLE', causeEventId: ctx.eventId, referenceId: withdrawalId, correlationId: ctx.correlationId, lines: settleLines(w.account, w.asset, w.amount, feeAsset, fee) },
        tx,
      );
      await store.updateWithdrawal(withdrawalId, 'SETTLED', entryId, '', tx);
      return 'settled';
    } catch (err) {
      // The custodian's books hold less than left on chain: nothing is posted, the hold
      // stays, and the refusal is the reconciliation's evidence.
      if (err instanceof InsufficientFundsError) return 'settle-refused-insufficient-funds';
      throw err;
    }
  }

  /** tx.status REORGED: compensate exactly the settlement; the amount is held again. */
  async reverse(withdrawalId: string, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const w = await store.lockWithdrawal(withdrawalId, tx);
    if (!w) return this.defer(withdrawalId, 'REVERSE', ctx, tx);
    if (w.state !== 'SETTLED' || !w.settleEntryId) return 'ignored';
    const lines = negate(await store.entryLines(w.settleEntryId, tx));
    await store.post({ kind: 'REVERSAL', causeEventId: ctx.eventId, referenceId: withdrawalId, correlationId: ctx.correlationId, lines }, tx);
    await store.updateWithdrawal(withdrawalId, 'HELD', null, 'REORGED', tx);
    return 'reversed';
  }

  /** deposit.detected FINAL: credit once per deposit; re-credit if it reappears after an orphaning. */
  async depositFinal(d: { depositId: string; clientId: string; customerAccount: string; asset: string; amount: bigint }, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const existing = await store.lockDeposit(d.depositId, tx);
    if (existing && existing.state !== 'REVERSED') return 'ignored';
    const account = existing?.account ?? customerAccount(d.clientId, d.customerAccount);
    const amount = existing?.amount ?? d.amount;
    const asset = existing?.asset ?? d.asset;
    const entryId = await store.post({ kind: 'DEPOSIT', causeEventId: ctx.eventId, referenceId: d.depositId, correlationId: ctx.correlationId, lines: depositLines(account, asset, amount) }, tx);
    if (existing) await store.updateDeposit(d.depositId, 'CREDITED', tx, entryId);
    else await store.insertDeposit({ depositId: d.depositId, account, asset, amount, state: 'CREDITED', entryId }, tx);
    return 'credited';
  }

  /** deposit.detected ORPHANED after crediting: reverse the credit (refused if already spent). */
  async depositOrphaned(depositId: string, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const d = await store.lockDeposit(depositId, tx);
    if (!d || d.state !== 'CREDITED') return 'ignored';
    try {
      await store.post({ kind: 'DEPOSIT_REVERSAL', causeEventId: ctx.eventId, referenceId: depositId, correlationId: ctx.correlationId, lines: negate(depositLines(d.account, d.asset, d.amount)) }, tx);
    } catch (err) {
      if (!(err instanceof InsufficientFundsError)) throw err;
      await store.updateDeposit(depositId, 'REVERSAL_REFUSED', tx);
      return 'deposit-reversal-refused';
    }
    await store.updateDeposit(depositId, 'REVERSED', tx);
    return 'deposit-reversed';
  }
}
