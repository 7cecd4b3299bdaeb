// TypeORM EntitySchemas (persistence shapes) and the migration that creates them;
// assertMigrationsMatchEntities keeps the two in step (test/integration/support.ts).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const amount = { type: 'numeric', precision: 78, scale: 0 } as const;

export const WithdrawalRequestEntity = new EntitySchema<Record<string, unknown>>({
  name: 'WithdrawalRequest',
  tableName: 'withdrawal_request',
  columns: {
    withdrawal_id: { ...text, primary: true },
    client_id: text,
    customer_account: text,
    asset: text,
    chain: text,
    amount,
    destination_address: text,
    destination_tag: text,
    requested_at: ts,
  },
});

export const RiskAssessmentEntity = new EntitySchema<Record<string, unknown>>({
  name: 'RiskAssessment',
  tableName: 'risk_assessment',
  columns: {
    withdrawal_id: { ...text, primary: true },
    assessment_id: text,
    verdict: text,
    score: { type: 'integer' },
    sanctions_hit: { type: 'boolean' },
    assessed_at: ts,
  },
});

export const DecisionEntity = new EntitySchema<Record<string, unknown>>({
  name: 'Decision',
  tableName: 'decision',
  columns: {
    id: { type: 'uuid', primary: true },
    withdrawal_id: text,
    assessment_id: text,
    status: text,
    requested_by: text,
    account_id: text,
    asset: text,
    chain: text,
    amount,
    source_wallet: text,
    destination_address: text,
    destination_tag: text,
    input: { type: 'jsonb' },
    output: { type: 'jsonb' },
    bundle_digest: text,
    quorum: { type: 'integer' },
    roles: { type: 'text', array: true },
    expires_at: { ...ts, nullable: true },
    decision_token: { ...text, nullable: true },
    decided_at: ts,
    updated_at: ts,
  },
  uniques: [{ name: 'decision_withdrawal_assessment', columns: ['withdrawal_id', 'assessment_id'] }],
  indices: [
    { name: 'decision_status_idx', columns: ['status', 'decided_at'] },
    { name: 'decision_velocity_idx', columns: ['account_id', 'asset', 'decided_at'] },
  ],
});

export const DecisionEvaluationEntity = new EntitySchema<Record<string, unknown>>({
  name: 'DecisionEvaluation',
  tableName: 'decision_evaluation',
  columns: {
    id: { type: 'uuid', primary: true },
    decision_id: { type: 'uuid' },
    trigger: text,
    input: { type: 'jsonb' },
    output: { type: 'jsonb' },
    bundle_digest: text,
    evaluated_at: ts,
  },
  indices: [{ name: 'decision_evaluation_at_idx', columns: ['evaluated_at'] }],
});

export const ApprovalVoteEntity = new EntitySchema<Record<string, unknown>>({
  name: 'ApprovalVote',
  tableName: 'approval_vote',
  columns: {
    decision_id: { type: 'uuid', primary: true },
    operator_id: { ...text, primary: true },
    role: text,
    verdict: text,
    key_id: text,
    signature: { type: 'bytea' },
    voted_at: ts,
    // AddApprovalDevices1795910400000 (approval-device-schema.ts): the asserting authenticator.
    device_id: { ...text, nullable: true },
    sign_count: { type: 'bigint', nullable: true },
  },
});

export const PolicyBundleEntity = new EntitySchema<Record<string, unknown>>({
  name: 'PolicyBundle',
  tableName: 'policy_bundle',
  columns: {
    digest: { ...text, primary: true },
    archive: { type: 'bytea' },
    state: text,
    activated_by: { type: 'text', array: true },
    signatures: { type: 'jsonb' },
    activated_at: ts,
  },
});

/** Bundle activation requests staged by the policy-bundle CLI; the service verifies and closes them. */
export const BundleActivationRequestEntity = new EntitySchema<Record<string, unknown>>({
  name: 'BundleActivationRequest',
  tableName: 'bundle_activation_request',
  columns: {
    id: { type: 'uuid', primary: true },
    archive: { type: 'bytea' },
    signatures: { type: 'jsonb' },
    state: text,
    digest: text,
    outcome: text,
    requested_by: text,
    requested_at: ts,
    closed_at: { ...ts, nullable: true },
  },
  indices: [{ name: 'bundle_activation_request_state_idx', columns: ['state', 'requested_at'] }],
});

/** Announced maintenance windows (custody.maintenance.scheduled.v1): the latest state per maintenance id. */
export const MaintenanceWindowEntity = new EntitySchema<Record<string, unknown>>({
  name: 'MaintenanceWindow',
  tableName: 'maintenance_window',
  columns: {
    maintenance_id: { ...text, primary: true },
    chains: { type: 'text', array: true },
    assets: { type: 'text', array: true },
    starts_at: ts,
    ends_at: ts,
    withdrawals_suspended: { type: 'boolean' },
    deposits_delayed: { type: 'boolean' },
    cancelled: { type: 'boolean' },
    cancelled_at: { ...ts, nullable: true },
    cancelled_by: text,
    announced_by: text,
    event_id: text,
    occurred_at: ts,
    updated_at: ts,
  },
  indices: [{ name: 'maintenance_window_ends_at_idx', columns: ['ends_at'] }],
});

export const POLICY_ENTITIES = [
  BundleActivationRequestEntity,
  WithdrawalRequestEntity,
  RiskAssessmentEntity,
  DecisionEntity,
  DecisionEvaluationEntity,
  ApprovalVoteEntity,
  PolicyBundleEntity,
  MaintenanceWindowEntity,
];

export class CreatePolicyTables1795651200000 implements MigrationInterface {
  readonly name = 'CreatePolicyTables1795651200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "withdrawal_request" (
      "withdrawal_id" text NOT NULL, "client_id" text NOT NULL, "customer_account" text NOT NULL, "asset" text NOT NULL,
      "chain" text NOT NULL, "amount" numeric(78,0) NOT NULL, "destination_address" text NOT NULL, "destination_tag" text NOT NULL,
      "requested_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_withdrawal_request" PRIMARY KEY ("withdrawal_id"))`);
    await q.query(`CREATE TABLE "risk_assessment" (
      "withdrawal_id" text NOT NULL, "assessment_id" text NOT NULL, "verdict" text NOT NULL, "score" integer NOT NULL,
      "sanctions_hit" boolean NOT NULL, "assessed_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_risk_assessment" PRIMARY KEY ("withdrawal_id"))`);
    await q.query(`CREATE TABLE "decision" (
      "id" uuid NOT NULL, "withdrawal_id" text NOT NULL, "assessment_id" text NOT NULL, "status" text NOT NULL,
      "requested_by" text NOT NULL, "account_id" text NOT NULL, "asset" text NOT NULL, "chain" text NOT NULL,
      "amount" numeric(78,0) NOT NULL, "source_wallet" text NOT NULL, "destination_address" text NOT NULL,
      "destination_tag" text NOT NULL, "input" jsonb NOT NULL, "output" jsonb NOT NULL, "bundle_digest" text NOT NULL,
      "quorum" integer NOT NULL, "roles" text[] NOT NULL, "expires_at" timestamp with time zone, "decision_token" text,
      "decided_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "decision_withdrawal_assessment" UNIQUE ("withdrawal_id", "assessment_id"),
      CONSTRAINT "PK_decision" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "decision_status_idx" ON "decision" ("status", "decided_at")`);
    await q.query(`CREATE INDEX "decision_velocity_idx" ON "decision" ("account_id", "asset", "decided_at")`);
    await q.query(`CREATE TABLE "decision_evaluation" (
      "id" uuid NOT NULL, "decision_id" uuid NOT NULL, "trigger" text NOT NULL, "input" jsonb NOT NULL, "output" jsonb NOT NULL,
      "bundle_digest" text NOT NULL, "evaluated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_decision_evaluation" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "decision_evaluation_at_idx" ON "decision_evaluation" ("evaluated_at")`);
    await q.query(`CREATE TABLE "approval_vote" (
      "decision_id" uuid NOT NULL, "operator_id" text NOT NULL, "role" text NOT NULL, "verdict" text NOT NULL,
      "key_id" text NOT NULL, "signature" bytea NOT NULL, "voted_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_approval_vote" PRIMARY KEY ("decision_id", "operator_id"))`);
    await q.query(`CREATE TABLE "policy_bundle" (
      "digest" text NOT NULL, "archive" bytea NOT NULL, "state" text NOT NULL, "activated_by" text[] NOT NULL,
      "signatures" jsonb NOT NULL, "activated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_policy_bundle" PRIMARY KEY ("digest"))`);
    await q.query(`CREATE TABLE "bundle_activation_request" (
      "id" uuid NOT NULL, "archive" bytea NOT NULL, "signatures" jsonb NOT NULL, "state" text NOT NULL, "digest" text NOT NULL,
      "outcome" text NOT NULL, "requested_by" text NOT NULL, "requested_at" timestamp with time zone NOT NULL,
      "closed_at" timestamp with time zone,
      CONSTRAINT "PK_bundle_activation_request" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "bundle_activation_request_state_idx" ON "bundle_activation_request" ("state", "requested_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['bundle_activation_request', 'policy_bundle', 'approval_vote', 'decision_evaluation', 'decision', 'risk_assessment', 'withdrawal_request']) await q.query(`DROP TABLE "${t}"`);
  }
}

/** The announced maintenance windows table (docs/policies.md "Announced maintenance windows"). */
export class CreateMaintenanceWindows1795737600000 implements MigrationInterface {
  readonly name = 'CreateMaintenanceWindows1795737600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "maintenance_window" (
      "maintenance_id" text NOT NULL, "chains" text[] NOT NULL, "assets" text[] NOT NULL,
      "starts_at" timestamp with time zone NOT NULL, "ends_at" timestamp with time zone NOT NULL,
      "withdrawals_suspended" boolean NOT NULL, "deposits_delayed" boolean NOT NULL, "cancelled" boolean NOT NULL,
      "cancelled_at" timestamp with time zone, "cancelled_by" text NOT NULL, "announced_by" text NOT NULL,
      "event_id" text NOT NULL, "occurred_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_maintenance_window" PRIMARY KEY ("maintenance_id"))`);
    await q.query(`CREATE INDEX "maintenance_window_ends_at_idx" ON "maintenance_window" ("ends_at")`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "maintenance_window"`);
  }
}
