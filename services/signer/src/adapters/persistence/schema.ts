// TypeORM EntitySchemas (persistence shapes) and the migration that creates them;
// assertMigrationsMatchEntities keeps the two in step (integration support).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';
import { DEPOSIT_ADDRESS_ENTITIES } from './deposit-address-schema.js';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;

/** The key inventory (C-5.4.1-a): every key the signer may use, with its lifecycle state. */
export const SignerKeyEntity = new EntitySchema<Record<string, unknown>>({
  name: 'SignerKey',
  tableName: 'signer_key',
  columns: {
    key_id: { ...text, primary: true },
    wallet_id: text,
    chain: text,
    algorithm: text,
    purpose: text,
    tier: text,
    custody: text,
    custody_ref: text,
    public_key: { type: 'bytea' },
    address: text,
    state: text,
    active_until: { ...ts, nullable: true },
    signatures_left: { type: 'integer', nullable: true },
    created_at: ts,
    updated_at: ts,
  },
  uniques: [{ name: 'signer_key_wallet', columns: ['wallet_id'] }],
});

/** Every lifecycle transition, with who and under which quorum request. */
export const KeyTransitionEntity = new EntitySchema<Record<string, unknown>>({
  name: 'KeyTransition',
  tableName: 'key_transition',
  columns: {
    id: { type: 'uuid', primary: true },
    key_id: text,
    transition: text,
    from_state: { ...text, nullable: true },
    to_state: text,
    actor: text,
    reason: text,
    request_id: { ...text, nullable: true },
    quorum_operators: { type: 'text', array: true },
    at: ts,
  },
  uniques: [{ name: 'key_transition_request', columns: ['request_id'] }],
  indices: [{ name: 'key_transition_key_idx', columns: ['key_id', 'at'] }],
});

/**
 * The anti-double-sign store: one row per decision id, inserted and COMMITTED before any
 * signature for it is made; the primary key is the single-use guarantee.
 */
export const SignedDecisionEntity = new EntitySchema<Record<string, unknown>>({
  name: 'SignedDecision',
  tableName: 'signed_decision',
  columns: {
    decision_id: { ...text, primary: true },
    withdrawal_id: text,
    event_id: text,
    key_id: text,
    status: text,
    tx_hash: text,
    reason_code: text,
    /** The unsigned payload signed last (EVM), for the fee-bump rule; NULL before signing. */
    signed_payload: { type: 'bytea', nullable: true },
    /** Fee bumps signed for this decision. */
    fee_bumps: { type: 'integer', default: 0 },
    created_at: ts,
    updated_at: ts,
  },
});

/** Local sealed store blobs (AES-256-GCM ciphertext only). */
export const SealedKeyEntity = new EntitySchema<Record<string, unknown>>({
  name: 'SealedKey',
  tableName: 'sealed_key',
  columns: {
    ref: { ...text, primary: true },
    algorithm: text,
    kek_id: text,
    nonce: { type: 'bytea' },
    ciphertext: { type: 'bytea' },
    created_at: ts,
  },
});

export const SIGNER_ENTITIES = [SignerKeyEntity, KeyTransitionEntity, SignedDecisionEntity, SealedKeyEntity, ...DEPOSIT_ADDRESS_ENTITIES];

export class CreateSignerTables1795651200000 implements MigrationInterface {
  readonly name = 'CreateSignerTables1795651200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "signer_key" (
      "key_id" text NOT NULL, "wallet_id" text NOT NULL, "chain" text NOT NULL, "algorithm" text NOT NULL,
      "purpose" text NOT NULL, "tier" text NOT NULL, "custody" text NOT NULL, "custody_ref" text NOT NULL,
      "public_key" bytea NOT NULL, "address" text NOT NULL, "state" text NOT NULL,
      "active_until" timestamp with time zone, "signatures_left" integer,
      "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "signer_key_wallet" UNIQUE ("wallet_id"),
      CONSTRAINT "PK_signer_key" PRIMARY KEY ("key_id"))`);
    await q.query(`CREATE TABLE "key_transition" (
      "id" uuid NOT NULL, "key_id" text NOT NULL, "transition" text NOT NULL, "from_state" text, "to_state" text NOT NULL,
      "actor" text NOT NULL, "reason" text NOT NULL, "request_id" text, "quorum_operators" text[] NOT NULL,
      "at" timestamp with time zone NOT NULL,
      CONSTRAINT "key_transition_request" UNIQUE ("request_id"),
      CONSTRAINT "PK_key_transition" PRIMARY KEY ("id"))`);
    await q.query(`CREATE INDEX "key_transition_key_idx" ON "key_transition" ("key_id", "at")`);
    await q.query(`CREATE TABLE "signed_decision" (
      "decision_id" text NOT NULL, "withdrawal_id" text NOT NULL, "event_id" text NOT NULL, "key_id" text NOT NULL,
      "status" text NOT NULL, "tx_hash" text NOT NULL, "reason_code" text NOT NULL,
      "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_signed_decision" PRIMARY KEY ("decision_id"))`);
    await q.query(`CREATE TABLE "sealed_key" (
      "ref" text NOT NULL, "algorithm" text NOT NULL, "kek_id" text NOT NULL, "nonce" bytea NOT NULL, "ciphertext" bytea NOT NULL,
      "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_sealed_key" PRIMARY KEY ("ref"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['sealed_key', 'signed_decision', 'key_transition', 'signer_key']) await q.query(`DROP TABLE "${t}"`);
  }
}

/** Fee-bump re-signature (domain/fee-bump.ts): the payload signed per decision, and a bump counter. */
export class AddSignedPayload1795824000000 implements MigrationInterface {
  readonly name = 'AddSignedPayload1795824000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "signed_decision" ADD "signed_payload" bytea`);
    await q.query(`ALTER TABLE "signed_decision" ADD "fee_bumps" integer NOT NULL DEFAULT 0`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "signed_decision" DROP COLUMN "fee_bumps"`);
    await q.query(`ALTER TABLE "signed_decision" DROP COLUMN "signed_payload"`);
  }
}
