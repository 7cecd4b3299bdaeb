/**
 * Ports of the signer's application layer. Adapters: Postgres (service) and in-memory
 * (unit tests) stores; KeyCustody in key-custody.ts.
 */
import type { KeyRecord, KeyTransitionEvent } from '../domain/key.js';
import type { OperatorSignature } from '../domain/operators.js';
import type { Refusal } from '../domain/refusal.js';

export interface Clock {
  now(): Date;
}

export interface EventContext {
  /** Id of the consumed event (inbox key). */
  readonly eventId: string;
  readonly correlationId: string;
}

export interface OutcomeBase {
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly chain: string;
  readonly sourceWallet: string;
  readonly at: Date;
}

export interface SignedOutcome extends OutcomeBase {
  readonly kind: 'signed';
  readonly keyId: string;
  readonly signedTx: Uint8Array;
  /** 0x-prefixed lowercase hex (EVM) or the txid (Bitcoin). */
  readonly txHash: string;
  /**
   * The unsigned payload that was signed (EVM: the canonical unsigned type-2 payload), kept
   * with the decision so a later fee bump is checked against exactly it (domain/fee-bump.ts).
   */
  readonly signedPayload?: Uint8Array;
}

export interface RefusedOutcome extends OutcomeBase {
  readonly kind: 'refused';
  readonly refusal: Refusal;
  /** Refused after the single-use reservation: the decision is spent (see tx.proto). */
  readonly decisionConsumed: boolean;
}

export type SigningOutcome = SignedOutcome | RefusedOutcome;

/** What happens under the key row lock, committed together. */
export interface LockedResult {
  readonly outcome: SigningOutcome;
  /** The key row after this step (signature budget spent, auto-deactivated), if it changed. */
  readonly key?: KeyRecord;
  readonly transitions: readonly KeyTransitionEvent[];
}

export type ReserveResult = { readonly status: 'reserved' } | { readonly status: 'taken'; readonly byEventId: string; readonly state: string };

export interface SigningStore {
  /** Refusal before any reservation: inbox + tx.refused in one transaction. */
  recordRefusal(ctx: EventContext, outcome: RefusedOutcome): Promise<'recorded' | 'duplicate'>;
  /**
   * Inserts the decision id under its UNIQUE constraint (status "reserved") and COMMITS,
   * before any signature exists. 'taken' when the id was already reserved.
   */
  reserveDecision(reservation: { decisionId: string; withdrawalId: string; eventId: string; walletId: string; at: Date }): Promise<ReserveResult>;
  /**
   * One transaction: inbox insert (duplicate → nothing), SELECT the wallet's key FOR UPDATE,
   * run `work` (which may call the custody), then write the decision's final status, the key
   * row, its transitions and the outgoing events (tx.signed / tx.refused, key.lifecycle) to
   * the outbox. A suspension committed before the lock is seen; one committed after waits.
   */
  signUnderLock(ctx: EventContext, walletId: string, decisionId: string, work: (key: KeyRecord | undefined) => Promise<LockedResult>): Promise<'done' | 'duplicate'>;
  /**
   * Fee bump of a decision already SIGNED: one transaction: inbox insert (duplicate →
   * nothing), the wallet's key row FOR UPDATE, the decision row FOR UPDATE, `work` gets the
   * key and the payload signed last for the decision (undefined when none is recorded or the
   * decision is not 'signed'); a signed outcome replaces the decision's tx hash and signed
   * payload (bump count + 1) and goes to the outbox; a refused one only goes to the outbox.
   */
  bumpUnderLock(ctx: EventContext, walletId: string, decisionId: string, work: (key: KeyRecord | undefined, signedPayload: Uint8Array | undefined) => Promise<LockedResult>): Promise<'done' | 'duplicate'>;
}

export interface TransitionRecord {
  readonly event: KeyTransitionEvent;
  readonly requestId: string | undefined;
  /** The operator quorum that authorised an admin transition (counted signatures only). */
  readonly quorum?: { readonly required: number; readonly approvals: readonly OperatorSignature[] };
}

export interface KeyStore {
  /** Inserts a new key (state inactive after wrap) with its generated+wrapped transitions. */
  insertKey(key: KeyRecord, transitions: readonly TransitionRecord[]): Promise<void>;
  getKey(keyId: string): Promise<KeyRecord | undefined>;
  /**
   * Locks the key row, applies `change`, writes the row, the transition (request id UNIQUE:
   * a replayed admin request fails with INVALID_TRANSITION) and key.lifecycle, in one transaction.
   */
  transition(keyId: string, change: (key: KeyRecord) => { key: KeyRecord; record: TransitionRecord }): Promise<KeyRecord>;
}

/** A key action that is not a state transition (backup made, key restored from backup), recorded with its quorum. */
export interface KeyActionRecord {
  readonly keyId: string;
  /** Stored in key_transition.transition: 'backup-created' | 'restored'. */
  readonly action: 'backup-created' | 'restored';
  readonly actor: string;
  readonly reason: string;
  readonly requestId: string;
  readonly at: Date;
  readonly quorum: { readonly required: number; readonly approvals: readonly OperatorSignature[] };
}

/** Inventory reads and recorded non-transition actions for the admin API (Postgres adapter). */
export interface KeyAdminStore {
  listKeys(filter: { readonly walletId?: string; readonly chain?: string }): Promise<KeyRecord[]>;
  /**
   * Locks the key row, lets `change` check it and return the row to write (custody and
   * custody ref may change: restore), writes the row and the action into key_transition
   * (request id UNIQUE: a replay fails with INVALID_TRANSITION), in one transaction.
   */
  recordKeyAction(record: KeyActionRecord, change: (key: KeyRecord) => KeyRecord): Promise<KeyRecord>;
}
