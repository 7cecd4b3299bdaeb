// Persistence port. `ChainStore.transaction` (and the inbox's transaction, via `within`)
// give a `StoreScope`: every write and every event of one step commit together (outbox).
import type { DepositDetected, IncidentRaised, TxPrepared, TxStatus } from '@custody/contracts';
import type { BreakerRow } from '../domain/breaker.js';
import type { NonceAllocation } from '../domain/nonce-allocation.js';
import type { RefusalOutcome } from '../domain/signer-refusal.js';
import type { WalletRow } from '../domain/wallet-registry.js';

export type WithdrawalState = 'PREPARED' | 'SIGNED' | 'BROADCAST' | 'CONFIRMED' | 'FINAL' | 'FAILED';

export interface WithdrawalRow {
  readonly withdrawalId: string;
  readonly decisionId: string;
  readonly chain: string;
  readonly asset: string;
  /** The wallet id (decision token, tx.* source_wallet); '' on rows prepared before the registry. */
  readonly walletId: string;
  /** The chain address sent from (nonce allocator key, tx.* source_address). */
  readonly wallet: string;
  readonly destination: string;
  readonly amount: bigint;
  readonly nonce: bigint;
  readonly state: WithdrawalState;
  readonly correlationId: string;
  /** The attempt whose hash is in a block (or the last one broadcast). */
  readonly txHash: string | null;
  readonly blockHeight: bigint | null;
  readonly blockHash: string | null;
  readonly confirmations: number;
  /** Encoded TxPrepared of attempt 1: decision token and approvals for replacements. */
  readonly template: Uint8Array;
  readonly reasonCode: string;
  readonly updatedAt: Date;
  /** The nonce went back to the wallet's free list (signer refusal); the row no longer holds it. */
  readonly nonceReleased?: boolean;
}

/** A custody.tx.refused.v1 received for this chain, and what it did. */
export interface RefusalRow {
  readonly eventId: string;
  readonly withdrawalId: string;
  readonly decisionId: string;
  readonly reasonCode: string;
  readonly decisionConsumed: boolean;
  readonly outcome: RefusalOutcome;
}

export interface AttemptRow {
  readonly withdrawalId: string;
  readonly attempt: number;
  readonly maxFeePerGas: bigint;
  readonly maxPriorityFeePerGas: bigint;
  readonly gasLimit: bigint;
  readonly unsignedTx: Uint8Array;
  readonly signedTx: Uint8Array | null;
  readonly txHash: string | null;
  readonly createdAt: Date;
}

export interface StoredBlock {
  readonly chain: string;
  readonly height: bigint;
  readonly hash: string;
  readonly parentHash: string;
}

export type DepositState = 'PENDING' | 'FINAL' | 'ORPHANED';

export interface DepositRow {
  readonly depositId: string;
  readonly chain: string;
  readonly asset: string;
  readonly address: string;
  readonly txHash: string;
  readonly outputIndex: number;
  readonly amount: bigint;
  readonly fromAddress: string;
  readonly blockHeight: bigint;
  readonly blockHash: string;
  readonly confirmations: number;
  readonly state: DepositState;
  readonly detectedAt: Date;
}

export interface IncidentRow {
  readonly chain: string;
  /**
   * REORG_BEYOND_FINALITY | REORG_TOO_DEEP | UNMATCHED_OUTFLOW | NONCE_CONSUMED_ELSEWHERE (also: a released nonce the chain
   * already used) | SIGNED_TX_MISMATCH | CHAIN_ID_MISMATCH | GENESIS_MISMATCH | CHAIN_VIEW_DIVERGENCE
   */
  readonly kind: string;
  readonly detail: string;
  readonly wallet: string;
  readonly txHash: string;
  /** The adapter's asset (custody.incident.raised.v1 `asset`). */
  readonly asset?: string;
  /** Default: application/incidents.ts `severityOf` (CRITICAL but for SIGNED_TX_MISMATCH). */
  readonly severity?: 'WARNING' | 'CRITICAL';
  /** Extra machine-readable facts for `evidence_json` (strings; amounts as decimal strings). */
  readonly evidence?: Readonly<Record<string, string>>;
  /**
   * Stable id (`incident_id`, unique in chain_incident): the same incident found again (a redelivered
   * event, a re-run pass) is recorded and published once. Default: derived from chain, kind, wallet,
   * tx hash and detail (application/incidents.ts).
   */
  readonly incidentId?: string;
}

export type OutEvent =
  | { readonly type: 'tx.prepared'; readonly message: TxPrepared; readonly correlationId: string; readonly causationId?: string }
  | { readonly type: 'tx.status'; readonly message: TxStatus; readonly correlationId: string; readonly causationId?: string }
  | { readonly type: 'deposit.detected'; readonly message: DepositDetected; readonly correlationId: string; readonly causationId?: string }
  | { readonly type: 'incident.raised'; readonly message: IncidentRaised; readonly correlationId: string; readonly causationId?: string };

export interface StoreScope {
  /**
   * A nonce for the wallet under its allocator row lock (SELECT … FOR UPDATE): the lowest
   * released nonce the chain has not used (`confirmedCount` = its latest count, read for this
   * allocation; absent → no released nonce is reused), else the counter, then +1. `floor` (the
   * chain's pending count) seeds a wallet seen for the first time and is ignored after.
   * Released nonces the chain already used leave the free list (`usedOnChain`: the caller
   * raises an incident).
   */
  allocateNonce(chain: string, wallet: string, floor: bigint, confirmedCount?: bigint): Promise<NonceAllocation>;
  /**
   * Under the same allocator row lock: the withdrawal no longer holds its nonce
   * (`nonce_released`), which goes onto the wallet's free list.
   */
  releaseNonce(withdrawalId: string, chain: string, wallet: string, nonce: bigint, reasonCode: string): Promise<void>;
  recordRefusal(row: RefusalRow): Promise<void>;
  insertWithdrawal(row: WithdrawalRow): Promise<boolean>;
  insertAttempt(row: AttemptRow): Promise<void>;
  withdrawal(withdrawalId: string, lock?: boolean): Promise<WithdrawalRow | undefined>;
  attempts(withdrawalId: string): Promise<AttemptRow[]>;
  updateWithdrawal(withdrawalId: string, patch: Partial<Omit<WithdrawalRow, 'withdrawalId'>>): Promise<void>;
  setSigned(withdrawalId: string, attempt: number, signedTx: Uint8Array, txHash: string): Promise<void>;
  putBlock(block: StoredBlock): Promise<void>;
  deleteBlocksAbove(chain: string, height: bigint): Promise<void>;
  upsertDeposit(row: DepositRow): Promise<void>;
  /**
   * Records the incident (chain_incident) and enqueues custody.incident.raised.v1 in the same
   * transaction, once per incident id: false (nothing written, nothing published) when the id is known.
   */
  recordIncident(row: IncidentRow): Promise<boolean>;
  emit(events: readonly OutEvent[]): Promise<void>;
  /** The wallet registry row (key.lifecycle), locked FOR UPDATE when `lock`. */
  wallet(chain: string, walletId: string, lock?: boolean): Promise<WalletRow | undefined>;
  putWallet(row: WalletRow): Promise<void>;
  /** The chain's pause breaker (undefined: never tripped = clear); FOR SHARE when `lock` (prepare), FOR UPDATE when 'update'. */
  breaker(chain: string, lock?: boolean | 'update'): Promise<BreakerRow | undefined>;
  /** Trips the breaker unless it is already tripped (latched): true when this call tripped it. */
  tripBreaker(chain: string, kind: string, detail: string, depthFactor: number): Promise<boolean>;
  /** Clears a tripped breaker (operator): the row after, undefined when it was not tripped. */
  resumeBreaker(chain: string, operatorId: string, reason: string): Promise<BreakerRow | undefined>;
  /** An operator action (PK operator id + request nonce): false when the nonce was seen (replay). */
  recordAdminAction(a: AdminActionRow): Promise<boolean>;
}

export interface AdminActionRow {
  readonly operatorId: string;
  readonly nonce: string;
  readonly method: string;
  readonly target: string;
  readonly reason: string;
  readonly outcome: string;
  readonly certificateSha256: string;
  readonly signature: Uint8Array;
}

export interface ChainStore {
  transaction<T>(fn: (scope: StoreScope) => Promise<T>): Promise<T>;
  // reads outside a transaction
  /** The allocator's next nonce for the wallet, undefined if it never allocated one. */
  nextNonce(chain: string, wallet: string): Promise<bigint | undefined>;
  /** The wallet's free list (nonces released by signer refusals), ascending. */
  releasedNonces(chain: string, wallet: string): Promise<bigint[]>;
  withdrawalsIn(chain: string, states: readonly WithdrawalState[]): Promise<WithdrawalRow[]>;
  withdrawalsAbove(chain: string, height: bigint): Promise<WithdrawalRow[]>;
  attemptByHash(txHash: string): Promise<AttemptRow | undefined>;
  attempts(withdrawalId: string): Promise<AttemptRow[]>;
  block(chain: string, height: bigint): Promise<StoredBlock | undefined>;
  topBlock(chain: string): Promise<StoredBlock | undefined>;
  depositsActive(chain: string): Promise<DepositRow[]>;
  depositsAbove(chain: string, height: bigint): Promise<DepositRow[]>;
  deposit(depositId: string): Promise<DepositRow | undefined>;
  incidents(chain: string): Promise<IncidentRow[]>;
  wallet(chain: string, walletId: string): Promise<WalletRow | undefined>;
  breaker(chain: string): Promise<BreakerRow | undefined>;
}
