// Ports of the ledger use cases (adapters/persistence implements them on Postgres).
import type { EntryKind, Line } from '../domain/postings.js';
import type { WalletRecord } from '../domain/wallets.js';

/** An open transaction (opaque to the application). */
export type Tx = unknown;

export interface Clock {
  now(): Date;
}

export type WithdrawalState = 'HELD' | 'RELEASED' | 'SETTLED' | 'REJECTED';

export interface LedgerWithdrawal {
  readonly withdrawalId: string;
  readonly account: string;
  readonly asset: string;
  readonly chain: string;
  readonly amount: bigint;
  readonly state: WithdrawalState;
  /** The SETTLE entry's lines while SETTLED (what a reorg reverses). */
  readonly settleEntryId: string | null;
}

export type DepositState = 'CREDITED' | 'REVERSED' | 'REVERSAL_REFUSED';

export interface LedgerDeposit {
  readonly depositId: string;
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
  readonly state: DepositState;
  readonly entryId: string;
}

export type PendingAction = 'RELEASE' | 'SETTLE' | 'REVERSE';

/**
 * An event parked because its withdrawal's hold has not been posted yet, because its source
 * wallet is not registered yet (SETTLE), or because an earlier event of the same withdrawal
 * is parked (order is kept).
 */
export interface PendingEvent {
  readonly eventId: string;
  readonly correlationId: string;
  readonly withdrawalId: string;
  readonly action: PendingAction;
  readonly fee: bigint;
  readonly reason: string;
  /** SETTLE: tx.status source_wallet (the wallet id); '' otherwise. */
  readonly sourceWallet: string;
}

export interface NewEntry {
  readonly kind: EntryKind;
  /** The event that caused it (idempotency: one entry per cause and kind). */
  readonly causeEventId: string;
  /** Withdrawal id or deposit id. */
  readonly referenceId: string;
  readonly correlationId: string;
  readonly lines: readonly Line[];
}

/** Thrown by post() when a balance would go negative (the database CHECK refused it). */
export class InsufficientFundsError extends Error {
  constructor(options: { cause?: unknown } = {}) {
    super('a balance would go negative', options);
  }
}

export interface LedgerStore {
  /** Runs `work` in one transaction (or inside `tx`). */
  transaction<T>(work: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T>;
  /**
   * Posts an entry inside `tx` under a savepoint: on a negative balance the savepoint is
   * rolled back and InsufficientFundsError thrown, leaving `tx` usable.
   */
  post(entry: NewEntry, tx: Tx): Promise<string>;
  entryLines(entryId: string, tx: Tx): Promise<Line[]>;
  /** Locks the withdrawal row (FOR UPDATE) for the rest of `tx`. */
  lockWithdrawal(withdrawalId: string, tx: Tx): Promise<LedgerWithdrawal | undefined>;
  insertWithdrawal(w: LedgerWithdrawal, reason: string, tx: Tx): Promise<void>;
  updateWithdrawal(withdrawalId: string, state: WithdrawalState, settleEntryId: string | null, reason: string, tx: Tx): Promise<void>;
  /** Parks an event for a withdrawal not known yet (inside `tx`). */
  park(event: PendingEvent, tx: Tx): Promise<void>;
  /** Removes and returns the parked events of a withdrawal, in arrival order. */
  takePending(withdrawalId: string, tx: Tx): Promise<PendingEvent[]>;
  /** True when the withdrawal has parked events (a later event must queue behind them). */
  hasPending(withdrawalId: string, tx: Tx): Promise<boolean>;
  /**
   * The registered wallet, after taking the wallet's transaction lock (a registration and a
   * settlement parking on the same wallet serialise: no parked event is missed).
   */
  lockWallet(walletId: string, tx: Tx): Promise<WalletRecord | undefined>;
  /** The registered wallet whose current address is `address` on `chain`. */
  walletByAddress(chain: string, address: string, tx: Tx): Promise<WalletRecord | undefined>;
  upsertWallet(wallet: WalletRecord, tx: Tx): Promise<void>;
  /** Withdrawals (booked, sorted) with a parked SETTLE naming this source wallet. */
  withdrawalsAwaitingWallet(walletId: string, tx: Tx): Promise<string[]>;
  lockDeposit(depositId: string, tx: Tx): Promise<LedgerDeposit | undefined>;
  insertDeposit(d: LedgerDeposit, tx: Tx): Promise<void>;
  /** Sets the state (and, when re-credited, the new credit entry). */
  updateDeposit(depositId: string, state: DepositState, tx: Tx, entryId?: string): Promise<void>;
}

/** Every treasury transfer id starts with this (proto PolicyDecided.treasury_transfer). */
export const TREASURY_TRANSFER_PREFIX = 'treasury:';
export const isTreasuryTransferId = (id: string): boolean => id.startsWith(TREASURY_TRANSFER_PREFIX);

export type TransferState = 'AUTHORISED' | 'SETTLED';

/** A treasury transfer between two of our own wallets as policy authorised it (policy.decided ALLOW). */
export interface LedgerTransfer {
  readonly transferId: string;
  readonly decisionId: string;
  readonly asset: string;
  readonly chain: string;
  readonly amount: bigint;
  readonly sourceWallet: string;
  readonly destinationWallet: string;
  readonly state: TransferState;
  /** The TRANSFER entry while SETTLED (what a reorg reverses). */
  readonly settleEntryId: string | null;
}

export interface TransferStore {
  /** Locks the transfer id (advisory, even before the row exists) and the row, for the rest of `tx`. */
  lockTransfer(transferId: string, tx: Tx): Promise<LedgerTransfer | undefined>;
  insertTransfer(t: LedgerTransfer, at: Date, tx: Tx): Promise<void>;
  updateTransfer(transferId: string, state: TransferState, settleEntryId: string | null, at: Date, tx: Tx): Promise<void>;
  /** Transfers (authorised, sorted) with a parked SETTLE waiting for this wallet's registration. */
  transfersAwaitingWallet(walletId: string, tx: Tx): Promise<string[]>;
}
