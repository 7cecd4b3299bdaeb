// TypeORM EntitySchemas and the migration. The rules that make the books safe live in the
// database, not only in code (docs/ledger.md):
//   - ledger_balance CHECK (available >= 0 AND held >= 0): no balance can go negative;
//   - balances change only through journal lines: an AFTER INSERT trigger on journal_line
//     (SECURITY DEFINER, owned by the schema owner) applies each line to its balance row in
//     the same transaction; the runtime role has SELECT only on ledger_balance;
//   - a DEFERRABLE INITIALLY DEFERRED constraint trigger checks at commit that every entry's
//     lines sum to zero per asset;
//   - journal_entry / journal_line are append-only for the runtime role (INSERT, SELECT).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';
import { RUN_COMPARED_CHECK } from './reconciliation-schema.js';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const amount = { type: 'numeric', precision: 78, scale: 0 } as const;

export const LedgerBalanceEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerBalance',
  tableName: 'ledger_balance',
  columns: {
    account: { ...text, primary: true },
    asset: { ...text, primary: true },
    normal_side: text,
    available: amount,
    held: amount,
  },
  checks: [
    // Per-wallet custodial accounts (custodian:<asset>:<wallet>) may dip below 0 (value moved
    // between wallets without a booking); their per-asset TOTAL may not (ledger_apply_line).
    { name: 'ledger_balance_non_negative', expression: `"held" >= 0 AND ("available" >= 0 OR "account" LIKE 'custodian:%:%')` },
    { name: 'ledger_balance_normal_side', expression: `"normal_side" IN ('debit', 'credit')` },
  ],
});

export const JournalEntryEntity = new EntitySchema<Record<string, unknown>>({
  name: 'JournalEntry',
  tableName: 'journal_entry',
  columns: {
    entry_id: { type: 'uuid', primary: true },
    seq: { type: 'bigint', generated: 'increment' },
    kind: text,
    cause_event_id: text,
    reference_id: text,
    correlation_id: text,
    booked_at: ts,
  },
  // TRANSFER: treasury transfers between our own wallets (migration TreasuryTransfers1796342400000).
  checks: [{ name: 'journal_entry_kind', expression: `"kind" IN ('DEPOSIT', 'DEPOSIT_REVERSAL', 'HOLD', 'RELEASE', 'SETTLE', 'REVERSAL', 'TRANSFER')` }],
  uniques: [{ name: 'journal_entry_cause', columns: ['cause_event_id', 'kind'] }, { name: 'journal_entry_seq', columns: ['seq'] }],
  indices: [{ name: 'journal_entry_reference_idx', columns: ['reference_id'] }],
});

export const JournalLineEntity = new EntitySchema<Record<string, unknown>>({
  name: 'JournalLine',
  tableName: 'journal_line',
  columns: {
    entry_id: { type: 'uuid', primary: true },
    line_no: { type: 'integer', primary: true },
    account: text,
    asset: text,
    bucket: text,
    amount,
  },
  checks: [
    { name: 'journal_line_nonzero', expression: `"amount" <> 0` },
    { name: 'journal_line_bucket', expression: `"bucket" IN ('available', 'held')` },
  ],
  indices: [{ name: 'journal_line_account_idx', columns: ['account', 'asset'] }],
});

export const LedgerWithdrawalEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerWithdrawal',
  tableName: 'ledger_withdrawal',
  columns: {
    withdrawal_id: { ...text, primary: true },
    account: text,
    asset: text,
    chain: text,
    amount,
    state: text,
    settle_entry_id: { type: 'uuid', nullable: true },
    reason: text,
  },
  checks: [
    { name: 'ledger_withdrawal_amount_positive', expression: `"amount" > 0` },
    { name: 'ledger_withdrawal_state', expression: `"state" IN ('HELD', 'RELEASED', 'SETTLED', 'REJECTED')` },
  ],
});

export const LedgerDepositEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerDeposit',
  tableName: 'ledger_deposit',
  columns: {
    deposit_id: { ...text, primary: true },
    account: text,
    asset: text,
    amount,
    state: text,
    entry_id: { type: 'uuid' },
  },
  checks: [{ name: 'ledger_deposit_state', expression: `"state" IN ('CREDITED', 'REVERSED', 'REVERSAL_REFUSED')` }],
});

export const LedgerPendingEventEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerPendingEvent',
  tableName: 'ledger_pending_event',
  columns: {
    event_id: { ...text, primary: true },
    arrival: { type: 'bigint', generated: 'increment' },
    withdrawal_id: text,
    action: text,
    fee: amount,
    reason: text,
    correlation_id: text,
    source_wallet: { ...text, default: '' },
  },
  checks: [{ name: 'ledger_pending_event_action', expression: `"action" IN ('RELEASE', 'SETTLE', 'REVERSE')` }],
  indices: [{ name: 'ledger_pending_event_withdrawal_idx', columns: ['withdrawal_id'] }],
});

export const LedgerWalletEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerWallet',
  tableName: 'ledger_wallet',
  columns: {
    wallet_id: { ...text, primary: true },
    chain: text,
    tier: text,
    address: text,
    updated_at: ts,
  },
  checks: [{ name: 'ledger_wallet_tier', expression: `"tier" IN ('hot', 'warm', 'cold')` }],
  indices: [{ name: 'ledger_wallet_address_idx', columns: ['chain', 'address'] }],
});

export const LEDGER_ENTITIES = [LedgerBalanceEntity, JournalEntryEntity, JournalLineEntity, LedgerWithdrawalEntity, LedgerDepositEntity, LedgerPendingEventEntity, LedgerWalletEntity];

export class CreateLedgerTables1795737600000 implements MigrationInterface {
  readonly name = 'CreateLedgerTables1795737600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "ledger_balance" (
      "account" text NOT NULL, "asset" text NOT NULL, "normal_side" text NOT NULL,
      "available" numeric(78,0) NOT NULL, "held" numeric(78,0) NOT NULL,
      CONSTRAINT "ledger_balance_non_negative" CHECK ("available" >= 0 AND "held" >= 0),
      CONSTRAINT "ledger_balance_normal_side" CHECK ("normal_side" IN ('debit', 'credit')),
      CONSTRAINT "PK_ledger_balance" PRIMARY KEY ("account", "asset"))`);
    await q.query(`CREATE TABLE "journal_entry" (
      "entry_id" uuid NOT NULL, "seq" BIGSERIAL NOT NULL, "kind" text NOT NULL, "cause_event_id" text NOT NULL, "reference_id" text NOT NULL,
      "correlation_id" text NOT NULL, "booked_at" timestamp with time zone NOT NULL,
      CONSTRAINT "journal_entry_cause" UNIQUE ("cause_event_id", "kind"),
      CONSTRAINT "journal_entry_seq" UNIQUE ("seq"),
      CONSTRAINT "journal_entry_kind" CHECK ("kind" IN ('DEPOSIT', 'DEPOSIT_REVERSAL', 'HOLD', 'RELEASE', 'SETTLE', 'REVERSAL')),
      CONSTRAINT "PK_journal_entry" PRIMARY KEY ("entry_id"))`);
    await q.query(`CREATE INDEX "journal_entry_reference_idx" ON "journal_entry" ("reference_id")`);
    await q.query(`CREATE TABLE "journal_line" (
      "entry_id" uuid NOT NULL, "line_no" integer NOT NULL, "account" text NOT NULL, "asset" text NOT NULL,
      "bucket" text NOT NULL, "amount" numeric(78,0) NOT NULL,
      CONSTRAINT "journal_line_nonzero" CHECK ("amount" <> 0),
      CONSTRAINT "journal_line_bucket" CHECK ("bucket" IN ('available', 'held')),
      CONSTRAINT "PK_journal_line" PRIMARY KEY ("entry_id", "line_no"))`);
    await q.query(`CREATE INDEX "journal_line_account_idx" ON "journal_line" ("account", "asset")`);
    await q.query(`CREATE TABLE "ledger_withdrawal" (
      "withdrawal_id" text NOT NULL, "account" text NOT NULL, "asset" text NOT NULL, "chain" text NOT NULL,
      "amount" numeric(78,0) NOT NULL, "state" text NOT NULL, "settle_entry_id" uuid, "reason" text NOT NULL,
      CONSTRAINT "ledger_withdrawal_amount_positive" CHECK ("amount" > 0),
      CONSTRAINT "ledger_withdrawal_state" CHECK ("state" IN ('HELD', 'RELEASED', 'SETTLED', 'REJECTED')),
      CONSTRAINT "PK_ledger_withdrawal" PRIMARY KEY ("withdrawal_id"))`);
    await q.query(`CREATE TABLE "ledger_deposit" (
      "deposit_id" text NOT NULL, "account" text NOT NULL, "asset" text NOT NULL, "amount" numeric(78,0) NOT NULL,
      "state" text NOT NULL, "entry_id" uuid NOT NULL,
      CONSTRAINT "ledger_deposit_state" CHECK ("state" IN ('CREDITED', 'REVERSED', 'REVERSAL_REFUSED')),
      CONSTRAINT "PK_ledger_deposit" PRIMARY KEY ("deposit_id"))`);
    await q.query(`CREATE TABLE "ledger_pending_event" (
      "event_id" text NOT NULL, "arrival" BIGSERIAL NOT NULL, "withdrawal_id" text NOT NULL, "action" text NOT NULL,
      "fee" numeric(78,0) NOT NULL, "reason" text NOT NULL, "correlation_id" text NOT NULL,
      CONSTRAINT "ledger_pending_event_action" CHECK ("action" IN ('RELEASE', 'SETTLE', 'REVERSE')),
      CONSTRAINT "PK_ledger_pending_event" PRIMARY KEY ("event_id"))`);
    await q.query(`CREATE INDEX "ledger_pending_event_withdrawal_idx" ON "ledger_pending_event" ("withdrawal_id")`);

    // Balances follow the journal, in the same transaction, and nowhere else.
    await q.query(`CREATE FUNCTION "ledger_normal_side"(account text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
      SELECT CASE WHEN account LIKE 'customer:%' OR account LIKE 'suspense:%' THEN 'credit' ELSE 'debit' END $$`);
    await q.query(`CREATE FUNCTION "ledger_apply_line"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE side text := ledger_normal_side(NEW.account);
              delta numeric(78,0) := CASE WHEN ledger_normal_side(NEW.account) = 'debit' THEN NEW.amount ELSE -NEW.amount END;
      BEGIN
        INSERT INTO ledger_balance (account, asset, normal_side, available, held) VALUES (NEW.account, NEW.asset, side, 0, 0)
          ON CONFLICT (account, asset) DO NOTHING;
        UPDATE ledger_balance
           SET available = available + CASE WHEN NEW.bucket = 'available' THEN delta ELSE 0 END,
               held      = held      + CASE WHEN NEW.bucket = 'held' THEN delta ELSE 0 END
         WHERE account = NEW.account AND asset = NEW.asset;
        RETURN NULL;
      END $$`);
    await q.query(`CREATE TRIGGER "journal_line_apply" AFTER INSERT ON "journal_line" FOR EACH ROW EXECUTE FUNCTION "ledger_apply_line"()`);
    await q.query(`CREATE FUNCTION "ledger_check_entry_balanced"() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE bad record;
      BEGIN
        SELECT asset, sum(amount) AS total INTO bad FROM journal_line WHERE entry_id = NEW.entry_id GROUP BY asset HAVING sum(amount) <> 0 LIMIT 1;
        IF FOUND THEN
          RAISE EXCEPTION 'journal entry % does not balance for %: %', NEW.entry_id, bad.asset, bad.total USING ERRCODE = 'check_violation', CONSTRAINT = 'journal_entry_balanced';
        END IF;
        RETURN NULL;
      END $$`);
    await q.query(
      `CREATE CONSTRAINT TRIGGER "journal_entry_balanced" AFTER INSERT ON "journal_line" DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "ledger_check_entry_balanced"()`,
    );

    // Privileges: the runtime role may append to the journal and read balances, nothing more.
    await q.query(`DO $$
      DECLARE r record;
      BEGIN
        FOR r IN
          SELECT DISTINCT c.relname AS tbl, a.grantee::regrole::text AS grantee
          FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) a
          WHERE c.relnamespace = current_schema()::regnamespace
            AND c.relname IN ('journal_entry', 'journal_line', 'ledger_balance')
            AND a.grantee <> c.relowner AND a.grantee <> 0
        LOOP
          IF r.tbl = 'ledger_balance' THEN
            EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %I FROM %s', r.tbl, r.grantee);
          ELSE
            EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON %I FROM %s', r.tbl, r.grantee);
          END IF;
        END LOOP;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await Promise.resolve(q);
    throw new Error('CreateLedgerTables1795737600000 cannot be reverted: the journal is append-only');
  }
}

/**
 * Per-wallet custodial accounts (custodian:<asset>:<wallet_id>). The journal is not touched:
 * the legacy omnibus custodian:<asset> keeps its lines and balance, new postings go to wallet
 * accounts, and the custodial total of an asset is the sum over all its custodian accounts.
 *   - ledger_wallet: the wallets registered from custody.key.lifecycle.v1 (id, chain, tier, address);
 *   - ledger_pending_event.source_wallet: a SETTLE parked until its wallet is registered;
 *   - ledger_balance_non_negative: a per-wallet account's available may go below 0 (value that
 *     reached the wallet without a booking, e.g. a sweep), every other balance may not;
 *   - ledger_apply_line: the custodial TOTAL of an asset may not go below 0 (checked under a
 *     per-asset transaction lock, raised as ledger_balance_non_negative like the row CHECK).
 */
export class PerWalletCustodialAccounts1796256000000 implements MigrationInterface {
  readonly name = 'PerWalletCustodialAccounts1796256000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "ledger_wallet" (
      "wallet_id" text NOT NULL, "chain" text NOT NULL, "tier" text NOT NULL, "address" text NOT NULL,
      "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "ledger_wallet_tier" CHECK ("tier" IN ('hot', 'warm', 'cold')),
      CONSTRAINT "PK_ledger_wallet" PRIMARY KEY ("wallet_id"))`);
    await q.query(`CREATE INDEX "ledger_wallet_address_idx" ON "ledger_wallet" ("chain", "address")`);
    await q.query(`ALTER TABLE "ledger_pending_event" ADD "source_wallet" text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE "ledger_balance" DROP CONSTRAINT "ledger_balance_non_negative"`);
    await q.query(`ALTER TABLE "ledger_balance" ADD CONSTRAINT "ledger_balance_non_negative" CHECK ("held" >= 0 AND ("available" >= 0 OR "account" LIKE 'custodian:%:%'))`);
    // Reconciliation per wallet: how many wallets drifted; a DRIFT may have the asset total at 0.
    await q.query(`ALTER TABLE "ledger_reconciliation_run" ADD "mismatched_wallets" integer`);
    await q.query(`ALTER TABLE "ledger_reconciliation_run" ADD "drift_key" text NOT NULL DEFAULT ''`);
    await q.query(`ALTER TABLE "ledger_reconciliation_run" DROP CONSTRAINT "ledger_reconciliation_run_compared"`);
    await q.query(`ALTER TABLE "ledger_reconciliation_run" ADD CONSTRAINT "ledger_reconciliation_run_compared" CHECK (${RUN_COMPARED_CHECK})`);
    await q.query(`CREATE OR REPLACE FUNCTION "ledger_apply_line"() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS $$
      DECLARE side text := ledger_normal_side(NEW.account);
              delta numeric(78,0) := CASE WHEN ledger_normal_side(NEW.account) = 'debit' THEN NEW.amount ELSE -NEW.amount END;
              custodial boolean := NEW.account LIKE 'custodian:%';
              total numeric(78,0);
      BEGIN
        -- Custodial postings of one asset serialise (as the single omnibus row did): the total
        -- read below cannot miss a concurrent posting to another wallet of the asset.
        IF custodial THEN
          PERFORM pg_advisory_xact_lock(hashtextextended('ledger-custodial:' || NEW.asset, 0));
        END IF;
        INSERT INTO ledger_balance (account, asset, normal_side, available, held) VALUES (NEW.account, NEW.asset, side, 0, 0)
          ON CONFLICT (account, asset) DO NOTHING;
        UPDATE ledger_balance
           SET available = available + CASE WHEN NEW.bucket = 'available' THEN delta ELSE 0 END,
               held      = held      + CASE WHEN NEW.bucket = 'held' THEN delta ELSE 0 END
         WHERE account = NEW.account AND asset = NEW.asset;
        IF custodial AND delta < 0 THEN
          SELECT sum(available) INTO total FROM ledger_balance WHERE asset = NEW.asset AND account LIKE 'custodian:%';
          IF total < 0 THEN
            RAISE EXCEPTION 'the custodial balance of % would go negative', NEW.asset USING ERRCODE = 'check_violation', CONSTRAINT = 'ledger_balance_non_negative';
          END IF;
        END IF;
        RETURN NULL;
      END $$`);
  }

  async down(q: QueryRunner): Promise<void> {
    await Promise.resolve(q);
    throw new Error('PerWalletCustodialAccounts1796256000000 cannot be reverted: wallet accounts may hold journal lines');
  }
}
