// The single writer of the chain: turns an event or an operator action into the next record
// (canonical encoding + SHA-256, domain/canonical.ts) and appends it under the head lock.
import { payloadDigest, recordHash, type RecordContent } from '../domain/canonical.js';
import { AuditUnavailableError, InvalidArgumentError } from '../domain/errors.js';
import { operatorActionPayload, validateOperatorAction, type OperatorAction } from '../domain/operator-action.js';
import type { StoredRecord } from '../domain/verify.js';
import type { AuditStore, Clock, NewRecord, Tx } from './ports.js';

/** An event as received from the bus (the envelope's fields plus its bytes as received). */
export interface ReceivedEvent {
  readonly id: string;
  readonly type: string;
  readonly producer: string;
  readonly correlationId: string;
  readonly causationId?: string | undefined;
  readonly occurredAt: Date;
  readonly bytes: Uint8Array;
}

export interface AuditReceipt {
  readonly sequence: bigint;
  readonly recordHash: Uint8Array;
  readonly recordedAt?: Date;
}

export class AuditLog {
  constructor(
    private readonly deps: { readonly store: AuditStore; readonly clock: Clock; readonly newId: () => string },
  ) {}

  /** Appends one bus event. Runs inside the caller's transaction (the inbox's), if given. */
  recordEvent(event: ReceivedEvent, tx?: Tx): Promise<StoredRecord> {
    return this.append(
      {
        kind: 'event',
        actor: event.producer,
        action: event.type,
        eventId: event.id,
        correlationId: event.correlationId,
        causationId: event.causationId ?? '',
        producer: event.producer,
        occurredAt: event.occurredAt,
        payload: event.bytes,
      },
      tx,
    );
  }

  /**
   * Appends an operator administrative action. Throws InvalidOperatorActionError for a bad
   * action and AuditUnavailableError if the log cannot be written: the caller must then refuse
   * the action (fail closed).
   */
  async recordOperatorAction(action: OperatorAction): Promise<AuditReceipt> {
    validateOperatorAction(action);
    try {
      const record = await this.append({
        kind: 'operator',
        actor: action.operatorId,
        action: action.action,
        eventId: this.deps.newId(),
        correlationId: action.correlationId,
        causationId: action.requestId,
        producer: 'audit',
        occurredAt: action.occurredAt,
        payload: operatorActionPayload(action),
      }, undefined, true);
      return { sequence: record.sequence, recordHash: record.recordHash, recordedAt: record.recordedAt };
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw err;
      throw new AuditUnavailableError({ cause: err });
    }
  }

  private append(entry: NewRecord, tx?: Tx, announce = false): Promise<StoredRecord> {
    const digest = payloadDigest(entry.payload);
    const recordedAt = this.deps.clock.now();
    return this.deps.store.append((head) => {
      const content: RecordContent = {
        sequence: head.sequence + 1n,
        prevHash: head.hash,
        occurredAt: entry.occurredAt,
        recordedAt,
        kind: entry.kind,
        actor: entry.actor,
        action: entry.action,
        eventId: entry.eventId,
        correlationId: entry.correlationId,
        causationId: entry.causationId,
        producer: entry.producer,
        payloadDigest: digest,
      };
      return { ...content, recordHash: recordHash(content), payload: entry.payload };
    }, tx, announce);
  }
}
