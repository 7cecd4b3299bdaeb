// Migrations of the risk schema (run as risk_owner; no schema names: the search path decides).
// Generated from entities.ts and kept identical to it (assertMigrationsMatchEntities test).
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { CreateEventBusTables1795478400000 } from '@custody/event-bus';

export class CreateRiskTables1795564800000 implements MigrationInterface {
  readonly name = 'CreateRiskTables1795564800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "risk_customer" ("customer_account" text NOT NULL, "kyc_status" text NOT NULL, "jurisdiction" text NOT NULL, "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL, "updated_by" text NOT NULL, "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_d0e6d420cc1eca16ad89f286540" PRIMARY KEY ("customer_account"))`);
    await q.query(`CREATE TABLE "risk_lock_row" ("kind" text NOT NULL, "key" text NOT NULL, "touched_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_c2c28cb741653d6dc0dab22c659" PRIMARY KEY ("kind", "key"))`);
    await q.query(`CREATE TABLE "risk_movement" ("id" uuid NOT NULL, "subject_id" text NOT NULL, "customer_account" text NOT NULL, "counterparty_key" text NOT NULL, "asset" text NOT NULL, "amount" numeric(78,0) NOT NULL, "occurred_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_8085c16bb23ccb9a131990fce2e" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "risk_movement_customer_idx" ON "risk_movement" ("customer_account", "occurred_at") `);
    await q.query(`CREATE INDEX "risk_movement_counterparty_idx" ON "risk_movement" ("counterparty_key", "occurred_at") `);
    await q.query(`CREATE INDEX "risk_movement_pair_idx" ON "risk_movement" ("customer_account", "counterparty_key") `);
    await q.query(`CREATE TABLE "risk_screened_subject" ("subject_kind" text NOT NULL, "subject_id" text NOT NULL, "screened_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_5235f0b9f761125e2cab5b2979d" PRIMARY KEY ("subject_kind", "subject_id"))`);
    await q.query(`CREATE TABLE "risk_assessment" ("id" uuid NOT NULL, "subject_kind" text NOT NULL, "subject_id" text NOT NULL, "customer_account" text NOT NULL, "verdict" text NOT NULL, "score" integer NOT NULL, "reasons" jsonb NOT NULL, "list_version" text NOT NULL, "lists_updated_at" TIMESTAMP WITH TIME ZONE, "travel_rule_required" boolean NOT NULL, "case_id" uuid, "resolved_by" text, "supersedes_id" uuid, "assessed_at" TIMESTAMP WITH TIME ZONE NOT NULL, CONSTRAINT "PK_864a35a16fcb683df546ac6134e" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "risk_assessment_subject_idx" ON "risk_assessment" ("subject_kind", "subject_id") `);
    await q.query(`CREATE TABLE "risk_case" ("id" uuid NOT NULL, "assessment_id" uuid NOT NULL, "subject_kind" text NOT NULL, "subject_id" text NOT NULL, "customer_account" text NOT NULL, "score" integer NOT NULL, "reasons" jsonb NOT NULL, "status" text NOT NULL, "opened_at" TIMESTAMP WITH TIME ZONE NOT NULL, "resolution" text, "note" text, "resolved_by" text, "resolved_at" TIMESTAMP WITH TIME ZONE, "correlation_id" text NOT NULL, CONSTRAINT "PK_57082c8c3ae2697f081a48fdc42" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "risk_case_queue_idx" ON "risk_case" ("status", "opened_at", "id") `);
    await q.query(`CREATE TABLE "risk_list_version" ("version" text NOT NULL, "source" text NOT NULL, "format" text NOT NULL, "published_at" TIMESTAMP WITH TIME ZONE, "imported_at" TIMESTAMP WITH TIME ZONE NOT NULL, "imported_by" text NOT NULL, "entry_count" integer NOT NULL, "added" integer NOT NULL, "removed" integer NOT NULL, "previous_version" text, "checked_at" TIMESTAMP WITH TIME ZONE NOT NULL, "is_current" boolean NOT NULL, CONSTRAINT "PK_cd8583466c4e3460859ae3e34c9" PRIMARY KEY ("version"))`);
    await q.query(`CREATE INDEX "risk_list_version_current_idx" ON "risk_list_version" ("source", "is_current") `);
    await q.query(`CREATE TABLE "risk_list_entry" ("version" text NOT NULL, "address_key" text NOT NULL, "currency" text NOT NULL, "address" text NOT NULL, "party_ref" text NOT NULL, "party_name" text NOT NULL, CONSTRAINT "PK_1dc514db932efe1e02f630b09df" PRIMARY KEY ("version", "address_key"))`);
    await q.query(`CREATE TABLE "risk_internal_entry" ("id" uuid NOT NULL, "list" text NOT NULL, "address_key" text NOT NULL, "reason" text NOT NULL, "expires_at" TIMESTAMP WITH TIME ZONE, "created_by" text NOT NULL, "created_at" TIMESTAMP WITH TIME ZONE NOT NULL, "removed_at" TIMESTAMP WITH TIME ZONE, "removed_by" text, CONSTRAINT "PK_cb33ef2301be344cad333cbf592" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "risk_internal_entry_key_idx" ON "risk_internal_entry" ("address_key") `);
    await q.query(`CREATE TABLE "risk_audit_log" ("id" uuid NOT NULL, "at" TIMESTAMP WITH TIME ZONE NOT NULL, "actor" text NOT NULL, "action" text NOT NULL, "subject" text NOT NULL, "detail" jsonb NOT NULL, CONSTRAINT "PK_153fd3bcba5ef648b5623d46012" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "risk_audit_log_subject_idx" ON "risk_audit_log" ("subject", "at")`);
    // The audit log is append-only for the runtime role.
    await q.query(`DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'risk_app') THEN REVOKE UPDATE, DELETE, TRUNCATE ON "risk_audit_log" FROM risk_app; END IF; END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "risk_audit_log"`);
    await q.query(`DROP TABLE "risk_internal_entry"`);
    await q.query(`DROP TABLE "risk_list_entry"`);
    await q.query(`DROP TABLE "risk_list_version"`);
    await q.query(`DROP TABLE "risk_case"`);
    await q.query(`DROP TABLE "risk_assessment"`);
    await q.query(`DROP TABLE "risk_screened_subject"`);
    await q.query(`DROP TABLE "risk_movement"`);
    await q.query(`DROP TABLE "risk_lock_row"`);
    await q.query(`DROP TABLE "risk_customer"`);
  }
}

/** Customer profiles are versioned (optimistic concurrency of CustomerProfileService upserts). */
export class AddCustomerProfileVersion1795651200000 implements MigrationInterface {
  readonly name = 'AddCustomerProfileVersion1795651200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "risk_customer" ADD "version" integer NOT NULL DEFAULT 1`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "risk_customer" DROP COLUMN "version"`);
  }
}

/**
 * One unremoved internal-list entry per (list, address key). Existing duplicates are resolved
 * first: an expired entry is retired as of its expiry; of several unremoved entries of the same
 * key the oldest stays and the others are retired (removed_by 'system:duplicate').
 */
export class AddInternalEntryActiveKey1795737600000 implements MigrationInterface {
  readonly name = 'AddInternalEntryActiveKey1795737600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`UPDATE "risk_internal_entry" SET "removed_at" = "expires_at", "removed_by" = 'system:expired' WHERE "removed_at" IS NULL AND "expires_at" IS NOT NULL AND "expires_at" <= now()`);
    await q.query(
      `UPDATE "risk_internal_entry" e SET "removed_at" = now(), "removed_by" = 'system:duplicate'
        FROM (SELECT "id", row_number() OVER (PARTITION BY "list", "address_key" ORDER BY "created_at", "id") AS n FROM "risk_internal_entry" WHERE "removed_at" IS NULL) d
        WHERE e."id" = d."id" AND d.n > 1`,
    );
    await q.query(`CREATE UNIQUE INDEX "risk_internal_entry_active_key" ON "risk_internal_entry" ("list", "address_key") WHERE "removed_at" IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "risk_internal_entry_active_key"`);
  }
}

export const RISK_MIGRATIONS = [CreateEventBusTables1795478400000, CreateRiskTables1795564800000, AddCustomerProfileVersion1795651200000, AddInternalEntryActiveKey1795737600000];
