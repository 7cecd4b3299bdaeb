// Treasury transfers between the custodian's own wallets (hot-wallet sweeps and
// replenishments decided by policy; docs/ledger.md "Internal transfers"): the transfer as the
// policy authorised it, and the TRANSFER journal kind.
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const text = { type: 'text' } as const;

export const LedgerTransferEntity = new EntitySchema<Record<string, unknown>>({
  name: 'LedgerTransfer',
  tableName: 'ledger_transfer',
  columns: {
    transfer_id: { ...text, primary: true },
    decision_id: text,
    asset: text,
    chain: text,
    amount: { type: 'numeric', precision: 78, scale: 0 },
    source_wallet: text,
    destination_wallet: text,
    state: text,
    settle_entry_id: { type: 'uuid', nullable: true },
    updated_at: { type: 'timestamp with time zone' },
  },
  checks: [
    { name: 'ledger_transfer_amount_positive', expression: `"amount" > 0` },
    { name: 'ledger_transfer_state', expression: `"state" IN ('AUTHORISED', 'SETTLED')` },
    { name: 'ledger_transfer_two_wallets', expression: `"source_wallet" <> "destination_wallet"` },
  ],
});

export const TRANSFER_ENTITIES = [LedgerTransferEntity];

export class TreasuryTransfers1796342400000 implements MigrationInterface {
  readonly name = 'TreasuryTransfers1796342400000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "ledger_transfer" (
      "transfer_id" text NOT NULL, "decision_id" text NOT NULL, "asset" text NOT NULL, "chain" text NOT NULL,
      "amount" numeric(78,0) NOT NULL, "source_wallet" text NOT NULL, "destination_wallet" text NOT NULL, "state" text NOT NULL,
      "settle_entry_id" uuid, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "ledger_transfer_amount_positive" CHECK ("amount" > 0),
      CONSTRAINT "ledger_transfer_state" CHECK ("state" IN ('AUTHORISED', 'SETTLED')),
      CONSTRAINT "ledger_transfer_two_wallets" CHECK ("source_wallet" <> "destination_wallet"),
      CONSTRAINT "PK_ledger_transfer" PRIMARY KEY ("transfer_id"))`);
    await q.query(`ALTER TABLE "journal_entry" DROP CONSTRAINT "journal_entry_kind"`);
    await q.query(`ALTER TABLE "journal_entry" ADD CONSTRAINT "journal_entry_kind" CHECK ("kind" IN ('DEPOSIT', 'DEPOSIT_REVERSAL', 'HOLD', 'RELEASE', 'SETTLE', 'REVERSAL', 'TRANSFER'))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "journal_entry" DROP CONSTRAINT "journal_entry_kind"`);
    await q.query(`ALTER TABLE "journal_entry" ADD CONSTRAINT "journal_entry_kind" CHECK ("kind" IN ('DEPOSIT', 'DEPOSIT_REVERSAL', 'HOLD', 'RELEASE', 'SETTLE', 'REVERSAL'))`);
    await q.query(`DROP TABLE "ledger_transfer"`);
  }
}
