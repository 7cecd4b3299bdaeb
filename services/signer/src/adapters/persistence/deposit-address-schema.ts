// Deposit-address assignments (entities + migration; assertMigrationsMatchEntities keeps
// the two in step). Uniques: one address per (asset, customer), one customer per
// (asset, index), one customer per address.
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;

export const DepositAddressEntity = new EntitySchema<Record<string, unknown>>({
  name: 'DepositAddress',
  tableName: 'deposit_address',
  columns: {
    asset: { ...text, primary: true },
    customer_account: { ...text, primary: true },
    derivation_index: { type: 'integer' },
    derivation_path: text,
    address: text,
    created_at: ts,
  },
  uniques: [
    { name: 'deposit_address_index', columns: ['asset', 'derivation_index'] },
    { name: 'deposit_address_address', columns: ['address'] },
  ],
});

/** Next free derivation index per asset (the row lock serialises allocation). */
export const DepositAddressCounterEntity = new EntitySchema<Record<string, unknown>>({
  name: 'DepositAddressCounter',
  tableName: 'deposit_address_counter',
  columns: {
    asset: { ...text, primary: true },
    next_index: { type: 'integer' },
  },
});

export const DEPOSIT_ADDRESS_ENTITIES = [DepositAddressEntity, DepositAddressCounterEntity];

export class CreateDepositAddressTables1795737600000 implements MigrationInterface {
  readonly name = 'CreateDepositAddressTables1795737600000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "deposit_address" (
      "asset" text NOT NULL, "customer_account" text NOT NULL, "derivation_index" integer NOT NULL,
      "derivation_path" text NOT NULL, "address" text NOT NULL, "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "deposit_address_index" UNIQUE ("asset", "derivation_index"),
      CONSTRAINT "deposit_address_address" UNIQUE ("address"),
      CONSTRAINT "PK_deposit_address" PRIMARY KEY ("asset", "customer_account"))`);
    await q.query(`CREATE TABLE "deposit_address_counter" (
      "asset" text NOT NULL, "next_index" integer NOT NULL,
      CONSTRAINT "PK_deposit_address_counter" PRIMARY KEY ("asset"))`);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of ['deposit_address_counter', 'deposit_address']) await q.query(`DROP TABLE "${t}"`);
  }
}
