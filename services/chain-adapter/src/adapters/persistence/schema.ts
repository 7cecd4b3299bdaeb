// TypeORM EntitySchemas (persistence shapes) and the migration that creates them;
// assertMigrationsMatchEntities keeps them in step (test/integration/schema.test.ts).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const wei = { type: 'numeric', precision: 78, scale: 0 } as const;

export const WalletNonceEntity = new EntitySchema<Record<string, unknown>>({
  name: 'WalletNonce',
  tableName: 'wallet_nonce',
  columns: { chain: { ...text, primary: true }, wallet: { ...text, primary: true }, next_nonce: { type: 'bigint' }, updated_at: ts },
});

export const WithdrawalTxEntity = new EntitySchema<Record<string, unknown>>({
  name: 'WithdrawalTx',
  tableName: 'withdrawal_tx',
  columns: {
    withdrawal_id: { ...text, primary: true },
    decision_id: text,
    chain: text,
    asset: text,
    wallet: text,
    wallet_id: { ...text, default: '' },
    destination: text,
    amount: wei,
    nonce: { type: 'bigint' },
    state: text,
    correlation_id: text,
    tx_hash: { ...text, nullable: true },
    block_height: { type: 'bigint', nullable: true },
    block_hash: { ...text, nullable: true },
    confirmations: { type: 'integer' },
    template: { type: 'bytea' },
    reason_code: text,
    created_at: ts,
    updated_at: ts,
    nonce_released: { type: 'boolean', default: false },
  },
  indices: [
    // One LIVE holder per (chain, wallet, nonce); a withdrawal whose nonce was released by a
    // signer refusal no longer holds it (AddNonceFreeList1796169600000).
    { name: 'withdrawal_tx_live_nonce', columns: ['chain', 'wallet', 'nonce'], unique: true, where: '"nonce_released" = false' },
    { name: 'withdrawal_tx_state_idx', columns: ['chain', 'state'] },
    { name: 'withdrawal_tx_height_idx', columns: ['chain', 'block_height'] },
  ],
});

export const TxAttemptEntity = new EntitySchema<Record<string, unknown>>({
  name: 'TxAttempt',
  tableName: 'tx_attempt',
  columns: {
    withdrawal_id: { ...text, primary: true },
    attempt: { type: 'integer', primary: true },
    max_fee_per_gas: wei,
    max_priority_fee_per_gas: wei,
    gas_limit: { type: 'bigint' },
    unsigned_tx: { type: 'bytea' },
    signed_tx: { type: 'bytea', nullable: true },
    tx_hash: { ...text, nullable: true },
    created_at: ts,
  },
  uniques: [{ name: 'tx_attempt_hash', columns: ['tx_hash'] }],
});

export const ChainBlockEntity = new EntitySchema<Record<string, unknown>>({
  name: 'ChainBlock',
  tableName: 'chain_block',
  columns: { chain: { ...text, primary: true }, height: { type: 'bigint', primary: true }, hash: text, parent_hash: text, seen_at: ts },
});

export const DepositEntity = new EntitySchema<Record<string, unknown>>({
  name: 'Deposit',
  tableName: 'deposit',
  columns: {
    deposit_id: { ...text, primary: true },
    chain: text,
    asset: text,
    address: text,
    tx_hash: text,
    output_index: { type: 'integer' },
    amount: wei,
    from_address: text,
    block_height: { type: 'bigint' },
    block_hash: text,
    confirmations: { type: 'integer' },
    state: text,
    detected_at: ts,
  },
  indices: [{ name: 'deposit_state_idx', columns: ['chain', 'state'] }],
});

export const ChainIncidentEntity = new EntitySchema<Record<string, unknown>>({
  name: 'ChainIncident',
  tableName: 'chain_incident',
  columns: { id: { type: 'bigint', primary: true, generated: 'increment' }, chain: text, kind: text, detail: text, wallet: text, tx_hash: text, created_at: ts, incident_id: { ...text, nullable: true } },
  indices: [{ name: 'chain_incident_id', columns: ['incident_id'], unique: true }],
});

/** Wallet registry: wallet id → chain address and state, fed by custody.key.lifecycle.v1. */
export const CustodyWalletEntity = new EntitySchema<Record<string, unknown>>({
  name: 'CustodyWallet',
  tableName: 'custody_wallet',
  columns: { wallet_id: { ...text, primary: true }, chain: { ...text, primary: true }, address: text, key_id: text, state: text, updated_at: ts },
  checks: [{ name: 'custody_wallet_state', expression: `"state" IN ('active', 'inactive', 'suspended', 'retired', 'destroyed')` }],
});

/** The per-wallet free list: nonces released by signer refusals, reused lowest first (then deleted). */
export const WalletNonceFreeEntity = new EntitySchema<Record<string, unknown>>({
  name: 'WalletNonceFree',
  tableName: 'wallet_nonce_free',
  columns: { chain: { ...text, primary: true }, wallet: { ...text, primary: true }, nonce: { type: 'bigint', primary: true }, released_by: text, reason_code: text, released_at: ts },
});

/** Every custody.tx.refused.v1 of this chain that was handled, and what it did. */
export const SignerRefusalEntity = new EntitySchema<Record<string, unknown>>({
  name: 'SignerRefusal',
  tableName: 'signer_refusal',
  columns: { event_id: { ...text, primary: true }, withdrawal_id: text, decision_id: text, reason_code: text, decision_consumed: { type: 'boolean' }, outcome: text, received_at: ts },
  indices: [{ name: 'signer_refusal_withdrawal_idx', columns: ['withdrawal_id'] }],
});

/**
 * Stable incident ids (custody.incident.raised.v1 `incident_id`): unique, so the same finding is
 * recorded and published once. Rows from before stay NULL (never published).
 */
export class AddIncidentId1796256000000 implements MigrationInterface {
  readonly name = 'AddIncidentId1796256000000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "chain_incident" ADD "incident_id" text`);
    await q.query(`CREATE UNIQUE INDEX "chain_incident_id" ON "chain_incident" ("incident_id")`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP INDEX "chain_incident_id"`);
    await q.query(`ALTER TABLE "chain_incident" DROP COLUMN "incident_id"`);
  }
}

/** The per-chain pause breaker (latched; only an operator clears it). */
export const ChainBreakerEntity = new EntitySchema<Record<string, unknown>>({
  name: 'ChainBreaker',
  tableName: 'chain_breaker',
  columns: {
    chain: { ...text, primary: true },
    state: text,
    trip_kind: text,
    trip_detail: text,
    tripped_at: { ...ts, nullable: true },
    depth_factor: { type: 'integer' },
    resumed_by: text,
    resume_reason: text,
    resumed_at: { ...ts, nullable: true },
    updated_at: ts,
  },
  checks: [{ name: 'chain_breaker_state', expression: `"state" IN ('CLEAR', 'TRIPPED')` }],
});

/** Every authenticated ChainAdminService call that changed something (and its replay nonce). */
export const ChainAdminActionEntity = new EntitySchema<Record<string, unknown>>({
  name: 'ChainAdminAction',
  tableName: 'chain_admin_action',
  columns: {
    operator_id: { ...text, primary: true },
    nonce: { ...text, primary: true },
    method: text,
    target: text,
    reason: text,
    outcome: text,
    certificate_sha256: text,
    signature: { type: 'bytea' },
    created_at: ts,
  },
});

export class AddChainBreaker1796342400000 implements MigrationInterface {
  readonly name = 'AddChainBreaker1796342400000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "chain_breaker" ("chain" text NOT NULL, "state" text NOT NULL, "trip_kind" text NOT NULL, "trip_detail" text NOT NULL,
      "tripped_at" timestamp with time zone, "depth_factor" integer NOT NULL, "resumed_by" text NOT NULL, "resume_reason" text NOT NULL,
      "resumed_at" timestamp with time zone, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "chain_breaker_state" CHECK ("state" IN ('CLEAR', 'TRIPPED')), CONSTRAINT "PK_chain_breaker" PRIMARY KEY ("chain"))`);
    await q.query(`CREATE TABLE "chain_admin_action" ("operator_id" text NOT NULL, "nonce" text NOT NULL, "method" text NOT NULL, "target" text NOT NULL,
      "reason" text NOT NULL, "outcome" text NOT NULL, "certificate_sha256" text NOT NULL, "signature" bytea NOT NULL,
      "created_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_chain_admin_action" PRIMARY KEY ("operator_id", "nonce"))`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "chain_admin_action"`);
    await q.query(`DROP TABLE "chain_breaker"`);
  }
}

export const CHAIN_ADAPTER_ENTITIES = [WalletNonceEntity, WithdrawalTxEntity, TxAttemptEntity, ChainBlockEntity, DepositEntity, ChainIncidentEntity, CustodyWalletEntity, WalletNonceFreeEntity, SignerRefusalEntity, ChainBreakerEntity, ChainAdminActionEntity];

export class CreateChainAdapterTables1795651200000 implements MigrationInterface {
  readonly name = 'CreateChainAdapterTables1795651200000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "wallet_nonce" ("chain" text NOT NULL, "wallet" text NOT NULL, "next_nonce" bigint NOT NULL,
      "updated_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_wallet_nonce" PRIMARY KEY ("chain", "wallet"))`);
    await q.query(`CREATE TABLE "withdrawal_tx" ("withdrawal_id" text NOT NULL, "decision_id" text NOT NULL, "chain" text NOT NULL,
      "asset" text NOT NULL, "wallet" text NOT NULL, "destination" text NOT NULL, "amount" numeric(78,0) NOT NULL,
      "nonce" bigint NOT NULL, "state" text NOT NULL, "correlation_id" text NOT NULL, "tx_hash" text, "block_height" bigint,
      "block_hash" text, "confirmations" integer NOT NULL, "template" bytea NOT NULL, "reason_code" text NOT NULL,
      "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "withdrawal_tx_wallet_nonce" UNIQUE ("chain", "wallet", "nonce"),
      CONSTRAINT "PK_withdrawal_tx" PRIMARY KEY ("withdrawal_id"))`);
    await q.query(`CREATE INDEX "withdrawal_tx_state_idx" ON "withdrawal_tx" ("chain", "state")`);
    await q.query(`CREATE INDEX "withdrawal_tx_height_idx" ON "withdrawal_tx" ("chain", "block_height")`);
    await q.query(`CREATE TABLE "tx_attempt" ("withdrawal_id" text NOT NULL, "attempt" integer NOT NULL,
      "max_fee_per_gas" numeric(78,0) NOT NULL, "max_priority_fee_per_gas" numeric(78,0) NOT NULL, "gas_limit" bigint NOT NULL,
      "unsigned_tx" bytea NOT NULL, "signed_tx" bytea, "tx_hash" text, "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "tx_attempt_hash" UNIQUE ("tx_hash"),
      CONSTRAINT "PK_tx_attempt" PRIMARY KEY ("withdrawal_id", "attempt"))`);
    await q.query(`CREATE TABLE "chain_block" ("chain" text NOT NULL, "height" bigint NOT NULL, "hash" text NOT NULL,
      "parent_hash" text NOT NULL, "seen_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_chain_block" PRIMARY KEY ("chain", "height"))`);
    await q.query(`CREATE TABLE "deposit" ("deposit_id" text NOT NULL, "chain" text NOT NULL, "asset" text NOT NULL, "address" text NOT NULL,
      "tx_hash" text NOT NULL, "output_index" integer NOT NULL, "amount" numeric(78,0) NOT NULL, "from_address" text NOT NULL,
      "block_height" bigint NOT NULL, "block_hash" text NOT NULL, "confirmations" integer NOT NULL, "state" text NOT NULL,
      "detected_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_deposit" PRIMARY KEY ("deposit_id"))`);
    await q.query(`CREATE INDEX "deposit_state_idx" ON "deposit" ("chain", "state")`);
    await q.query(`CREATE TABLE "chain_incident" ("id" BIGSERIAL NOT NULL, "chain" text NOT NULL, "kind" text NOT NULL, "detail" text NOT NULL,
      "wallet" text NOT NULL, "tx_hash" text NOT NULL, "created_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_chain_incident" PRIMARY KEY ("id"))`);
  }
  async down(q: QueryRunner): Promise<void> {
    for (const t of ['chain_incident', 'deposit', 'chain_block', 'tx_attempt', 'withdrawal_tx', 'wallet_nonce']) await q.query(`DROP TABLE "${t}"`);
  }
}

/** The wallet registry and the wallet id on each withdrawal (tx.* source_wallet = wallet id). */
export class AddWalletRegistry1796083200000 implements MigrationInterface {
  readonly name = 'AddWalletRegistry1796083200000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "custody_wallet" ("wallet_id" text NOT NULL, "chain" text NOT NULL, "address" text NOT NULL, "key_id" text NOT NULL,
      "state" text NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "custody_wallet_state" CHECK ("state" IN ('active', 'inactive', 'suspended', 'retired', 'destroyed')),
      CONSTRAINT "PK_custody_wallet" PRIMARY KEY ("wallet_id", "chain"))`);
    await q.query(`ALTER TABLE "withdrawal_tx" ADD "wallet_id" text NOT NULL DEFAULT ''`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "withdrawal_tx" DROP COLUMN "wallet_id"`);
    await q.query(`DROP TABLE "custody_wallet"`);
  }
}

/**
 * Nonces released by signer refusals (issue 7): the per-wallet free list, the refusal record,
 * and the one-holder rule narrowed to LIVE holders — the refused withdrawal keeps its nonce
 * column for the record, the reuser holds the nonce.
 */
export class AddNonceFreeList1796169600000 implements MigrationInterface {
  readonly name = 'AddNonceFreeList1796169600000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "withdrawal_tx" ADD "nonce_released" boolean NOT NULL DEFAULT false`);
    await q.query(`ALTER TABLE "withdrawal_tx" DROP CONSTRAINT "withdrawal_tx_wallet_nonce"`);
    await q.query(`CREATE UNIQUE INDEX "withdrawal_tx_live_nonce" ON "withdrawal_tx" ("chain", "wallet", "nonce") WHERE "nonce_released" = false`);
    await q.query(`CREATE TABLE "wallet_nonce_free" ("chain" text NOT NULL, "wallet" text NOT NULL, "nonce" bigint NOT NULL, "released_by" text NOT NULL,
      "reason_code" text NOT NULL, "released_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_wallet_nonce_free" PRIMARY KEY ("chain", "wallet", "nonce"))`);
    await q.query(`CREATE TABLE "signer_refusal" ("event_id" text NOT NULL, "withdrawal_id" text NOT NULL, "decision_id" text NOT NULL, "reason_code" text NOT NULL,
      "decision_consumed" boolean NOT NULL, "outcome" text NOT NULL, "received_at" timestamp with time zone NOT NULL, CONSTRAINT "PK_signer_refusal" PRIMARY KEY ("event_id"))`);
    await q.query(`CREATE INDEX "signer_refusal_withdrawal_idx" ON "signer_refusal" ("withdrawal_id")`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "signer_refusal"`);
    await q.query(`DROP TABLE "wallet_nonce_free"`);
    await q.query(`DROP INDEX "withdrawal_tx_live_nonce"`);
    // Fails if a released nonce was reused (two rows share it): such a database cannot go back.
    await q.query(`ALTER TABLE "withdrawal_tx" ADD CONSTRAINT "withdrawal_tx_wallet_nonce" UNIQUE ("chain", "wallet", "nonce")`);
    await q.query(`ALTER TABLE "withdrawal_tx" DROP COLUMN "nonce_released"`);
  }
}
