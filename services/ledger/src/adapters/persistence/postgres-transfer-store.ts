// Postgres adapter of the TransferStore port (application/ports.ts): treasury transfers.
import type { EntityManager } from 'typeorm';
import type { LedgerTransfer, TransferState, TransferStore, Tx } from '../../application/ports.js';

const m = (tx: Tx): EntityManager => tx as EntityManager;

interface Row {
  transfer_id: string;
  decision_id: string;
  asset: string;
  chain: string;
  amount: string;
  source_wallet: string;
  destination_wallet: string;
  state: TransferState;
  settle_entry_id: string | null;
}

export class PostgresTransferStore implements TransferStore {
  async lockTransfer(transferId: string, tx: Tx): Promise<LedgerTransfer | undefined> {
    // The row may not exist yet: serialise on the id (an authorisation and a parked FINAL cannot miss each other).
    await m(tx).query(`SELECT pg_advisory_xact_lock(hashtextextended('ledger-transfer:' || $1, 0))`, [transferId]);
    const [r] = (await m(tx).query(
      `SELECT "transfer_id", "decision_id", "asset", "chain", "amount"::text AS amount, "source_wallet", "destination_wallet", "state", "settle_entry_id" FROM "ledger_transfer" WHERE "transfer_id" = $1 FOR UPDATE`,
      [transferId],
    )) as Row[];
    return r
      ? { transferId: r.transfer_id, decisionId: r.decision_id, asset: r.asset, chain: r.chain, amount: BigInt(r.amount), sourceWallet: r.source_wallet, destinationWallet: r.destination_wallet, state: r.state, settleEntryId: r.settle_entry_id }
      : undefined;
  }

  async insertTransfer(t: LedgerTransfer, at: Date, tx: Tx): Promise<void> {
    await m(tx).query(
      `INSERT INTO "ledger_transfer" ("transfer_id", "decision_id", "asset", "chain", "amount", "source_wallet", "destination_wallet", "state", "settle_entry_id", "updated_at") VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
      [t.transferId, t.decisionId, t.asset, t.chain, t.amount.toString(), t.sourceWallet, t.destinationWallet, t.state, t.settleEntryId, at],
    );
  }

  async updateTransfer(transferId: string, state: TransferState, settleEntryId: string | null, at: Date, tx: Tx): Promise<void> {
    await m(tx).query(`UPDATE "ledger_transfer" SET "state" = $2, "settle_entry_id" = $3, "updated_at" = $4 WHERE "transfer_id" = $1`, [transferId, state, settleEntryId, at]);
  }

  /** Read-only (GetTransferBooking): the transfer's state and TRANSFER entry, no lock; undefined when not known. */
  async booking(transferId: string, tx: Tx): Promise<{ readonly state: TransferState; readonly settleEntryId: string | null } | undefined> {
    const [r] = (await m(tx).query(`SELECT "state", "settle_entry_id" FROM "ledger_transfer" WHERE "transfer_id" = $1`, [transferId])) as Pick<Row, 'state' | 'settle_entry_id'>[];
    return r ? { state: r.state, settleEntryId: r.settle_entry_id } : undefined;
  }

  async transfersAwaitingWallet(walletId: string, tx: Tx): Promise<string[]> {
    const rows = (await m(tx).query(
      `SELECT DISTINCT p."withdrawal_id" FROM "ledger_pending_event" p JOIN "ledger_transfer" t ON t."transfer_id" = p."withdrawal_id"
       WHERE p."action" = 'SETTLE' AND p."source_wallet" = $1 ORDER BY p."withdrawal_id"`,
      [walletId],
    )) as { withdrawal_id: string }[];
    return rows.map((r) => r.withdrawal_id);
  }
}
