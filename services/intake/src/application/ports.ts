// The ports intake's use cases need. Adapters implement them (adapters/persistence for
// Postgres, the composition root for the rest); tests use fakes.
import type { Integrator, Scope } from '../domain/integrator.js';
import type { MaintenanceWindow } from '../domain/maintenance.js';
import type { Withdrawal } from '../domain/withdrawal.js';
import type { WithdrawalStateName } from '../domain/withdrawal-state.js';
import type { OperatorActor } from './operator-auth.js';

export interface Clock {
  now(): Date;
}

/** Opaque transaction handle (the inbox's EntityManager on Postgres). */
export type Tx = unknown;

export interface IntegratorDirectory {
  findByClientId(clientId: string): Promise<Integrator | undefined>;
  findByCertificateFingerprint(fingerprint: string): Promise<Integrator | undefined>;
  accountExists(clientId: string, customerAccount: string): Promise<boolean>;
}

export interface NonceStore {
  /** Records (client, nonce); false if it was already there (a replay). */
  remember(clientId: string, nonce: string, seenAt: Date): Promise<boolean>;
}

export interface StateChange {
  readonly to: WithdrawalStateName;
  readonly reasonCode: string;
  readonly reasonDetail: string;
  readonly txHash?: string;
  readonly confirmations?: number;
}

export type CreateOutcome = { readonly created: true; readonly withdrawal: Withdrawal } | { readonly created: false; readonly existing: Withdrawal };

export interface ListFilter {
  readonly clientId: string;
  readonly customerAccount?: string;
  readonly states: readonly WithdrawalStateName[];
  readonly createdAfter?: Date;
  readonly createdBefore?: Date;
  /** Keyset cursor: (createdAt, id) of the last item of the previous page. */
  readonly after?: { readonly createdAt: Date; readonly id: string };
  readonly limit: number;
}

export interface WithdrawalStore {
  /**
   * Inserts the withdrawal and its withdrawal.requested event in one transaction, unless
   * (client_id, idempotency_key) exists: then returns the existing row (unique constraint).
   */
  create(withdrawal: Withdrawal, correlationId: string): Promise<CreateOutcome>;
  get(clientId: string, id: string): Promise<Withdrawal | undefined>;
  getById(id: string, tx?: Tx): Promise<Withdrawal | undefined>;
  list(filter: ListFilter): Promise<readonly Withdrawal[]>;
  /**
   * Locks the row, asks `decide` for the change and, if there is one, applies it with a
   * withdrawal.status event in the same transaction (or in `tx` when given).
   */
  transition(id: string, decide: (current: Withdrawal) => StateChange | undefined, context: { readonly correlationId: string; readonly causationId?: string }, tx?: Tx): Promise<{ readonly before: Withdrawal; readonly after: Withdrawal } | undefined>;
}

/** A pipeline event that arrived ahead of its withdrawal's state (table intake_pending_event). */
export interface ParkedPipelineEvent {
  readonly eventId: string;
  readonly withdrawalId: string;
  readonly topic: string;
  /** The fact in intake's terms plus the context its transition is recorded with. */
  readonly payload: {
    readonly to: WithdrawalStateName;
    readonly reasonCode: string;
    readonly reasonDetail: string;
    readonly txHash?: string;
    readonly confirmations?: number;
    readonly correlationId: string;
  };
  /** Arrival order within the withdrawal (assigned by the store). */
  readonly arrival?: number;
}

/** Parking for early pipeline events; every call runs in the caller's transaction. */
export interface PendingPipelineEvents {
  /** Runs `work` in `tx`, or in a new transaction when absent. */
  inTransaction<T>(work: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T>;
  park(event: ParkedPipelineEvent, tx: Tx): Promise<void>;
  /** The withdrawal's parked events in arrival order. */
  parked(withdrawalId: string, tx: Tx): Promise<readonly ParkedPipelineEvent[]>;
  remove(eventIds: readonly string[], tx: Tx): Promise<void>;
}

export type AdminActionKind = 'REGISTER_INTEGRATOR' | 'REVOKE_INTEGRATOR' | 'ROTATE_INTEGRATOR_KEY' | 'SCHEDULE_MAINTENANCE' | 'CANCEL_MAINTENANCE';

/**
 * An operator's admin action as evidence: stored (table admin_action) in the same
 * transaction as the change and its event. Absent only for bootstrap calls on the
 * startIntake handle (tests, embedded demo), which no operator made.
 */
export interface AdminRecord {
  readonly id: string;
  readonly action: AdminActionKind;
  /** client id or maintenance id. */
  readonly target: string;
  readonly actor: OperatorActor;
  readonly correlationId: string;
  readonly at: Date;
  readonly reason?: string;
}

export interface MaintenanceNoticeQuery {
  readonly now: Date;
  /** Also windows with ends_at <= now. */
  readonly includeEnded: boolean;
  readonly includeCancelled: boolean;
  readonly limit: number;
}

export interface MaintenanceStore {
  /** Stores the window and its maintenance.scheduled event in one transaction. */
  create(window: MaintenanceWindow, correlationId: string, record?: AdminRecord): Promise<void>;
  /** Windows that have not ended at `now` and were not cancelled. */
  listCurrentAndUpcoming(now: Date): Promise<readonly MaintenanceWindow[]>;
  get(id: string): Promise<MaintenanceWindow | undefined>;
  /**
   * Operators' listing (ListMaintenanceNotices): windows matching the query, the latest
   * starting first, at most `limit`.
   */
  listNotices(query: MaintenanceNoticeQuery): Promise<readonly MaintenanceWindow[]>;
  /**
   * Marks the window cancelled and publishes it again with cancelled = true, in one
   * transaction; false if it was already cancelled (a concurrent cancel won).
   */
  cancel(id: string, cancelledAt: Date, cancelledBy: string, correlationId: string, record?: AdminRecord): Promise<boolean>;
}

export interface NewIntegrator {
  readonly clientId: string;
  readonly scopes: readonly Scope[];
  readonly allowedAssets: readonly string[];
  readonly ipAllowlist?: readonly string[];
  readonly rateLimit: { readonly ratePerSecond: number; readonly burst: number };
  readonly keys: readonly { readonly keyId: string; readonly publicKey: Uint8Array }[];
  readonly certificateFingerprints?: readonly string[];
  readonly customerAccounts?: readonly string[];
}

/** The integrator registry's write side (operator API; bootstrap through the startIntake handle). */
export interface IntegratorAdminStore {
  findByClientId(clientId: string): Promise<Integrator | undefined>;
  list(): Promise<readonly Integrator[]>;
  /** ConflictError INTEGRATOR_EXISTS / CERTIFICATE_ALREADY_REGISTERED when taken. */
  register(integrator: NewIntegrator, now: Date, record?: AdminRecord): Promise<void>;
  revoke(clientId: string, record?: AdminRecord): Promise<void>;
  /** Adds the key; every other unrevoked key of the client expires at `previousKeysExpireAt` at the latest. */
  rotateKey(clientId: string, key: { readonly keyId: string; readonly publicKey: Uint8Array }, previousKeysExpireAt: Date, now: Date, record?: AdminRecord): Promise<void>;
}

export interface DepositAddress {
  readonly asset: string;
  readonly chain: string;
  readonly address: string;
  readonly destinationTag: string;
}

/** The signer derives deposit addresses; intake only asks (fail closed when absent). */
export interface DepositAddressProvider {
  depositAddress(request: { readonly clientId: string; readonly customerAccount: string; readonly asset: string; readonly chain: string }): Promise<DepositAddress>;
}

/** Told about every committed change so WatchWithdrawals streams can push it. */
export interface WithdrawalNotifier {
  publish(withdrawal: Withdrawal): void;
}
