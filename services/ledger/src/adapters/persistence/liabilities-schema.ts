// Proof-of-liabilities snapshots (docs/ledger.md): one row per built snapshot (its root is
// what gets published) and one per leaf (the salt a customer needs to verify). Append-only
// for the runtime role: a published root must never be rewritten.
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const text = { type: 'text' } as const;
const amount = { type: 'numeric', precision: 78, scale: 0 } as const;

export const LiabilitiesSnapshotEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LiabilitiesSnapshot',
  tableName: 'ledger_liabilities_snapshot',
  columns: {
    snapshot_id: { type: 'uuid', primary: true },
    asset: text,
    scheme: text,
    root_hash: text,
    total: amount,
    leaf_count: { type: 'integer' },
    as_of_seq: { type: 'bigint' },
    as_of: { type: 'timestamp with time zone' },
    built_by: text,
  },
  checks: [
    { name: 'ledger_liabilities_snapshot_root', expression: `"root_hash" ~ '^[0-9a-f]{64}$'` },
    { name: 'ledger_liabilities_snapshot_total', expression: `"total" >= 0` },
    { name: 'ledger_liabilities_snapshot_leaves', expression: `"leaf_count" > 0` },
  ],
  indices: [{ name: 'ledger_liabilities_snapshot_asset_idx', columns: ['asset', 'as_of'] }],
});

export const LiabilitiesLeafEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LiabilitiesLeaf',
  tableName: 'ledger_liabilities_leaf',
  columns: {
    snapshot_id: { type: 'uuid', primary: true },
    leaf_index: { type: 'integer', primary: true },
    account: text,
    salt: text,
    balance: amount,
  },
  checks: [
    { name: 'ledger_liabilities_leaf_salt', expression: `"salt" ~ '^[0-9a-f]{64}$'` },
    { name: 'ledger_liabilities_leaf_balance', expression: `"balance" >= 0` },
  ],
  uniques: [{ name: 'ledger_liabilities_leaf_account', columns: ['snapshot_id', 'account'] }],
});

export const LIABILITIES_ENTITIES = [LiabilitiesSnapshotEntity, LiabilitiesLeafEntity];

export class CreateLiabilitiesSnapshots1795910400000 implements MigrationInterface {
  readonly name = 'CreateLiabilitiesSnapshots1795910400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "ledger_liabilities_snapshot" (
      "snapshot_id" uuid NOT NULL, "asset" text NOT NULL, "scheme" text NOT NULL, "root_hash" text NOT NULL,
      "total" numeric(78,0) NOT NULL, "leaf_count" integer NOT NULL, "as_of_seq" bigint NOT NULL,
      "as_of" timestamp with time zone NOT NULL, "built_by" text NOT NULL,
      CONSTRAINT "ledger_liabilities_snapshot_root" CHECK ("root_hash" ~ '^[0-9a-f]{64}$'),
      CONSTRAINT "ledger_liabilities_snapshot_total" CHECK ("total" >= 0),
      CONSTRAINT "ledger_liabilities_snapshot_leaves" CHECK ("leaf_count" > 0),
      CONSTRAINT "PK_ledger_liabilities_snapshot" PRIMARY KEY ("snapshot_id"))`);
    await q.query(`CREATE INDEX "ledger_liabilities_snapshot_asset_idx" ON "ledger_liabilities_snapshot" ("asset", "as_of")`);
    await q.query(`CREATE TABLE "ledger_liabilities_leaf" (
      "snapshot_id" uuid NOT NULL, "leaf_index" integer NOT NULL, "account" text NOT NULL, "salt" text NOT NULL,
      "balance" numeric(78,0) NOT NULL,
      CONSTRAINT "ledger_liabilities_leaf_salt" CHECK ("salt" ~ '^[0-9a-f]{64}$'),
      CONSTRAINT "ledger_liabilities_leaf_balance" CHECK ("balance" >= 0),
      CONSTRAINT "ledger_liabilities_leaf_account" UNIQUE ("snapshot_id", "account"),
      CONSTRAINT "PK_ledger_liabilities_leaf" PRIMARY KEY ("snapshot_id", "leaf_index"))`);
    // Append-only for the runtime role (as the journal).
    await q.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN
          SELECT DISTINCT c.relname AS tbl, a.grantee::regrole::text AS grantee
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
          WHERE c.relnamespace = current_schema()::regnamespace
            AND c.relname IN ('ledger_liabilities_snapshot', 'ledger_liabilities_leaf')
            AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', r.tbl, r.grantee);
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await Promise.resolve(q);
    throw new Error('CreateLiabilitiesSnapshots1795910400000 cannot be reverted: published snapshots are append-only');
  }
}
