// AuditStore on Postgres (raw SQL through TypeORM's EntityManager). The chain head row
// (audit_chain) is the single-writer lock: SELECT ... FOR UPDATE serialises appends.
import { enqueue } from '@custody/event-bus';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditStore, RecordFilter, Tx } from '../../application/ports.js';
import type { RecordKind } from '../../domain/canonical.js';
import type { ChainHead, StoredCheckpoint, StoredRecord } from '../../domain/verify.js';
import { checkpointRecordedEntry, operatorRecordedEntry } from '../events.js';
import { identityTopics, type TopicNamer } from '../kafka/audit-consumer.js';
import { CHAIN_ID } from './schema.js';

interface RecordRow {
  sequence: string;
  prev_hash: Buffer;
  record_hash: Buffer;
  occurred_at: Date;
  recorded_at: Date;
  kind: string;
  actor: string;
  action: string;
  event_id: string;
  correlation_id: string;
  causation_id: string;
  producer: string;
  payload_digest: Buffer;
  payload: Buffer;
}

interface CheckpointRow {
  sequence: string;
  record_hash: Buffer;
  created_at: Date;
  key_id: string;
  signature: Buffer;
}

const RECORD_COLUMNS =
  '"sequence", "prev_hash", "record_hash", "occurred_at", "recorded_at", "kind", "actor", "action", "event_id", "correlation_id", "causation_id", "producer", "payload_digest", "payload"';

const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

function toRecord(r: RecordRow): StoredRecord {
  return {
    sequence: BigInt(r.sequence),
    prevHash: bytes(r.prev_hash),
    recordHash: bytes(r.record_hash),
    occurredAt: r.occurred_at,
    recordedAt: r.recorded_at,
    // Whatever is stored is verified as stored: a tampered kind fails the hash check.
    kind: r.kind as RecordKind,
    actor: r.actor,
    action: r.action,
    eventId: r.event_id,
    correlationId: r.correlation_id,
    causationId: r.causation_id,
    producer: r.producer,
    payloadDigest: bytes(r.payload_digest),
    payload: bytes(r.payload),
  };
}

function toCheckpoint(r: CheckpointRow): StoredCheckpoint {
  return { sequence: BigInt(r.sequence), recordHash: bytes(r.record_hash), createdAt: r.created_at, keyId: r.key_id, signature: bytes(r.signature) };
}

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export class PostgresAuditStore implements AuditStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer = identityTopics,
  ) {}

  append(build: (head: ChainHead) => StoredRecord, tx?: Tx, announce = false): Promise<StoredRecord> {
    const run = async (m: EntityManager): Promise<StoredRecord> => {
      const rows = (await m.query(`SELECT "last_sequence", "last_hash" FROM "audit_chain" WHERE "chain_id" = $1 FOR UPDATE`, [CHAIN_ID])) as {
        last_sequence: string;
        last_hash: Buffer;
      }[];
      const head = rows[0];
      if (!head) throw new Error('audit_chain head row is missing (migrations not run?)');
      const r = build({ sequence: BigInt(head.last_sequence), hash: bytes(head.last_hash) });
      await m.query(`INSERT INTO "audit_record" (${RECORD_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, [
        r.sequence.toString(),
        buf(r.prevHash),
        buf(r.recordHash),
        r.occurredAt,
        r.recordedAt,
        r.kind,
        r.actor,
        r.action,
        r.eventId,
        r.correlationId,
        r.causationId,
        r.producer,
        buf(r.payloadDigest),
        buf(r.payload),
      ]);
      await m.query(`UPDATE "audit_chain" SET "last_sequence" = $2, "last_hash" = $3 WHERE "chain_id" = $1`, [CHAIN_ID, r.sequence.toString(), buf(r.recordHash)]);
      // Same transaction: the announcement commits with the record or not at all.
      if (announce) await enqueue(m, [operatorRecordedEntry(r, this.topicName)]);
      return r;
    };
    return tx ? run(tx as EntityManager) : this.dataSource.transaction(run);
  }

  async head(): Promise<ChainHead> {
    const rows = (await this.dataSource.query(`SELECT "last_sequence", "last_hash" FROM "audit_chain" WHERE "chain_id" = $1`, [CHAIN_ID])) as {
      last_sequence: string;
      last_hash: Buffer;
    }[];
    const head = rows[0];
    if (!head) throw new Error('audit_chain head row is missing (migrations not run?)');
    return { sequence: BigInt(head.last_sequence), hash: bytes(head.last_hash) };
  }

  async scan(afterSequence: bigint, limit: number): Promise<StoredRecord[]> {
    const rows = (await this.dataSource.query(`SELECT ${RECORD_COLUMNS} FROM "audit_record" WHERE "sequence" > $1 ORDER BY "sequence" LIMIT $2`, [
      afterSequence.toString(),
      limit,
    ])) as RecordRow[];
    return rows.map(toRecord);
  }

  async query(filter: RecordFilter, afterSequence: bigint, limit: number): Promise<StoredRecord[]> {
    const where = ['"sequence" > $1'];
    const params: unknown[] = [afterSequence.toString()];
    const add = (sql: string, value: unknown): void => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.correlationId !== undefined) add('"correlation_id" = ?', filter.correlationId);
    if (filter.actor !== undefined) add('"actor" = ?', filter.actor);
    if (filter.startTime !== undefined) add('"occurred_at" >= ?', filter.startTime);
    if (filter.endTime !== undefined) add('"occurred_at" < ?', filter.endTime);
    params.push(limit);
    const rows = (await this.dataSource.query(
      `SELECT ${RECORD_COLUMNS} FROM "audit_record" WHERE ${where.join(' AND ')} ORDER BY "sequence" LIMIT $${params.length}`,
      params,
    )) as RecordRow[];
    return rows.map(toRecord);
  }

  async hashesAt(sequences: readonly bigint[]): Promise<Map<bigint, Uint8Array>> {
    if (sequences.length === 0) return new Map();
    const rows = (await this.dataSource.query(`SELECT "sequence", "record_hash" FROM "audit_record" WHERE "sequence" = ANY($1::bigint[])`, [
      sequences.map((s) => s.toString()),
    ])) as { sequence: string; record_hash: Buffer }[];
    return new Map(rows.map((r) => [BigInt(r.sequence), bytes(r.record_hash)]));
  }

  async checkpoints(): Promise<StoredCheckpoint[]> {
    const rows = (await this.dataSource.query(
      `SELECT "sequence", "record_hash", "created_at", "key_id", "signature" FROM "audit_checkpoint" ORDER BY "sequence"`,
    )) as CheckpointRow[];
    return rows.map(toCheckpoint);
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT "sequence", "record_hash", "created_at", "key_id", "signature" FROM "audit_checkpoint" ORDER BY "sequence" DESC LIMIT 1`,
    )) as CheckpointRow[];
    return rows[0] ? toCheckpoint(rows[0]) : undefined;
  }

  async insertCheckpoint(c: StoredCheckpoint): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query(`INSERT INTO "audit_checkpoint" ("sequence", "record_hash", "created_at", "key_id", "signature") VALUES ($1, $2, $3, $4, $5)`, [
        c.sequence.toString(),
        buf(c.recordHash),
        c.createdAt,
        c.keyId,
        buf(c.signature),
      ]);
      await enqueue(m, [checkpointRecordedEntry(c, this.topicName)]);
    });
  }

  /**
   * Fail closed at boot: the runtime role must not be able to rewrite the logs. Returns the
   * privileges it wrongly holds (empty = fine).
   */
  async excessPrivileges(): Promise<string[]> {
    const checks = [
      ['audit_record', 'UPDATE'],
      ['audit_record', 'DELETE'],
      ['audit_record', 'TRUNCATE'],
      ['audit_checkpoint', 'UPDATE'],
      ['audit_checkpoint', 'DELETE'],
      ['audit_checkpoint', 'TRUNCATE'],
      ['audit_chain', 'INSERT'],
      ['audit_chain', 'DELETE'],
      ['audit_chain', 'TRUNCATE'],
    ] as const;
    const rows = (await this.dataSource.query(
      `SELECT t.tbl, t.priv FROM unnest($1::text[], $2::text[]) AS t(tbl, priv) WHERE has_table_privilege(current_user, t.tbl, t.priv)`,
      [checks.map((c) => c[0]), checks.map((c) => c[1])],
    )) as { tbl: string; priv: string }[];
    return rows.map((r) => `${r.priv} on ${r.tbl}`);
  }
}
