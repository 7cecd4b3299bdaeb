// Treasury transfers and the hot-wallet monitor's state per asset (docs/policies.md
// "Hot-wallet cap and rebalancing"). The partial unique index keeps at most one open
// transfer per asset and direction, whichever replica proposes it.
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const amount = { type: 'numeric', precision: 78, scale: 0 } as const;

export const TreasuryTransferEntity = new EntitySchema<Record<string, unknown>>({
  name: 'TreasuryTransfer',
  tableName: 'treasury_transfer',
  columns: {
    transfer_id: { ...text, primary: true },
    decision_id: { type: 'uuid' },
    asset: text,
    direction: text,
    status: text,
    amount,
    source_wallet: text,
    destination_wallet: text,
    destination_address: text,
    requested_by: text,
    opened_at: ts,
    closed_at: { ...ts, nullable: true },
    close_reason: text,
    /** When the ledger confirmed the booking of a transfer closed as final (null: settling). */
    booked_at: { ...ts, nullable: true },
  },
  indices: [{ name: 'treasury_transfer_one_open', columns: ['asset', 'direction'], unique: true, where: `"status" = 'open'` }],
});

export const TreasuryHotWalletEntity = new EntitySchema<Record<string, unknown>>({
  name: 'TreasuryHotWallet',
  tableName: 'treasury_hot_wallet',
  columns: {
    asset: { ...text, primary: true },
    breach_since: { ...ts, nullable: true },
    paused: { type: 'boolean' },
    paused_since: { ...ts, nullable: true },
    last_hot: amount,
    cap: amount,
    updated_at: ts,
  },
});

export const TREASURY_ENTITIES = [TreasuryTransferEntity, TreasuryHotWalletEntity];

export class CreateTreasuryTables1795824000000 implements MigrationInterface {
  readonly name = 'CreateTreasuryTables1795824000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "treasury_transfer" (
      "transfer_id" text NOT NULL, "decision_id" uuid NOT NULL, "asset" text NOT NULL, "direction" text NOT NULL,
      "status" text NOT NULL, "amount" numeric(78,0) NOT NULL, "source_wallet" text NOT NULL, "destination_wallet" text NOT NULL,
      "destination_address" text NOT NULL, "requested_by" text NOT NULL, "opened_at" timestamp with time zone NOT NULL,
      "closed_at" timestamp with time zone, "close_reason" text NOT NULL,
      CONSTRAINT "PK_treasury_transfer" PRIMARY KEY ("transfer_id"))`);
    await q.query(`CREATE UNIQUE INDEX "treasury_transfer_one_open" ON "treasury_transfer" ("asset", "direction") WHERE "status" = 'open'`);
    await q.query(`CREATE TABLE "treasury_hot_wallet" (
      "asset" text NOT NULL, "breach_since" timestamp with time zone, "paused" boolean NOT NULL,
      "paused_since" timestamp with time zone, "last_hot" numeric(78,0) NOT NULL, "cap" numeric(78,0) NOT NULL,
      "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "PK_treasury_hot_wallet" PRIMARY KEY ("asset"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "treasury_hot_wallet"`);
    await q.query(`DROP TABLE "treasury_transfer"`);
  }
}

/**
 * The settling guard (C-9.3.7.1-a): a transfer closed as final stays settling until the ledger
 * reports it booked (`booked_at`). Existing final transfers start settling: the first round asks
 * the ledger once about each.
 */
export class AddTreasuryTransferBooked1795996800000 implements MigrationInterface {
  readonly name = 'AddTreasuryTransferBooked1795996800000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "treasury_transfer" ADD COLUMN "booked_at" timestamp with time zone`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE "treasury_transfer" DROP COLUMN "booked_at"`);
  }
}
