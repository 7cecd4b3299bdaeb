// Reconciliation runs (C-8.2.3-d): one row per run and asset, with its evidence. Append-only
// for the runtime role (INSERT, SELECT): evidence is never rewritten. The database refuses a
// run that claims BALANCED without a compared block or with a non-zero unexplained amount,
// and a FAILED run that carries a comparison.
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const text = { type: 'text' } as const;
const ts = { type: 'timestamp with time zone' } as const;
const amount = { type: 'numeric', precision: 78, scale: 0, nullable: true } as const;

/** After PerWalletCustodialAccounts1796256000000: a DRIFT may be a per-wallet drift with the asset total at 0. */
export const RUN_COMPARED_CHECK = `("outcome" = 'FAILED' AND "block_height" IS NULL AND "unexplained" IS NULL AND "failure_reason" <> '') OR ("outcome" = 'BALANCED' AND "block_height" IS NOT NULL AND "unexplained" = 0 AND COALESCE("mismatched_wallets", 0) = 0) OR ("outcome" = 'DRIFT' AND "block_height" IS NOT NULL AND ("unexplained" <> 0 OR "mismatched_wallets" > 0) AND "incident_id" <> '')`;

export const ReconciliationRunEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerReconciliationRun',
  tableName: 'ledger_reconciliation_run',
  columns: {
    run_id: { type: 'uuid', primary: true },
    seq: { type: 'bigint', generated: 'increment' },
    asset: text,
    chain: text,
    outcome: text,
    started_at: ts,
    finished_at: ts,
    block_height: { type: 'bigint', nullable: true },
    block_hash: { ...text, nullable: true },
    ledger_balance: amount,
    chain_balance: amount,
    in_flight: amount,
    fees: amount,
    pending_deposits: amount,
    unexplained: amount,
    evidence: { type: 'jsonb' },
    failure_reason: text,
    incident_id: text,
    // Wallets (and the unattributed remainder) with an unexplained amount; null when FAILED.
    mismatched_wallets: { type: 'integer', nullable: true },
    // Digest of the drift (same drift in the next runs → same incident); '' when not DRIFT.
    drift_key: { ...text, default: '' },
  },
  checks: [
    { name: 'ledger_reconciliation_run_outcome', expression: `"outcome" IN ('BALANCED', 'DRIFT', 'FAILED')` },
    {
      name: 'ledger_reconciliation_run_compared',
      expression: RUN_COMPARED_CHECK,
    },
  ],
  uniques: [{ name: 'ledger_reconciliation_run_seq', columns: ['seq'] }],
  indices: [{ name: 'ledger_reconciliation_run_asset_idx', columns: ['asset', 'seq'] }],
});

export const RECONCILIATION_ENTITIES = [ReconciliationRunEntity];

export class CreateReconciliationRuns1796169600000 implements MigrationInterface {
  readonly name = 'CreateReconciliationRuns1796169600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "ledger_reconciliation_run" (
      "run_id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "asset" text NOT NULL, "chain" text NOT NULL, "outcome" text NOT NULL,
      "started_at" timestamp with time zone NOT NULL, "finished_at" timestamp with time zone NOT NULL,
      "block_height" bigint, "block_hash" text,
      "ledger_balance" numeric(78,0), "chain_balance" numeric(78,0), "in_flight" numeric(78,0), "fees" numeric(78,0),
      "pending_deposits" numeric(78,0), "unexplained" numeric(78,0),
      "evidence" jsonb NOT NULL, "failure_reason" text NOT NULL, "incident_id" text NOT NULL,
      CONSTRAINT "ledger_reconciliation_run_seq" UNIQUE ("seq"),
      CONSTRAINT "ledger_reconciliation_run_outcome" CHECK ("outcome" IN ('BALANCED', 'DRIFT', 'FAILED')),
      CONSTRAINT "ledger_reconciliation_run_compared" CHECK (("outcome" = 'FAILED' AND "block_height" IS NULL AND "unexplained" IS NULL AND "failure_reason" <> '') OR ("outcome" = 'BALANCED' AND "block_height" IS NOT NULL AND "unexplained" = 0) OR ("outcome" = 'DRIFT' AND "block_height" IS NOT NULL AND "unexplained" <> 0 AND "incident_id" <> '')),
      CONSTRAINT "PK_ledger_reconciliation_run" PRIMARY KEY ("run_id"))`);
    await q.query(`CREATE INDEX "ledger_reconciliation_run_asset_idx" ON "ledger_reconciliation_run" ("asset", "seq")`);
    // Evidence is append-only for the runtime role.
    await q.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN
          SELECT DISTINCT a.grantee::regrole::text AS grantee
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
          WHERE c.relnamespace = current_schema()::regnamespace AND c.relname = 'ledger_reconciliation_run'
            AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
          EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON ledger_reconciliation_run FROM %s', r.grantee);
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "ledger_reconciliation_run"`);
  }
}
