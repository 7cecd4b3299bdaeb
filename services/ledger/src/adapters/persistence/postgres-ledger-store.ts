// LedgerStore on Postgres (raw SQL through TypeORM's EntityManager). post() runs under a
// savepoint so a refused posting (negative balance -> CHECK violation 23514 on
// ledger_balance_non_negative) leaves the surrounding inbox transaction usable.
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import {
  InsufficientFundsError,
  type DepositState,
  type LedgerDeposit,
  type LedgerStore,
  type LedgerWithdrawal,
  type NewEntry,
  type PendingEvent,
  type Tx,
  type WithdrawalState,
} from '../../application/ports.js';
import type { BalanceView, CustodialBalanceRow, HistoryLine, LedgerReader, OutflowView, WithdrawalHoldView } from '../../application/queries.js';
import { assertBalanced, type Bucket, type EntryKind, type Line } from '../../domain/postings.js';
import type { WalletRecord, WalletTier } from '../../domain/wallets.js';

type WalletRow = { wallet_id: string; chain: string; tier: WalletTier; address: string; updated_at: Date };
const walletOf = (r: WalletRow): WalletRecord => ({ walletId: r.wallet_id, chain: r.chain, tier: r.tier, address: r.address, updatedAt: r.updated_at });

const m = (tx: Tx): EntityManager => tx as EntityManager;

function isNegativeBalance(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; driverError?: { code?: string; constraint?: string } };
  const code = e.driverError?.code ?? e.code;
  const constraint = e.driverError?.constraint ?? e.constraint;
  return code === '23514' && constraint === 'ledger_balance_non_negative';
}

export class PostgresLedgerStore implements LedgerStore, LedgerReader {
  private savepoints = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  transaction<T>(work: (tx: Tx) => Promise<T>, tx?: Tx): Promise<T> {
    return tx ? work(tx) : this.dataSource.transaction((manager) => work(manager));
  }

  async post(entry: NewEntry, tx: Tx): Promise<string> {
    assertBalanced(entry.lines);
    const entryId = randomUUID();
    const sp = `post_${++this.savepoints}`;
    await m(tx).query(`SAVEPOINT ${sp}`);
    try {
      await m(tx).query(`INSERT INTO "journal_entry" ("entry_id", "kind", "cause_event_id", "reference_id", "correlation_id", "booked_at") VALUES ($1, $2, $3, $4, $5, $6)`, [
        entryId,
        entry.kind,
        entry.causeEventId,
        entry.referenceId,
        entry.correlationId,
        this.clock(),
      ]);
      // One statement, lines in the entry's (sorted) order: balance rows lock in a consistent order.
      const params: unknown[] = [];
      const values = entry.lines.map((l, i) => {
        params.push(entryId, i + 1, l.account, l.asset, l.bucket, l.amount.toString());
        const b = i * 6;
        return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
      });
      await m(tx).query(`INSERT INTO "journal_line" ("entry_id", "line_no", "account", "asset", "bucket", "amount") VALUES ${values.join(', ')}`, params);
      await m(tx).query(`RELEASE SAVEPOINT ${sp}`);
      return entryId;
    } catch (err) {
      await m(tx).query(`ROLLBACK TO SAVEPOINT ${sp}`);
      if (isNegativeBalance(err)) throw new InsufficientFundsError({ cause: err });
      throw err;
    }
  }

  async entryLines(entryId: string, tx: Tx): Promise<Line[]> {
    const rows = (await m(tx).query(`SELECT "account", "asset", "bucket", "amount" FROM "journal_line" WHERE "entry_id" = $1 ORDER BY "line_no"`, [entryId])) as {
      account: string;
      asset: string;
      bucket: Bucket;
      amount: string;
    }[];
    return rows.map((r) => ({ account: r.account, asset: r.asset, bucket: r.bucket, amount: BigInt(r.amount) }));
  }

  async lockWithdrawal(withdrawalId: string, tx: Tx): Promise<LedgerWithdrawal | undefined> {
    const rows = (await m(tx).query(
      `SELECT "withdrawal_id", "account", "asset", "chain", "amount", "state", "settle_entry_id" FROM "ledger_withdrawal" WHERE "withdrawal_id" = $1 FOR UPDATE`,
      [withdrawalId],
    )) as { withdrawal_id: string; account: string; asset: string; chain: string; amount: string; state: WithdrawalState; settle_entry_id: string | null }[];
    const r = rows[0];
    return r
      ? { withdrawalId: r.withdrawal_id, account: r.account, asset: r.asset, chain: r.chain, amount: BigInt(r.amount), state: r.state, settleEntryId: r.settle_entry_id }
      : undefined;
  }

  async insertWithdrawal(w: LedgerWithdrawal, reason: string, tx: Tx): Promise<void> {
    await m(tx).query(
      `INSERT INTO "ledger_withdrawal" ("withdrawal_id", "account", "asset", "chain", "amount", "state", "settle_entry_id", "reason") VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [w.withdrawalId, w.account, w.asset, w.chain, w.amount.toString(), w.state, w.settleEntryId, reason],
    );
  }

  async updateWithdrawal(withdrawalId: string, state: WithdrawalState, settleEntryId: string | null, reason: string, tx: Tx): Promise<void> {
    await m(tx).query(`UPDATE "ledger_withdrawal" SET "state" = $2, "settle_entry_id" = $3, "reason" = $4 WHERE "withdrawal_id" = $1`, [withdrawalId, state, settleEntryId, reason]);
  }

  async park(e: PendingEvent, tx: Tx): Promise<void> {
    await m(tx).query(
      `INSERT INTO "ledger_pending_event" ("event_id", "withdrawal_id", "action", "fee", "reason", "correlation_id", "source_wallet") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [e.eventId, e.withdrawalId, e.action, e.fee.toString(), e.reason, e.correlationId, e.sourceWallet],
    );
  }

  async takePending(withdrawalId: string, tx: Tx): Promise<PendingEvent[]> {
    const rows = (await m(tx).query(
      // (a CTE: TypeORM returns [rows, count] for a bare DELETE ... RETURNING)
      `WITH taken AS (DELETE FROM "ledger_pending_event" WHERE "withdrawal_id" = $1 RETURNING *)
       SELECT "event_id", "withdrawal_id", "action", "fee"::text AS fee, "reason", "correlation_id", "source_wallet", "arrival"::text AS arrival FROM taken ORDER BY "arrival"`,
      [withdrawalId],
    )) as { event_id: string; withdrawal_id: string; action: PendingEvent['action']; fee: string; reason: string; correlation_id: string; source_wallet: string; arrival: string }[];
    return rows.map((r) => ({ eventId: r.event_id, withdrawalId: r.withdrawal_id, action: r.action, fee: BigInt(r.fee), reason: r.reason, correlationId: r.correlation_id, sourceWallet: r.source_wallet }));
  }

  async hasPending(withdrawalId: string, tx: Tx): Promise<boolean> {
    const rows = (await m(tx).query(`SELECT 1 FROM "ledger_pending_event" WHERE "withdrawal_id" = $1 LIMIT 1`, [withdrawalId])) as unknown[];
    return rows.length > 0;
  }

  async lockWallet(walletId: string, tx: Tx): Promise<WalletRecord | undefined> {
    await m(tx).query(`SELECT pg_advisory_xact_lock(hashtextextended('ledger-wallet:' || $1, 0))`, [walletId]);
    const rows = (await m(tx).query(`SELECT "wallet_id", "chain", "tier", "address", "updated_at" FROM "ledger_wallet" WHERE "wallet_id" = $1`, [walletId])) as WalletRow[];
    return rows[0] ? walletOf(rows[0]) : undefined;
  }

  async walletByAddress(chain: string, address: string, tx: Tx): Promise<WalletRecord | undefined> {
    const rows = (await m(tx).query(
      `SELECT "wallet_id", "chain", "tier", "address", "updated_at" FROM "ledger_wallet" WHERE "chain" = $1 AND "address" <> '' AND lower("address") = lower($2) ORDER BY "wallet_id" LIMIT 1`,
      [chain, address],
    )) as WalletRow[];
    return rows[0] ? walletOf(rows[0]) : undefined;
  }

  async upsertWallet(w: WalletRecord, tx: Tx): Promise<void> {
    await m(tx).query(
      `INSERT INTO "ledger_wallet" ("wallet_id", "chain", "tier", "address", "updated_at") VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("wallet_id") DO UPDATE SET "tier" = EXCLUDED."tier", "address" = EXCLUDED."address", "updated_at" = EXCLUDED."updated_at"`,
      [w.walletId, w.chain, w.tier, w.address, w.updatedAt],
    );
  }

  async withdrawalsAwaitingWallet(walletId: string, tx: Tx): Promise<string[]> {
    const rows = (await m(tx).query(
      `SELECT DISTINCT p."withdrawal_id" FROM "ledger_pending_event" p JOIN "ledger_withdrawal" w ON w."withdrawal_id" = p."withdrawal_id"
       WHERE p."action" = 'SETTLE' AND p."source_wallet" = $1 ORDER BY p."withdrawal_id"`,
      [walletId],
    )) as { withdrawal_id: string }[];
    return rows.map((r) => r.withdrawal_id);
  }

  /** Registered wallets with their custodial balances per asset (read API). */
  async custodialBalances(asset: string): Promise<CustodialBalanceRow[]> {
    const rows = (await this.dataSource.query(
      `SELECT b."account", b."asset", b."available"::text AS available, w."wallet_id", w."tier", w."chain", w."address"
       FROM "ledger_balance" b LEFT JOIN "ledger_wallet" w ON b."account" = 'custodian:' || b."asset" || ':' || w."wallet_id"
       WHERE b."account" LIKE 'custodian:%' AND ($1 = '' OR b."asset" = $1)
       ORDER BY b."asset", b."account"`,
      [asset],
    )) as { account: string; asset: string; available: string; wallet_id: string | null; tier: WalletTier | null; chain: string | null; address: string | null }[];
    return rows.map((r) => ({ account: r.account, asset: r.asset, available: BigInt(r.available), walletId: r.wallet_id, tier: r.tier, chain: r.chain ?? '', address: r.address ?? '' }));
  }

  async lockDeposit(depositId: string, tx: Tx): Promise<LedgerDeposit | undefined> {
    const rows = (await m(tx).query(`SELECT "deposit_id", "account", "asset", "amount", "state", "entry_id" FROM "ledger_deposit" WHERE "deposit_id" = $1 FOR UPDATE`, [depositId])) as {
      deposit_id: string;
      account: string;
      asset: string;
      amount: string;
      state: DepositState;
      entry_id: string;
    }[];
    const r = rows[0];
    return r ? { depositId: r.deposit_id, account: r.account, asset: r.asset, amount: BigInt(r.amount), state: r.state, entryId: r.entry_id } : undefined;
  }

  async insertDeposit(d: LedgerDeposit, tx: Tx): Promise<void> {
    await m(tx).query(`INSERT INTO "ledger_deposit" ("deposit_id", "account", "asset", "amount", "state", "entry_id") VALUES ($1, $2, $3, $4, $5, $6)`, [
      d.depositId,
      d.account,
      d.asset,
      d.amount.toString(),
      d.state,
      d.entryId,
    ]);
  }

  async updateDeposit(depositId: string, state: DepositState, tx: Tx, entryId?: string): Promise<void> {
    await m(tx).query(`UPDATE "ledger_deposit" SET "state" = $2, "entry_id" = COALESCE($3, "entry_id") WHERE "deposit_id" = $1`, [depositId, state, entryId ?? null]);
  }

  async balancesOf(account: string, assets: readonly string[]): Promise<BalanceView[]> {
    const rows = (await this.dataSource.query(
      `SELECT "asset", "available"::text AS available, "held"::text AS held FROM "ledger_balance" WHERE "account" = $1 AND (cardinality($2::text[]) = 0 OR "asset" = ANY($2::text[])) ORDER BY "asset"`,
      [account, [...assets]],
    )) as { asset: string; available: string; held: string }[];
    return rows.map((r) => ({ asset: r.asset, available: BigInt(r.available), held: BigInt(r.held) }));
  }

  async withdrawalHold(withdrawalId: string): Promise<WithdrawalHoldView | undefined> {
    // One statement (one snapshot): the booking, the account's available balance now, the HOLD entry.
    const rows = (await this.dataSource.query(
      `SELECT w."withdrawal_id", w."account", w."asset", w."amount"::text AS amount, w."state",
              COALESCE(b."available", 0)::text AS available,
              COALESCE((SELECT e."entry_id"::text FROM "journal_entry" e WHERE e."reference_id" = w."withdrawal_id" AND e."kind" = 'HOLD' ORDER BY e."seq" LIMIT 1), '') AS hold_entry_id
       FROM "ledger_withdrawal" w LEFT JOIN "ledger_balance" b ON b."account" = w."account" AND b."asset" = w."asset"
       WHERE w."withdrawal_id" = $1`,
      [withdrawalId],
    )) as { withdrawal_id: string; account: string; asset: string; amount: string; state: WithdrawalState; available: string; hold_entry_id: string }[];
    const r = rows[0];
    return r
      ? { withdrawalId: r.withdrawal_id, state: r.state, account: r.account, asset: r.asset, amount: BigInt(r.amount), available: BigInt(r.available), holdEntryId: r.hold_entry_id }
      : undefined;
  }

  async outflowSince(account: string, asset: string, since: Date, excludeWithdrawalId: string): Promise<OutflowView> {
    // One statement (one snapshot). The window is the HOLD entry's booking time: a withdrawal
    // counts from the moment its funds were reserved, whether it has settled since or not.
    const rows = (await this.dataSource.query(
      `SELECT COALESCE(SUM(w."amount"), 0)::text AS total, COUNT(*)::int AS n
       FROM "ledger_withdrawal" w
       WHERE w."account" = $1 AND w."asset" = $2 AND w."state" IN ('HELD', 'SETTLED') AND w."withdrawal_id" <> $4
         AND EXISTS (SELECT 1 FROM "journal_entry" e WHERE e."reference_id" = w."withdrawal_id" AND e."kind" = 'HOLD' AND e."booked_at" >= $3)`,
      [account, asset, since, excludeWithdrawalId],
    )) as { total: string; n: number }[];
    const r = rows[0];
    return { total: BigInt(r?.total ?? '0'), withdrawals: r?.n ?? 0 };
  }

  async history(account: string, asset: string, afterSequence: bigint, entries: number): Promise<HistoryLine[]> {
    const rows = (await this.dataSource.query(
      `WITH page AS (
         SELECT e."entry_id", e."seq" FROM "journal_entry" e
         WHERE e."seq" > $3 AND EXISTS (SELECT 1 FROM "journal_line" l WHERE l."entry_id" = e."entry_id" AND l."account" = $1 AND ($2 = '' OR l."asset" = $2))
         ORDER BY e."seq" LIMIT $4)
       SELECT e."seq"::text AS seq, e."entry_id", e."kind", e."reference_id", e."correlation_id", e."booked_at", l."account", l."asset", l."bucket", l."amount"::text AS amount
       FROM page p JOIN "journal_entry" e ON e."entry_id" = p."entry_id" JOIN "journal_line" l ON l."entry_id" = e."entry_id"
       WHERE l."account" = $1 AND ($2 = '' OR l."asset" = $2)
       ORDER BY e."seq", l."line_no"`,
      [account, asset, afterSequence.toString(), entries],
    )) as { seq: string; entry_id: string; kind: EntryKind; reference_id: string; correlation_id: string; booked_at: Date; account: string; asset: string; bucket: Bucket; amount: string }[];
    return rows.map((r) => ({
      sequence: BigInt(r.seq),
      entryId: r.entry_id,
      kind: r.kind,
      referenceId: r.reference_id,
      correlationId: r.correlation_id,
      bookedAt: r.booked_at,
      account: r.account,
      asset: r.asset,
      bucket: r.bucket,
      amount: BigInt(r.amount),
    }));
  }

  /** Fail closed at boot: privileges the runtime role must not hold on the books (empty = fine). */
  async excessPrivileges(): Promise<string[]> {
    const checks = [
      ['journal_entry', 'UPDATE'],
      ['journal_entry', 'DELETE'],
      ['journal_entry', 'TRUNCATE'],
      ['journal_line', 'UPDATE'],
      ['journal_line', 'DELETE'],
      ['journal_line', 'TRUNCATE'],
      ['ledger_balance', 'INSERT'],
      ['ledger_balance', 'UPDATE'],
      ['ledger_balance', 'DELETE'],
      ['ledger_balance', 'TRUNCATE'],
    ] as const;
    const rows = (await this.dataSource.query(
      `SELECT t.tbl, t.priv FROM unnest($1::text[], $2::text[]) AS t(tbl, priv) WHERE has_table_privilege(current_user, t.tbl, t.priv)`,
      [checks.map((c) => c[0]), checks.map((c) => c[1])],
    )) as { tbl: string; priv: string }[];
    return rows.map((r) => `${r.priv} on ${r.tbl}`);
  }

  /** Balances of an account (or all), as stored. */
  async balances(account?: string): Promise<{ account: string; asset: string; available: bigint; held: bigint }[]> {
    const rows = (await this.dataSource.query(
      `SELECT "account", "asset", "available"::text AS available, "held"::text AS held FROM "ledger_balance" ${account ? 'WHERE "account" = $1' : ''} ORDER BY "account", "asset"`,
      account ? [account] : [],
    )) as { account: string; asset: string; available: string; held: string }[];
    return rows.map((r) => ({ account: r.account, asset: r.asset, available: BigInt(r.available), held: BigInt(r.held) }));
  }
}
