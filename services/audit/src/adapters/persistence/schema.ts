// TypeORM EntitySchemas (persistence shapes) and the migration that creates them.
// assertMigrationsMatchEntities keeps the two in step (test/integration).
//
// Append-only is enforced three ways (docs/audit.md):
//   1. privileges: the runtime role keeps only INSERT and SELECT on audit_record and
//      audit_checkpoint (UPDATE, DELETE, TRUNCATE revoked from every role but the owner);
//      on audit_chain (the one head row) it has SELECT and UPDATE only;
//   2. triggers refuse UPDATE, DELETE and TRUNCATE on the two logs for every role, the
//      owner included (only a superuser who disables triggers gets past them);
//   3. the hash chain and signed checkpoints make whatever still gets through detectable.
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const bytea = { type: 'bytea' } as const;

export const CHAIN_ID = 'main';

export const AuditRecordEntity = new EntitySchema<Record<string, unknown>>({
  name: 'AuditRecord',
  tableName: 'audit_record',
  columns: {
    sequence: { type: 'bigint', primary: true },
    prev_hash: bytea,
    record_hash: bytea,
    occurred_at: ts,
    recorded_at: ts,
    kind: text,
    actor: text,
    action: text,
    event_id: text,
    correlation_id: text,
    causation_id: text,
    producer: text,
    payload_digest: bytea,
    payload: bytea,
  },
  checks: [
    { name: 'audit_record_sequence_positive', expression: `"sequence" >= 1` },
    { name: 'audit_record_hash_lengths', expression: `octet_length("prev_hash") = 32 AND octet_length("record_hash") = 32 AND octet_length("payload_digest") = 32` },
    { name: 'audit_record_kind', expression: `"kind" IN ('event', 'operator')` },
  ],
  uniques: [{ name: 'audit_record_record_hash', columns: ['record_hash'] }, { name: 'audit_record_prev_hash', columns: ['prev_hash'] }],
  indices: [
    { name: 'audit_record_correlation_idx', columns: ['correlation_id', 'sequence'] },
    { name: 'audit_record_actor_idx', columns: ['actor', 'sequence'] },
    { name: 'audit_record_occurred_idx', columns: ['occurred_at', 'sequence'] },
    { name: 'audit_record_event_idx', columns: ['event_id'] },
  ],
});

export const AuditChainEntity = new EntitySchema<Record<string, unknown>>({
  name: 'AuditChain',
  tableName: 'audit_chain',
  columns: {
    chain_id: { ...text, primary: true },
    last_sequence: { type: 'bigint' },
    last_hash: bytea,
  },
});

export const AuditCheckpointEntity = new EntitySchema<Record<string, unknown>>({
  name: 'AuditCheckpoint',
  tableName: 'audit_checkpoint',
  columns: {
    sequence: { type: 'bigint', primary: true },
    record_hash: bytea,
    created_at: ts,
    key_id: text,
    signature: bytea,
  },
});

export const AUDIT_ENTITIES = [AuditRecordEntity, AuditChainEntity, AuditCheckpointEntity];

const APPEND_ONLY = ['audit_record', 'audit_checkpoint'] as const;

export class CreateAuditTables1795651200000 implements MigrationInterface {
  readonly name = 'CreateAuditTables1795651200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "audit_record" (
      "sequence" bigint NOT NULL, "prev_hash" bytea NOT NULL, "record_hash" bytea NOT NULL,
      "occurred_at" timestamp with time zone NOT NULL, "recorded_at" timestamp with time zone NOT NULL,
      "kind" text NOT NULL, "actor" text NOT NULL, "action" text NOT NULL, "event_id" text NOT NULL,
      "correlation_id" text NOT NULL, "causation_id" text NOT NULL, "producer" text NOT NULL,
      "payload_digest" bytea NOT NULL, "payload" bytea NOT NULL,
      CONSTRAINT "audit_record_record_hash" UNIQUE ("record_hash"),
      CONSTRAINT "audit_record_prev_hash" UNIQUE ("prev_hash"),
      CONSTRAINT "audit_record_sequence_positive" CHECK ("sequence" >= 1),
      CONSTRAINT "audit_record_hash_lengths" CHECK (octet_length("prev_hash") = 32 AND octet_length("record_hash") = 32 AND octet_length("payload_digest") = 32),
      CONSTRAINT "audit_record_kind" CHECK ("kind" IN ('event', 'operator')),
      CONSTRAINT "PK_audit_record" PRIMARY KEY ("sequence"))`);
    await q.query(`CREATE INDEX "audit_record_correlation_idx" ON "audit_record" ("correlation_id", "sequence")`);
    await q.query(`CREATE INDEX "audit_record_actor_idx" ON "audit_record" ("actor", "sequence")`);
    await q.query(`CREATE INDEX "audit_record_occurred_idx" ON "audit_record" ("occurred_at", "sequence")`);
    await q.query(`CREATE INDEX "audit_record_event_idx" ON "audit_record" ("event_id")`);
    await q.query(`CREATE TABLE "audit_chain" (
      "chain_id" text NOT NULL, "last_sequence" bigint NOT NULL, "last_hash" bytea NOT NULL,
      CONSTRAINT "PK_audit_chain" PRIMARY KEY ("chain_id"))`);
    await q.query(`INSERT INTO "audit_chain" ("chain_id", "last_sequence", "last_hash") VALUES ($1, 0, decode(repeat('00', 32), 'hex'))`, [CHAIN_ID]);
    await q.query(`CREATE TABLE "audit_checkpoint" (
      "sequence" bigint NOT NULL, "record_hash" bytea NOT NULL, "created_at" timestamp with time zone NOT NULL,
      "key_id" text NOT NULL, "signature" bytea NOT NULL,
      CONSTRAINT "PK_audit_checkpoint" PRIMARY KEY ("sequence"))`);

    // Triggers: no UPDATE / DELETE / TRUNCATE on the logs, whoever asks.
    await q.query(`CREATE FUNCTION "audit_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'audit log is append-only: % on % refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
      END $$`);
    for (const t of APPEND_ONLY) {
      await q.query(`CREATE TRIGGER "${t}_append_only" BEFORE UPDATE OR DELETE ON "${t}" FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"()`);
      await q.query(`CREATE TRIGGER "${t}_no_truncate" BEFORE TRUNCATE ON "${t}" FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"()`);
    }

    // Privileges: the provisioning's default privileges granted the runtime role
    // SELECT/INSERT/UPDATE/DELETE on new tables. Take back what an append-only log must not have,
    // from every grantee other than the owner (the runtime role's name is not known here).
    await q.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN
          SELECT DISTINCT c.relname AS tbl, a.grantee::regrole::text AS grantee
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
          WHERE c.relnamespace = current_schema()::regnamespace
            AND c.relname IN ('audit_record', 'audit_checkpoint', 'audit_chain')
            AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
          IF r.tbl = 'audit_chain' THEN
            EXECUTE format('REVOKE INSERT, DELETE, TRUNCATE ON %I FROM %s', r.tbl, r.grantee);
          ELSE
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', r.tbl, r.grantee);
          END IF;
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    // An audit log is not dropped by a migration rollback.
    await Promise.resolve(q);
    throw new Error('CreateAuditTables1795651200000 cannot be reverted: the audit log is append-only');
  }
}
