// Ports of the audit use cases. Adapters: adapters/persistence (Postgres), adapters/keys
// (Ed25519 checkpoint key), adapters/kafka (bus consumer), adapters/grpc (query API).
import type { RecordKind } from '../domain/canonical.js';
import type { ChainHead, StoredCheckpoint, StoredRecord } from '../domain/verify.js';

/** An open transaction of the store (opaque to the application). */
export type Tx = unknown;

export interface Clock {
  now(): Date;
}

/** What is appended; sequence, prev_hash, recorded_at and the hashes are the log's to fill in. */
export interface NewRecord {
  readonly kind: RecordKind;
  readonly actor: string;
  readonly action: string;
  readonly eventId: string;
  readonly correlationId: string;
  readonly causationId: string;
  readonly producer: string;
  readonly occurredAt: Date;
  readonly payload: Uint8Array;
}

export interface RecordFilter {
  readonly correlationId?: string;
  readonly actor?: string;
  /** occurred_at >= startTime */
  readonly startTime?: Date;
  /** occurred_at < endTime */
  readonly endTime?: Date;
}

export interface AuditStore {
  /**
   * Appends one record as the single writer of the chain: locks the chain head row, calls
   * `build` with the current head, inserts the record and advances the head, all in `tx`
   * (or in a transaction of its own). Concurrent appends queue on the lock: the chain never forks.
   * `announce`: also write its custody.audit.recorded.v1 event to the outbox in the same
   * transaction (operator actions; bus-event records are pinned by checkpoints instead).
   */
  append(build: (head: ChainHead) => StoredRecord, tx?: Tx, announce?: boolean): Promise<StoredRecord>;
  head(): Promise<ChainHead>;
  /** Records with sequence > afterSequence, in sequence order. */
  scan(afterSequence: bigint, limit: number): Promise<StoredRecord[]>;
  query(filter: RecordFilter, afterSequence: bigint, limit: number): Promise<StoredRecord[]>;
  /** record_hash of each existing record among `sequences`. */
  hashesAt(sequences: readonly bigint[]): Promise<Map<bigint, Uint8Array>>;
  checkpoints(): Promise<StoredCheckpoint[]>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  /** Stores a signed checkpoint and, in the same transaction, its custody.audit.recorded.v1 event (outbox). */
  insertCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
}

/** The audit service's checkpoint key (Ed25519). The private key never leaves the adapter. */
export interface CheckpointSigner {
  readonly keyId: string;
  readonly publicKey: Uint8Array;
  sign(message: Uint8Array): Promise<Uint8Array>;
}
