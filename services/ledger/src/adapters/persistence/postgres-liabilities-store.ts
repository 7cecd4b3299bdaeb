// LiabilitiesStore on Postgres. A build reads the customer balances, the same accounts'
// totals recomputed from the journal lines and the highest visible journal sequence in one
// REPEATABLE READ snapshot, and inserts the snapshot and its leaves in that transaction.
import type { DataSource, EntityManager } from 'typeorm';
import type { LiabilitiesBookView, LiabilitiesStore, StoredLeaf, StoredSnapshot } from '../../application/liabilities.js';

interface SnapshotRow {
  snapshot_id: string;
  asset: string;
  scheme: string;
  root_hash: string;
  total: string;
  leaf_count: number;
  as_of_seq: string;
  as_of: Date;
  built_by: string;
}

const LEAF_BATCH = 5_000;

export class PostgresLiabilitiesStore implements LiabilitiesStore {
  constructor(private readonly dataSource: DataSource) {}

  buildSnapshot(asset: string, build: (view: LiabilitiesBookView) => { snapshot: StoredSnapshot; leaves: StoredLeaf[] }): Promise<StoredSnapshot> {
    return this.dataSource.transaction('REPEATABLE READ', async (m: EntityManager) => {
      const balances = (await m.query(
        `SELECT "account", "available"::text AS available, "held"::text AS held FROM "ledger_balance" WHERE "asset" = $1 AND "account" LIKE 'customer:%' ORDER BY "account"`,
        [asset],
      )) as { account: string; available: string; held: string }[];
      // Customer accounts are credit-normal: what is owed = -(sum of debit-positive lines).
      const totals = (await m.query(
        `SELECT "account", (-sum("amount"))::text AS total FROM "journal_line" WHERE "asset" = $1 AND "account" LIKE 'customer:%' GROUP BY "account"`,
        [asset],
      )) as { account: string; total: string }[];
      const position = (await m.query(`SELECT COALESCE(max("seq"), 0)::text AS seq FROM "journal_entry"`)) as { seq: string }[];
      const { snapshot, leaves } = build({
        balances: balances.map((b) => ({ account: b.account, available: BigInt(b.available), held: BigInt(b.held) })),
        journalTotals: new Map(totals.map((t) => [t.account, BigInt(t.total)])),
        asOfSequence: BigInt(position[0]?.seq ?? '0'),
      });
      await m.query(
        `INSERT INTO "ledger_liabilities_snapshot" ("snapshot_id", "asset", "scheme", "root_hash", "total", "leaf_count", "as_of_seq", "as_of", "built_by") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [snapshot.snapshotId, snapshot.asset, snapshot.scheme, snapshot.rootHash, snapshot.total.toString(), snapshot.leafCount, snapshot.asOfSequence.toString(), snapshot.asOf, snapshot.builtBy],
      );
      for (let i = 0; i < leaves.length; i += LEAF_BATCH) {
        const batch = leaves.slice(i, i + LEAF_BATCH);
        await m.query(
          `INSERT INTO "ledger_liabilities_leaf" ("snapshot_id", "leaf_index", "account", "salt", "balance")
           SELECT $1, t.leaf_index, t.account, t.salt, t.balance FROM unnest($2::int[], $3::text[], $4::text[], $5::numeric[]) AS t(leaf_index, account, salt, balance)`,
          [snapshot.snapshotId, batch.map((l) => l.leafIndex), batch.map((l) => l.account), batch.map((l) => l.salt), batch.map((l) => l.balance.toString())],
        );
      }
      return snapshot;
    });
  }

  async snapshot(snapshotId: string): Promise<StoredSnapshot | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT "snapshot_id", "asset", "scheme", "root_hash", "total"::text AS total, "leaf_count", "as_of_seq"::text AS as_of_seq, "as_of", "built_by" FROM "ledger_liabilities_snapshot" WHERE "snapshot_id" = $1`,
      [snapshotId],
    )) as SnapshotRow[];
    const r = rows[0];
    return r
      ? {
          snapshotId: r.snapshot_id,
          asset: r.asset,
          scheme: r.scheme,
          rootHash: r.root_hash,
          total: BigInt(r.total),
          leafCount: r.leaf_count,
          asOfSequence: BigInt(r.as_of_seq),
          asOf: r.as_of,
          builtBy: r.built_by,
        }
      : undefined;
  }

  async leaves(snapshotId: string): Promise<StoredLeaf[]> {
    const rows = (await this.dataSource.query(
      `SELECT "leaf_index", "account", "salt", "balance"::text AS balance FROM "ledger_liabilities_leaf" WHERE "snapshot_id" = $1 ORDER BY "leaf_index"`,
      [snapshotId],
    )) as { leaf_index: number; account: string; salt: string; balance: string }[];
    return rows.map((r) => ({ leafIndex: r.leaf_index, account: r.account, salt: r.salt, balance: BigInt(r.balance) }));
  }
}
