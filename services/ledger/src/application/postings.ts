// Event -> posting. Each handler runs inside the inbox transaction of its event (exactly
// once per event id) and also checks the withdrawal's / deposit's own state, so a second,
// different event meaning the same thing (two FINAL statuses) posts nothing.
import { DEPOSITS_WALLET, customerAccount, depositLines, holdLines, negate, releaseLines, settleLines, transferLines } from '../domain/postings.js';
import { walletChange, type KeyLifecycleFacts } from '../domain/wallets.js';
import { InsufficientFundsError, type LedgerStore, type PendingAction, type TransferStore, type Tx } from './ports.js';

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
  | 'deferred-wallet-unknown'
  | 'wallet-registered'
  | 'transfer-authorised'
  | 'transfer-settled'
  | 'transfer-reversed'
  | 'ignored';

export class LedgerPostings {
  constructor(
    private readonly deps: {
      readonly store: LedgerStore;
      /** Fee asset of a chain (e.g. ethereum -> ETH); undefined = unknown chain. */
      readonly feeAssetOf: (chain: string) => string | undefined;
      /** Treasury transfers between our own wallets (hot-wallet sweeps, replenishments). */
      readonly transfers: TransferStore;
      readonly now?: () => Date;
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
      else if (p.action === 'SETTLE') await this.settle(withdrawalId, p.sourceWallet, p.fee, ctx, tx);
      else await this.reverse(withdrawalId, ctx, tx);
    }
  }

  private async defer(withdrawalId: string, action: PendingAction, ctx: EventContext, tx: Tx, extra: { fee?: bigint; reason?: string; sourceWallet?: string } = {}): Promise<PostingOutcome> {
    await this.deps.store.park(
      { eventId: ctx.eventId, correlationId: ctx.correlationId, withdrawalId, action, fee: extra.fee ?? 0n, reason: extra.reason ?? '', sourceWallet: extra.sourceWallet ?? '' },
      tx,
    );
    return 'deferred';
  }

  /** Denied, cancelled or failed before settlement: release the hold. */
  async release(withdrawalId: string, reason: string, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const w = await store.lockWithdrawal(withdrawalId, tx);
    if (!w || (await store.hasPending(withdrawalId, tx))) return this.defer(withdrawalId, 'RELEASE', ctx, tx, { reason });
    if (w.state !== 'HELD') return 'ignored';
    await store.post({ kind: 'RELEASE', causeEventId: ctx.eventId, referenceId: withdrawalId, correlationId: ctx.correlationId, lines: releaseLines(w.account, w.asset, w.amount) }, tx);
    await store.updateWithdrawal(withdrawalId, 'RELEASED', null, reason, tx);
    return 'released';
  }

  /**
   * tx.status FINAL: the held amount leaves the source wallet's account
   * (`custodian:<asset>:<sourceWallet>`), the actual network fee is booked from the same
   * wallet's fee-asset account. A wallet not registered from key.lifecycle is never guessed
   * at: the event is parked until it is (and later events of the withdrawal queue behind it).
   */
  async settle(withdrawalId: string, sourceWallet: string, fee: bigint, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const w = await store.lockWithdrawal(withdrawalId, tx);
    if (!w || (await store.hasPending(withdrawalId, tx))) return this.defer(withdrawalId, 'SETTLE', ctx, tx, { fee, sourceWallet });
    if (w.state !== 'HELD') return 'ignored';
    const feeAsset = this.deps.feeAssetOf(w.chain);
    if (feeAsset === undefined) throw new Error(`no fee asset configured for chain "${w.chain}"`);
    const wallet = sourceWallet === '' || sourceWallet === DEPOSITS_WALLET ? undefined : await store.lockWallet(sourceWallet, tx);
    if (!wallet) {
      await this.defer(withdrawalId, 'SETTLE', ctx, tx, { fee, sourceWallet });
      return 'deferred-wallet-unknown';
    }
    try {
      const entryId = await store.post(
        { kind: 'SETTLE', causeEventId: ctx.eventId, referenceId: withdrawalId, correlationId: ctx.correlationId, lines: settleLines(w.account, w.asset, w.amount, feeAsset, fee, wallet.walletId) },
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
    if (!w || (await store.hasPending(withdrawalId, tx))) return this.defer(withdrawalId, 'REVERSE', ctx, tx);
    if (w.state !== 'SETTLED' || !w.settleEntryId) return 'ignored';
    const lines = negate(await store.entryLines(w.settleEntryId, tx));
    await store.post({ kind: 'REVERSAL', causeEventId: ctx.eventId, referenceId: withdrawalId, correlationId: ctx.correlationId, lines }, tx);
    await store.updateWithdrawal(withdrawalId, 'HELD', null, 'REORGED', tx);
    return 'reversed';
  }

  /**
   * key.lifecycle: registers a custodial wallet (id, tier, chain, address) and applies, in
   * arrival order, the settlements that were parked waiting for it.
   */
  async registerWallet(e: KeyLifecycleFacts, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const change = walletChange(e.walletId === '' ? undefined : await store.lockWallet(e.walletId, tx), e);
    if (change.kind === 'ignored') return 'ignored';
    await store.upsertWallet(change.wallet, tx);
    for (const withdrawalId of await store.withdrawalsAwaitingWallet(change.wallet.walletId, tx)) {
      if (await store.lockWithdrawal(withdrawalId, tx)) await this.applyPending(withdrawalId, tx);
    }
    const transfers = this.deps.transfers;
    for (const transferId of await transfers.transfersAwaitingWallet(change.wallet.walletId, tx)) {
      if (await transfers.lockTransfer(transferId, tx)) await this.applyPendingTransfer(transferId, tx);
    }
    return 'wallet-registered';
  }

  // --- treasury transfers (hot-wallet sweeps, replenishments) --------------------------------

  private transferStore(): TransferStore {
    return this.deps.transfers;
  }

  /**
   * policy.decided ALLOW of a treasury transfer: what will move (amount, source and destination
   * wallet). Nothing is booked yet: the chain decides (tx.status FINAL). Events of the transfer
   * that arrived first were parked; they are applied now, in arrival order.
   */
  async transferAuthorised(
    t: { transferId: string; decisionId: string; asset: string; chain: string; amount: bigint; sourceWallet: string; destinationWallet: string },
    _ctx: EventContext,
    tx: Tx,
  ): Promise<PostingOutcome> {
    const transfers = this.transferStore();
    if (await transfers.lockTransfer(t.transferId, tx)) return 'ignored';
    await transfers.insertTransfer({ ...t, state: 'AUTHORISED', settleEntryId: null }, this.now(), tx);
    await this.applyPendingTransfer(t.transferId, tx);
    return 'transfer-authorised';
  }

  private async applyPendingTransfer(transferId: string, tx: Tx): Promise<void> {
    for (const p of await this.deps.store.takePending(transferId, tx)) {
      const ctx = { eventId: p.eventId, correlationId: p.correlationId };
      if (p.action === 'SETTLE') await this.transferFinal(transferId, p.fee, ctx, tx);
      else if (p.action === 'REVERSE') await this.transferReorged(transferId, ctx, tx);
    }
  }

  /**
   * tx.status FINAL of a transfer: source wallet account − amount, destination wallet account
   * + amount, the fee from the source wallet to network fees. Both wallets must be registered
   * (key.lifecycle); otherwise parked until they are.
   */
  async transferFinal(transferId: string, fee: bigint, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const transfers = this.transferStore();
    const t = await transfers.lockTransfer(transferId, tx);
    if (!t || (await store.hasPending(transferId, tx))) return this.defer(transferId, 'SETTLE', ctx, tx, { fee, sourceWallet: t?.sourceWallet ?? '' });
    if (t.state !== 'AUTHORISED') return 'ignored';
    const feeAsset = this.deps.feeAssetOf(t.chain);
    if (feeAsset === undefined) throw new Error(`no fee asset configured for chain "${t.chain}"`);
    // Wallet locks in id order (a registration of either serialises with this).
    for (const walletId of [t.sourceWallet, t.destinationWallet].sort()) {
      if (!(await store.lockWallet(walletId, tx))) {
        await this.defer(transferId, 'SETTLE', ctx, tx, { fee, sourceWallet: walletId });
        return 'deferred-wallet-unknown';
      }
    }
    try {
      const entryId = await store.post(
        { kind: 'TRANSFER', causeEventId: ctx.eventId, referenceId: transferId, correlationId: ctx.correlationId, lines: transferLines(t.asset, t.amount, feeAsset, fee, t.sourceWallet, t.destinationWallet) },
        tx,
      );
      await transfers.updateTransfer(transferId, 'SETTLED', entryId, this.now(), tx);
      return 'transfer-settled';
    } catch (err) {
      // Only the fee can take the custodial total below 0: refused, evidence for reconciliation.
      if (err instanceof InsufficientFundsError) return 'settle-refused-insufficient-funds';
      throw err;
    }
  }

  /** tx.status REORGED of a settled transfer: the exact negation of its TRANSFER entry; authorised again. */
  async transferReorged(transferId: string, ctx: EventContext, tx: Tx): Promise<PostingOutcome> {
    const { store } = this.deps;
    const transfers = this.transferStore();
    const t = await transfers.lockTransfer(transferId, tx);
    if (!t || (await store.hasPending(transferId, tx))) return this.defer(transferId, 'REVERSE', ctx, tx);
    if (t.state !== 'SETTLED' || !t.settleEntryId) return 'ignored';
    const lines = negate(await store.entryLines(t.settleEntryId, tx));
    await store.post({ kind: 'REVERSAL', causeEventId: ctx.eventId, referenceId: transferId, correlationId: ctx.correlationId, lines }, tx);
    await transfers.updateTransfer(transferId, 'AUTHORISED', null, this.now(), tx);
    return 'transfer-reversed';
  }

  private now(): Date {
    return this.deps.now ? this.deps.now() : new Date();
  }

  /**
   * deposit.detected FINAL: credit once per deposit; re-credit if it reappears after an
   * orphaning. The custodian side is the wallet that received the coins: a registered wallet
   * whose address is the deposit address, else `custodian:<asset>:deposits` (HD deposit addresses).
   */
  async depositFinal(
    d: { depositId: string; clientId: string; customerAccount: string; asset: string; amount: bigint; chain?: string; address?: string },
    ctx: EventContext,
    tx: Tx,
  ): Promise<PostingOutcome> {
    const { store } = this.deps;
    const existing = await store.lockDeposit(d.depositId, tx);
    if (existing && existing.state !== 'REVERSED') return 'ignored';
    const account = existing?.account ?? customerAccount(d.clientId, d.customerAccount);
    const amount = existing?.amount ?? d.amount;
    const asset = existing?.asset ?? d.asset;
    const receiving = d.chain && d.address ? await store.walletByAddress(d.chain, d.address, tx) : undefined;
    const entryId = await store.post(
      { kind: 'DEPOSIT', causeEventId: ctx.eventId, referenceId: d.depositId, correlationId: ctx.correlationId, lines: depositLines(account, asset, amount, receiving?.walletId ?? DEPOSITS_WALLET) },
      tx,
    );
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
      // The exact negation of the credit as booked (a credit of the legacy omnibus account stays there).
      await store.post({ kind: 'DEPOSIT_REVERSAL', causeEventId: ctx.eventId, referenceId: depositId, correlationId: ctx.correlationId, lines: negate(await store.entryLines(d.entryId, tx)) }, tx);
    } catch (err) {
      if (!(err instanceof InsufficientFundsError)) throw err;
      await store.updateDeposit(depositId, 'REVERSAL_REFUSED', tx);
      return 'deposit-reversal-refused';
    }
    await store.updateDeposit(depositId, 'REVERSED', tx);
    return 'deposit-reversed';
  }
}
