// Outbox on Postgres (TypeORM): enqueue() inside the caller's transaction, and the
// OutboxStore the relay uses.
//
// One relay at a time: claim() opens a transaction and takes a transaction-scoped
// advisory lock (pg_try_advisory_xact_lock on a key derived from the schema name). A relay
// that does not get it skips the round. The lock lives exactly as long as the batch
// transaction — released by commit, rollback, or the connection dying — so there is no
// leader state to lose or leak, and any number of relay instances may run (the others
// are hot standbys). Inside the batch, rows are selected with FOR UPDATE SKIP LOCKED and
// guarded per key (blockedFrom), so even a relay that somehow ran without the lock could
// never publish a key's rows out of order.
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { Envelope, EnvelopeCodec } from '../envelope.js';
import { assertValidEnvelope } from '../envelope.js';
import { EventBusError } from '../errors.js';
import type { ClaimedBatch, OutboxRow, OutboxStore } from '../outbox-relay.js';
import { protobufEnvelopeCodec } from '../protobuf-envelope-codec.js';
import { OUTBOX_TABLE, qualified, schemaOf, type SchemaOption } from './postgres-schema.js';

export interface OutboxEntry {
  readonly topic: string;
  /** Its id becomes the row id, its key the partition key. */
  readonly envelope: Envelope;
}

export interface EnqueueOptions extends SchemaOption {
  /** Default: protobuf EventEnvelope. */
  readonly codec?: EnvelopeCodec;
}

const INSERT_CHUNK = 1000; // 4 parameters per row, well under Postgres's 65535

function isQueryRunner(target: EntityManager | QueryRunner): target is QueryRunner {
  return 'isTransactionActive' in target && 'manager' in target;
}

/**
 * Writes events to the outbox inside the caller's open transaction (the one that changes
 * the state the events describe). Refuses to run outside a transaction: an event written
 * on its own connection could be committed without its state change, or lost with it.
 */
export async function enqueue(target: EntityManager | QueryRunner, entries: readonly OutboxEntry[], options: EnqueueOptions = {}): Promise<void> {
  const queryRunner = isQueryRunner(target) ? target : target.queryRunner;
  if (!queryRunner?.isTransactionActive) {
    throw new EventBusError(
      'OUTBOX_NOT_IN_TRANSACTION',
      'enqueue: pass the EntityManager of dataSource.transaction(...) (or a QueryRunner with an active transaction): events must commit with the state change',
    );
  }
  if (entries.length === 0) return;
  const codec = options.codec ?? protobufEnvelopeCodec;
  const rows = entries.map((entry, index) => {
    if (typeof entry?.topic !== 'string' || entry.topic.length === 0) {
      throw new EventBusError('INVALID_ARGUMENT', `enqueue: entries[${index}].topic must be a non-empty string`);
    }
    assertValidEnvelope(entry.envelope);
    return [entry.envelope.id, entry.topic, entry.envelope.key, Buffer.from(codec.encode(entry.envelope))] as const;
  });
  const table = qualified(schemaOf(queryRunner.dataSource, options), OUTBOX_TABLE);
  for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
    const chunk = rows.slice(start, start + INSERT_CHUNK);
    const values = chunk.map((_, i) => `($${i * 4 + 1}, $${i * 4 + 2}, $${i * 4 + 3}, $${i * 4 + 4})`).join(', ');
    await queryRunner.query(`INSERT INTO ${table} ("id", "topic", "key", "envelope") VALUES ${values}`, chunk.flat());
  }
}

export interface PostgresOutboxStoreOptions extends SchemaOption {
  /** Name hashed into the advisory lock key. Default `custody.event-bus.outbox-relay:<schema>`. */
  readonly lockName?: string;
}

interface RawRow {
  id: string;
  /** Text, not the bigint column: pg would give a string anyway, and ORDER BY must see the number. */
  seq_text: string;
  topic: string;
  key: string;
  envelope: Buffer;
  created_at: Date;
}

export class PostgresOutboxStore implements OutboxStore {
  private readonly table: string;
  private readonly lockName: string;

  constructor(
    private readonly dataSource: DataSource,
    options: PostgresOutboxStoreOptions = {},
  ) {
    const schema = schemaOf(dataSource, options);
    this.table = qualified(schema, OUTBOX_TABLE);
    this.lockName = options.lockName ?? `custody.event-bus.outbox-relay:${schema}`;
  }

  async claim(limit: number): Promise<ClaimedBatch | undefined> {
    const queryRunner = this.dataSource.createQueryRunner();
    let open = false;
    try {
      await queryRunner.connect();
      await queryRunner.startTransaction();
      open = true;
      const [lock] = (await queryRunner.query('SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS "locked"', [this.lockName])) as { locked: boolean }[];
      if (!lock?.locked) {
        await finish(queryRunner);
        return undefined;
      }
      const raw = (await queryRunner.query(
        `SELECT "id", "seq"::text AS "seq_text", "topic", "key", "envelope", "created_at"
           FROM ${this.table}
          WHERE "published_at" IS NULL
          ORDER BY "seq"
          LIMIT $1
          FOR UPDATE SKIP LOCKED`,
        [limit],
      )) as RawRow[];
      const rows: OutboxRow[] = raw.map((r) => ({ id: r.id, seq: BigInt(r.seq_text), topic: r.topic, key: r.key, envelope: r.envelope, createdAt: r.created_at }));
      const blockedFrom = new Map<string, bigint>();
      if (rows.length > 0) {
        const keys = [...new Set(rows.map((r) => r.key))];
        const blockers = (await queryRunner.query(
          `SELECT "key", min("seq")::text AS "min_seq"
             FROM ${this.table}
            WHERE "published_at" IS NULL AND "key" = ANY($1::text[]) AND NOT ("id" = ANY($2::uuid[]))
            GROUP BY "key"`,
          [keys, rows.map((r) => r.id)],
        )) as { key: string; min_seq: string }[];
        for (const b of blockers) blockedFrom.set(b.key, BigInt(b.min_seq));
      }
      let ended = false;
      const table = this.table;
      return {
        rows,
        blockedFrom,
        async markPublished(ids: readonly string[]): Promise<void> {
          if (ended) throw new EventBusError('INVALID_ARGUMENT', 'markPublished: the batch has already ended');
          ended = true;
          try {
            await queryRunner.query(
              `UPDATE ${table} SET "published_at" = now(), "attempts" = "attempts" + 1, "last_error" = NULL WHERE "id" = ANY($1::uuid[])`,
              [ids],
            );
            await queryRunner.commitTransaction();
          } finally {
            await finish(queryRunner);
          }
        },
        async release(): Promise<void> {
          if (ended) return;
          ended = true;
          await finish(queryRunner);
        },
      };
    } catch (error) {
      if (open || !queryRunner.isReleased) await finish(queryRunner);
      throw error;
    }
  }

  async recordFailure(ids: readonly string[], error: string): Promise<void> {
    await this.dataSource.query(
      `UPDATE ${this.table} SET "attempts" = "attempts" + 1, "last_error" = $2 WHERE "id" = ANY($1::uuid[]) AND "published_at" IS NULL`,
      [ids, error],
    );
  }
}

/** Rolls back if a transaction is still open, then releases the connection; never throws. */
async function finish(queryRunner: QueryRunner): Promise<void> {
  try {
    if (queryRunner.isTransactionActive) await queryRunner.rollbackTransaction();
  } catch {
    // the connection is gone; the server rolled back for us
  } finally {
    if (!queryRunner.isReleased) await queryRunner.release().catch(() => undefined);
  }
}

export interface PruneOptions extends SchemaOption {
  /** Delete rows published before this time. */
  readonly publishedBefore: Date;
  /** At most this many rows per call. Default 10,000. */
  readonly limit?: number;
}

/** Deletes old published outbox rows; returns how many. Unpublished rows are never touched. */
export async function pruneOutbox(dataSource: DataSource, options: PruneOptions): Promise<number> {
  const table = qualified(schemaOf(dataSource, options), OUTBOX_TABLE);
  const [, count] = (await dataSource.query(
    `DELETE FROM ${table} WHERE "id" IN (
       SELECT "id" FROM ${table} WHERE "published_at" IS NOT NULL AND "published_at" < $1 ORDER BY "published_at" LIMIT $2)`,
    [options.publishedBefore, options.limit ?? 10_000],
  )) as [unknown, number];
  return count;
}

export interface RepublishOptions extends SchemaOption {
  /** Only rows published at or after this time. Default: every retained row. */
  readonly publishedSince?: Date;
}

/**
 * Marks retained, already published rows unpublished again, so the relay publishes them
 * once more, in their original order. For a bus whose log did not survive (the in-process
 * bus after a restart): consumers that had not handled them yet get them; the others skip
 * them through the inbox. Returns how many rows were reset.
 */
export async function republishOutbox(dataSource: DataSource, options: RepublishOptions = {}): Promise<number> {
  const table = qualified(schemaOf(dataSource, options), OUTBOX_TABLE);
  const [, count] = (await dataSource.query(
    `UPDATE ${table} SET "published_at" = NULL WHERE "published_at" IS NOT NULL AND "published_at" >= $1`,
    [options.publishedSince ?? new Date(0)],
  )) as [unknown, number];
  return count;
}
