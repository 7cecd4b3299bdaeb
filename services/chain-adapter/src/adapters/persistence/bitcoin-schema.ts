// Bitcoin persistence: the wallets' unspent outputs (btc_utxo, with the withdrawal that
// reserved each one) and Bitcoin withdrawals (btc_withdrawal: PSBT, signed raw tx).
import { EntitySchema, type MigrationInterface, type QueryRunner } from 'typeorm';

const ts = { type: 'timestamp with time zone' } as const;
const text = { type: 'text' } as const;
const sat = { type: 'numeric', precision: 30, scale: 0 } as const;

export const BtcUtxoEntity = new EntitySchema<Record<string, unknown>>({
  name: 'BtcUtxo',
  tableName: 'btc_utxo',
  columns: {
    chain: { ...text, primary: true },
    txid: { ...text, primary: true },
    vout: { type: 'integer', primary: true },
    wallet_id: text,
    address: text,
    amount: sat,
    reserved_by: { ...text, nullable: true },
    created_at: ts,
  },
  checks: [{ name: 'btc_utxo_amount', expression: `"amount" > 0` }],
});

export const BtcWithdrawalEntity = new EntitySchema<Record<string, unknown>>({
  name: 'BtcWithdrawal',
  tableName: 'btc_withdrawal',
  columns: {
    withdrawal_id: { ...text, primary: true },
    decision_id: text,
    chain: text,
    asset: text,
    wallet_id: text,
    address: text,
    destination: text,
    amount: sat,
    fee: sat,
    change: sat,
    psbt: { type: 'bytea' },
    signed_tx: { type: 'bytea', nullable: true },
    txid: { ...text, nullable: true },
    state: text,
    reason_code: text,
    correlation_id: text,
    created_at: ts,
    updated_at: ts,
  },
  checks: [{ name: 'btc_withdrawal_state', expression: `"state" IN ('PREPARED', 'SIGNED', 'FAILED')` }],
});

export const BITCOIN_ENTITIES = [BtcUtxoEntity, BtcWithdrawalEntity];

export class AddBitcoinUtxos1796428800000 implements MigrationInterface {
  readonly name = 'AddBitcoinUtxos1796428800000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE "btc_utxo" ("chain" text NOT NULL, "txid" text NOT NULL, "vout" integer NOT NULL, "wallet_id" text NOT NULL, "address" text NOT NULL,
      "amount" numeric(30,0) NOT NULL, "reserved_by" text, "created_at" timestamp with time zone NOT NULL,
      CONSTRAINT "btc_utxo_amount" CHECK ("amount" > 0), CONSTRAINT "PK_btc_utxo" PRIMARY KEY ("chain", "txid", "vout"))`);
    await q.query(`CREATE TABLE "btc_withdrawal" ("withdrawal_id" text NOT NULL, "decision_id" text NOT NULL, "chain" text NOT NULL, "asset" text NOT NULL,
      "wallet_id" text NOT NULL, "address" text NOT NULL, "destination" text NOT NULL, "amount" numeric(30,0) NOT NULL, "fee" numeric(30,0) NOT NULL,
      "change" numeric(30,0) NOT NULL, "psbt" bytea NOT NULL, "signed_tx" bytea, "txid" text, "state" text NOT NULL, "reason_code" text NOT NULL,
      "correlation_id" text NOT NULL, "created_at" timestamp with time zone NOT NULL, "updated_at" timestamp with time zone NOT NULL,
      CONSTRAINT "btc_withdrawal_state" CHECK ("state" IN ('PREPARED', 'SIGNED', 'FAILED')), CONSTRAINT "PK_btc_withdrawal" PRIMARY KEY ("withdrawal_id"))`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "btc_withdrawal"`);
    await q.query(`DROP TABLE "btc_utxo"`);
  }
}
