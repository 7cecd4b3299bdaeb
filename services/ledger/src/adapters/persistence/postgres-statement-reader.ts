// StatementReader on Postgres: one REPEATABLE READ, READ ONLY transaction per page, so the
// page's lines and the opening/closing/before/after sums come from the same snapshot.
import type { DataSource, EntityManager } from 'typeorm';
import type { StatementReader, StatementSlice, StatementSliceQuery } from '../../application/statements.js';
import type { Bucket, EntryKind } from '../../domain/postings.js';
import type { StatementBalance } from '../../domain/statement.js';

interface LineRow {
  seq: string;
  line_no: number;
  entry_id: string;
  kind: EntryKind;
  cause_event_id: string;
  reference_id: string;
  correlation_id: string;
  booked_at: Date;
  bucket: Bucket;
  amount: string;
}

export class PostgresStatementReader implements StatementReader {
  constructor(private readonly dataSource: DataSource) {}

  statementSlice(q: StatementSliceQuery): Promise<StatementSlice> {
    return this.dataSource.transaction('REPEATABLE READ', async (m: EntityManager) => {
      await m.query('SET TRANSACTION READ ONLY');
      // The first `entries + 1` entries of the period after the token that touch the account and
      // asset (driven from the account's lines: journal_line_account_idx).
      const rows = (await m.query(
        `WITH page AS (
           SELECT e."entry_id", e."seq" FROM "journal_entry" e
           WHERE e."entry_id" IN (SELECT l."entry_id" FROM "journal_line" l WHERE l."account" = $1 AND l."asset" = $2)
             AND e."seq" > $5 AND e."booked_at" >= $3 AND e."booked_at" < $4
           ORDER BY e."seq" LIMIT $6)
         SELECT e."seq"::text AS seq, l."line_no", e."entry_id", e."kind", e."cause_event_id", e."reference_id", e."correlation_id", e."booked_at", l."bucket", l."amount"::text AS amount
         FROM page p JOIN "journal_entry" e ON e."entry_id" = p."entry_id" JOIN "journal_line" l ON l."entry_id" = e."entry_id"
         WHERE l."account" = $1 AND l."asset" = $2
         ORDER BY e."seq", l."line_no"`,
        [q.account, q.asset, q.from, q.to, q.afterSequence.toString(), q.entries + 1],
      )) as LineRow[];
      const sequences = [...new Set(rows.map((r) => r.seq))];
      const more = sequences.length > q.entries;
      const kept = more ? rows.filter((r) => BigInt(r.seq) <= BigInt(sequences[q.entries - 1] as string)) : rows;
      const lastKept = kept.length > 0 ? (kept[kept.length - 1] as LineRow).seq : q.afterSequence.toString();
      const sums = (await m.query(
        `SELECT l."bucket",
                COALESCE(sum(l."amount") FILTER (WHERE e."booked_at" < $3), 0)::text AS before_from,
                COALESCE(sum(l."amount") FILTER (WHERE e."booked_at" < $4), 0)::text AS before_to,
                COALESCE(sum(l."amount") FILTER (WHERE e."booked_at" >= $3 AND e."booked_at" < $4 AND e."seq" <= $5), 0)::text AS period_before,
                COALESCE(sum(l."amount") FILTER (WHERE e."booked_at" >= $3 AND e."booked_at" < $4 AND e."seq" > $6), 0)::text AS period_after
         FROM "journal_line" l JOIN "journal_entry" e ON e."entry_id" = l."entry_id"
         WHERE l."account" = $1 AND l."asset" = $2
         GROUP BY l."bucket"`,
        [q.account, q.asset, q.from, q.to, q.afterSequence.toString(), lastKept],
      )) as { bucket: Bucket; before_from: string; before_to: string; period_before: string; period_after: string }[];
      const pick = (column: 'before_from' | 'before_to' | 'period_before' | 'period_after'): StatementBalance => ({
        available: BigInt(sums.find((s) => s.bucket === 'available')?.[column] ?? '0'),
        held: BigInt(sums.find((s) => s.bucket === 'held')?.[column] ?? '0'),
      });
      return {
        lines: kept.map((r) => ({
          sequence: BigInt(r.seq),
          lineNo: r.line_no,
          entryId: r.entry_id,
          kind: r.kind,
          causeEventId: r.cause_event_id,
          referenceId: r.reference_id,
          correlationId: r.correlation_id,
          bookedAt: r.booked_at,
          bucket: r.bucket,
          amount: BigInt(r.amount),
        })),
        more,
        sums: { beforeFrom: pick('before_from'), beforeTo: pick('before_to'), periodBefore: pick('period_before'), periodAfter: pick('period_after') },
      };
    });
  }
}
