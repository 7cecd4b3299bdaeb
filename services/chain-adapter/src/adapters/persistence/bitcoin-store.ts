// PostgreSQL adapter of the Bitcoin ports, always inside a transaction someone else opened
// (the inbox's handleOnce): UTXO reservation and the withdrawal row commit with tx.prepared.
import type { EntityManager } from 'typeorm';
import type { WalletUtxo } from '../../application/ports.js';
import type { BitcoinScope, BtcWithdrawalRow, BtcWithdrawalState } from '../../application/bitcoin-withdrawals.js';

interface UtxoRecord {
  txid: string;
  vout: number;
  amount: string;
  address: string;
}

interface WithdrawalRecord {
  withdrawal_id: string;
  decision_id: string;
  chain: string;
  asset: string;
  wallet_id: string;
  address: string;
  destination: string;
  amount: string;
  fee: string;
  change: string;
  psbt: Buffer;
  signed_tx: Buffer | null;
  txid: string | null;
  state: BtcWithdrawalState;
  reason_code: string;
  correlation_id: string;
  updated_at: Date;
}

/** Rows of an UPDATE … RETURNING (TypeORM answers [rows, count] or rows). */
const returned = (result: unknown): number => {
  const r = result as [unknown[], number] | unknown[];
  return Array.isArray(r[0]) ? r[0].length : r.length;
};

const utxo = (r: UtxoRecord): WalletUtxo => ({ txid: r.txid, vout: r.vout, amount: BigInt(r.amount), address: r.address });

export class PostgresBitcoinScope implements BitcoinScope {
  constructor(private readonly m: EntityManager, private readonly now: () => Date) {}

  async lockAvailable(chain: string, walletId: string): Promise<WalletUtxo[]> {
    // Plain FOR UPDATE (not SKIP LOCKED): a concurrent withdrawal of the same wallet waits for
    // this transaction, then re-checks "reserved_by IS NULL" on the committed rows.
    const rows = (await this.m.query(
      `SELECT "txid", "vout", "amount"::text AS "amount", "address" FROM "btc_utxo" WHERE "chain" = $1 AND "wallet_id" = $2 AND "reserved_by" IS NULL ORDER BY "txid", "vout" FOR UPDATE`,
      [chain, walletId],
    )) as UtxoRecord[];
    return rows.map(utxo);
  }

  async reserve(chain: string, outpoints: readonly { txid: string; vout: number }[], withdrawalId: string): Promise<void> {
    for (const o of outpoints) {
      const updated = returned(await this.m.query(`UPDATE "btc_utxo" SET "reserved_by" = $4 WHERE "chain" = $1 AND "txid" = $2 AND "vout" = $3 AND "reserved_by" IS NULL RETURNING 1`, [chain, o.txid, o.vout, withdrawalId]));
      if (updated !== 1) throw new Error(`utxo ${o.txid}:${o.vout} is no longer available`);
    }
  }

  async release(chain: string, withdrawalId: string): Promise<number> {
    return returned(await this.m.query(`UPDATE "btc_utxo" SET "reserved_by" = NULL WHERE "chain" = $1 AND "reserved_by" = $2 RETURNING 1`, [chain, withdrawalId]));
  }

  async reservedBy(chain: string, withdrawalId: string): Promise<WalletUtxo[]> {
    const rows = (await this.m.query(`SELECT "txid", "vout", "amount"::text AS "amount", "address" FROM "btc_utxo" WHERE "chain" = $1 AND "reserved_by" = $2 ORDER BY "txid", "vout"`, [chain, withdrawalId])) as UtxoRecord[];
    return rows.map(utxo);
  }

  async withdrawal(withdrawalId: string, lock = false): Promise<BtcWithdrawalRow | undefined> {
    const rows = (await this.m.query(`SELECT *, "amount"::text AS "amount", "fee"::text AS "fee", "change"::text AS "change" FROM "btc_withdrawal" WHERE "withdrawal_id" = $1${lock ? ' FOR UPDATE' : ''}`, [withdrawalId])) as WithdrawalRecord[];
    const r = rows[0];
    if (!r) return undefined;
    return {
      withdrawalId: r.withdrawal_id,
      decisionId: r.decision_id,
      chain: r.chain,
      asset: r.asset,
      walletId: r.wallet_id,
      address: r.address,
      destination: r.destination,
      amount: BigInt(r.amount),
      fee: BigInt(r.fee),
      change: BigInt(r.change),
      psbt: new Uint8Array(r.psbt),
      signedTx: r.signed_tx ? new Uint8Array(r.signed_tx) : null,
      txid: r.txid,
      state: r.state,
      reasonCode: r.reason_code,
      correlationId: r.correlation_id,
      updatedAt: r.updated_at,
    };
  }

  /** false when the withdrawal id exists already. */
  async insertWithdrawal(w: BtcWithdrawalRow): Promise<boolean> {
    const now = this.now();
    const inserted = returned(await this.m.query(
      `INSERT INTO "btc_withdrawal" ("withdrawal_id", "decision_id", "chain", "asset", "wallet_id", "address", "destination", "amount", "fee", "change", "psbt", "signed_tx", "txid", "state", "reason_code", "correlation_id", "created_at", "updated_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18) ON CONFLICT ("withdrawal_id") DO NOTHING RETURNING 1`,
      [w.withdrawalId, w.decisionId, w.chain, w.asset, w.walletId, w.address, w.destination, w.amount.toString(), w.fee.toString(), w.change.toString(), Buffer.from(w.psbt), w.signedTx ? Buffer.from(w.signedTx) : null, w.txid, w.state, w.reasonCode, w.correlationId, now, w.updatedAt],
    ));
    return inserted === 1;
  }

  async updateWithdrawal(withdrawalId: string, patch: { state: BtcWithdrawalState; reasonCode?: string; signedTx?: Uint8Array; txid?: string; updatedAt: Date }): Promise<void> {
    await this.m.query(
      `UPDATE "btc_withdrawal" SET "state" = $2, "reason_code" = COALESCE($3, "reason_code"), "signed_tx" = COALESCE($4, "signed_tx"), "txid" = COALESCE($5, "txid"), "updated_at" = $6 WHERE "withdrawal_id" = $1`,
      [withdrawalId, patch.state, patch.reasonCode ?? null, patch.signedTx ? Buffer.from(patch.signedTx) : null, patch.txid ?? null, patch.updatedAt],
    );
  }
}
