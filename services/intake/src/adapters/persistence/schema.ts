// TypeORM EntitySchemas (persistence shapes, not the domain objects) and the migration
// that creates them. assertMigrationsMatchEntities keeps the two in step (see tests).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const textArray = { type: 'text', array: true } as const;

export const IntegratorEntity = new EntitySchema<Record<string, unknown>>({
  name: 'Integrator',
  tableName: 'integrator',
  columns: {
    client_id: { ...text, primary: true },
    status: text,
    scopes: textArray,
    allowed_assets: textArray,
    ip_allowlist: textArray,
    rate_per_second: { type: 'integer' },
    burst: { type: 'integer' },
    created_at: ts,
  },
});

export const IntegratorKeyEntity = new EntitySchema<Record<string, unknown>>({
  name: 'IntegratorKey',
  tableName: 'integrator_key',
  columns: {
    client_id: { ...text, primary: true },
    key_id: { ...text, primary: true },
    public_key: { type: 'bytea' },
    revoked: { type: 'boolean' },
    created_at: ts,
    expires_at: { ...ts, nullable: true },
  },
});

export const IntegratorCertificateEntity = new EntitySchema<Record<string, unknown>>({
  name: 'IntegratorCertificate',
  tableName: 'integrator_certificate',
  columns: {
    fingerprint: { ...text, primary: true },
    client_id: text,
    created_at: ts,
  },
  indices: [{ name: 'integrator_certificate_client_idx', columns: ['client_id'] }],
});

export const CustomerAccountEntity = new EntitySchema<Record<string, unknown>>({
  name: 'CustomerAccount',
  tableName: 'customer_account',
  columns: {
    client_id: { ...text, primary: true },
    account_id: { ...text, primary: true },
    created_at: ts,
  },
});

export const RequestNonceEntity = new EntitySchema<Record<string, unknown>>({
  name: 'RequestNonce',
  tableName: 'request_nonce',
  columns: {
    client_id: { ...text, primary: true },
    nonce: { ...text, primary: true },
    seen_at: ts,
  },
  indices: [{ name: 'request_nonce_seen_at_idx', columns: ['seen_at'] }],
});

export const WithdrawalEntity = new EntitySchema<Record<string, unknown>>({
  name: 'Withdrawal',
  tableName: 'withdrawal',
  columns: {
    id: { type: 'uuid', primary: true },
    client_id: text,
    customer_account: text,
    asset: text,
    chain: text,
    amount: { type: 'numeric', precision: 78, scale: 0 },
    destination_address: text,
    destination_tag: text,
    client_reference: text,
    idempotency_key: text,
    request_hash: { type: 'bytea' },
    state: text,
    reason_code: text,
    reason_detail: text,
    tx_hash: text,
    confirmations: { type: 'integer' },
    signature_key_id: text,
    signature_algorithm: text,
    signature: { type: 'bytea' },
    signed_payload: { type: 'bytea' },
    created_at: ts,
    updated_at: ts,
  },
  uniques: [{ name: 'withdrawal_idempotency_key', columns: ['client_id', 'idempotency_key'] }],
  indices: [{ name: 'withdrawal_client_created_idx', columns: ['client_id', 'created_at', 'id'] }],
});

export const WithdrawalTransitionEntity = new EntitySchema<Record<string, unknown>>({
  name: 'WithdrawalTransition',
  tableName: 'withdrawal_transition',
  columns: {
    id: { type: 'uuid', primary: true },
    withdrawal_id: { type: 'uuid' },
    from_state: { ...text, nullable: true },
    to_state: text,
    reason_code: text,
    correlation_id: text,
    causation_id: { ...text, nullable: true },
    at: ts,
  },
  indices: [{ name: 'withdrawal_transition_withdrawal_idx', columns: ['withdrawal_id', 'at'] }],
});

export const MaintenanceWindowEntity = new EntitySchema<Record<string, unknown>>({
  name: 'MaintenanceWindow',
  tableName: 'maintenance_window',
  columns: {
    id: { type: 'uuid', primary: true },
    chains: textArray,
    assets: textArray,
    starts_at: ts,
    ends_at: ts,
    withdrawals_suspended: { type: 'boolean' },
    deposits_delayed: { type: 'boolean' },
    description: text,
    announced_by: text,
    announced_at: ts,
    cancelled_at: { ...ts, nullable: true },
    cancelled_by: { ...text, nullable: true },
  },
  indices: [{ name: 'maintenance_window_ends_at_idx', columns: ['ends_at'] }],
});

/** Evidence of every operator action of the admin API (who, which signed request, from where). */
export const AdminActionEntity = new EntitySchema<Record<string, unknown>>({
  name: 'AdminAction',
  tableName: 'admin_action',
  columns: {
    id: { type: 'uuid', primary: true },
    action: text,
    target: text,
    operator_id: text,
    signature_key_id: text,
    signature: { type: 'bytea' },
    signed_payload: { type: 'bytea' },
    certificate_sha256: text,
    source_address: text,
    reason: text,
    correlation_id: text,
    at: ts,
  },
  indices: [{ name: 'admin_action_target_idx', columns: ['target', 'at'] }],
});

/** Pipeline events that arrived ahead of their withdrawal's state, retried after each of its transitions. */
export const PendingPipelineEventEntity = new EntitySchema<Record<string, unknown>>({
  name: 'PendingPipelineEvent',
  tableName: 'intake_pending_event',
  columns: {
    event_id: { ...text, primary: true },
    withdrawal_id: { type: 'uuid' },
    topic: text,
    payload: { type: 'jsonb' },
    arrival: { type: 'bigint' },
    parked_at: ts,
  },
  uniques: [{ name: 'intake_pending_event_arrival', columns: ['withdrawal_id', 'arrival'] }],
});

export const INTAKE_ENTITIES = [
  IntegratorEntity,
  IntegratorKeyEntity,
  IntegratorCertificateEntity,
  CustomerAccountEntity,
  RequestNonceEntity,
  WithdrawalEntity,
  WithdrawalTransitionEntity,
  MaintenanceWindowEntity,
  AdminActionEntity,
  PendingPipelineEventEntity,
];

export class CreateIntakeTables1795564800000 implements MigrationInterface {
  readonly name = 'CreateIntakeTables1795564800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "integrator" (
      "client_id" text NOT NULL, "status" text NOT NULL, "scopes" text[] NOT NULL, "allowed_assets" text[] NOT NULL,
      "ip_allowlist" text[] NOT NULL, "rate_per_second" integer NOT NULL, "burst" integer NOT NULL,
      "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_integrator" PRIMARY KEY ("client_id"))`);
    await q.query(`CREATE TABLE "integrator_key" (
      "client_id" text NOT NULL, "key_id" text NOT NULL, "public_key" bytea NOT NULL, "revoked" boolean NOT NULL,
      "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_integrator_key" PRIMARY KEY ("client_id", "key_id"))`);
    await q.query(`CREATE TABLE "integrator_certificate" (
      "fingerprint" text NOT NULL, "client_id" text NOT NULL, "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_integrator_certificate" PRIMARY KEY ("fingerprint"))`);
    await q.query(`CREATE INDEX "integrator_certificate_client_idx" ON "integrator_certificate" ("client_id")`);
    await q.query(`CREATE TABLE "customer_account" (
      "client_id" text NOT NULL, "account_id" text NOT NULL, "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_customer_account" PRIMARY KEY ("client_id", "account_id"))`);
    await q.query(`CREATE TABLE "request_nonce" (
      "client_id" text NOT NULL, "nonce" text NOT NULL, "seen_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_request_nonce" PRIMARY KEY ("client_id", "nonce"))`);
    await q.query(`CREATE INDEX "request_nonce_seen_at_idx" ON "request_nonce" ("seen_at")`);
    await q.query(`CREATE TABLE "withdrawal" (
      "id" uuid NOT NULL, "client_id" text NOT NULL, "customer_account" text NOT NULL, "asset" text NOT NULL,
      "chain" text NOT NULL, "amount" numeric(78,0) NOT NULL, "destination_address" text NOT NULL,
      "destination_tag" text NOT NULL, "client_reference" text NOT NULL, "idempotency_key" text NOT NULL,
      "request_hash" bytea NOT NULL, "state" text NOT NULL, "reason_code" text NOT NULL, "reason_detail" text NOT NULL,
      "tx_hash" text NOT NULL, "confirmations" integer NOT NULL, "signature_key_id" text NOT NULL,
      "signature_algorithm" text NOT NULL, "signature" bytea NOT NULL, "signed_payload" bytea NOT NULL,
      "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "withdrawal_idempotency_key" UNIQUE ("client_id", "idempotency_key"),
      CONSTRAINT "PK_withdrawal" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "withdrawal_client_created_idx" ON "withdrawal" ("client_id", "created_at", "id")`);
    await q.query(`CREATE TABLE "withdrawal_transition" (
      "id" uuid NOT NULL, "withdrawal_id" uuid NOT NULL, "from_state" text, "to_state" text NOT NULL,
      "reason_code" text NOT NULL, "correlation_id" text NOT NULL, "causation_id" text,
      "at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_withdrawal_transition" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "withdrawal_transition_withdrawal_idx" ON "withdrawal_transition" ("withdrawal_id", "at")`);
    await q.query(`CREATE TABLE "maintenance_window" (
      "id" uuid NOT NULL, "chains" text[] NOT NULL, "assets" text[] NOT NULL,
      "starts_at" timestamp with time zone NOT NULL, "ends_at" timestamp with time zone NOT NULL,
      "withdrawals_suspended" boolean NOT NULL, "deposits_delayed" boolean NOT NULL, "description" text NOT NULL,
      "announced_by" text NOT NULL, "announced_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_maintenance_window" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "maintenance_window_ends_at_idx" ON "maintenance_window" ("ends_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['maintenance_window', 'withdrawal_transition', 'withdrawal', 'request_nonce', 'customer_account', 'integrator_certificate', 'integrator_key', 'integrator']) {
      await q.query(`DROP TABLE "${t}"`);
    }
  }
}

/** Operator API: key rotation overlap, maintenance cancellation, admin action evidence. */
export class AddIntakeAdmin1795910400000 implements MigrationInterface {
  readonly name = 'AddIntakeAdmin1795910400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "integrator_key" ADD "expires_at" timestamp with time zone`);
    await q.query(`ALTER TABLE "maintenance_window" ADD "cancelled_at" timestamp with time zone`);
    await q.query(`ALTER TABLE "maintenance_window" ADD "cancelled_by" text`);
    await q.query(`CREATE TABLE "admin_action" (
      "id" uuid NOT NULL, "action" text NOT NULL, "target" text NOT NULL, "operator_id" text NOT NULL,
      "signature_key_id" text NOT NULL, "signature" bytea NOT NULL, "signed_payload" bytea NOT NULL,
      "certificate_sha256" text NOT NULL, "source_address" text NOT NULL, "reason" text NOT NULL,
      "correlation_id" text NOT NULL, "at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_admin_action" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "admin_action_target_idx" ON "admin_action" ("target", "at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "admin_action"`);
    await q.query(`ALTER TABLE "maintenance_window" DROP COLUMN "cancelled_by"`);
    await q.query(`ALTER TABLE "maintenance_window" DROP COLUMN "cancelled_at"`);
    await q.query(`ALTER TABLE "integrator_key" DROP COLUMN "expires_at"`);
  }
}

/** Out-of-order pipeline events: parked until the event they follow has been applied. */
export class AddIntakePendingEvent1796169600000 implements MigrationInterface {
  readonly name = 'AddIntakePendingEvent1796169600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "intake_pending_event" (
      "event_id" text NOT NULL, "withdrawal_id" uuid NOT NULL, "topic" text NOT NULL, "payload" jsonb NOT NULL,
      "arrival" bigint NOT NULL, "parked_at" timestamp with time zone NOT NULL,
      CONSTRAINT "intake_pending_event_arrival" UNIQUE ("withdrawal_id", "arrival"),
      CONSTRAINT "PK_intake_pending_event" PRIMARY KEY ("event_id"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "intake_pending_event"`);
  }
}
