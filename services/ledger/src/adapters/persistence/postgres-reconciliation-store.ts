// ReconciliationStore on Postgres: the books' side read in ONE snapshot (REPEATABLE READ,
// read only), and each run stored with its evidence; an incident is enqueued in the outbox
// in the same transaction as its run (custody.incident.raised.v1).
import { IncidentRaised, IncidentSeverity, Topics, encodeEvent, partitionKeyOf, timestampFromDate, topicVersion, type Topic } from '@custody/contracts';
import { createEnvelope, enqueue } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { IncidentToRaise, ReconciliationRun, ReconciliationStore, RunOutcome } from '../../application/reconciliation.js';
import type { LedgerDepositState, LedgerPosition, LedgerWithdrawalState } from '../../domain/reconciliation.js';
import { walletOfAccount } from '../../domain/postings.js';

export type TopicNamer = (topic: Topic) => string;

export class PostgresReconciliationStore implements ReconciliationStore {
  constructor(
    private readonly dataSource: DataSource,
    private readonly topicName: TopicNamer = (t) => t,
  ) {}

  async heldWithdrawalIds(asset: string, limit: number): Promise<string[]> {
    const rows = (await this.dataSource.query(`SELECT "withdrawal_id" FROM "ledger_withdrawal" WHERE "asset" = $1 AND "state" = 'HELD' ORDER BY "withdrawal_id" LIMIT $2`, [asset, limit])) as {
      withdrawal_id: string;
    }[];
    return rows.map((r) => r.withdrawal_id);
  }

  async recentlySettledIds(asset: string, limit: number): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = (await this.dataSource.query(
      `SELECT s."id" FROM (
         SELECT w."withdrawal_id" AS id, w."settle_entry_id" AS entry_id FROM "ledger_withdrawal" w WHERE w."asset" = $1 AND w."state" = 'SETTLED' AND w."settle_entry_id" IS NOT NULL
         UNION ALL
         SELECT t."transfer_id", t."settle_entry_id" FROM "ledger_transfer" t WHERE t."asset" = $1 AND t."state" = 'SETTLED' AND t."settle_entry_id" IS NOT NULL
       ) s JOIN "journal_entry" e ON e."entry_id" = s."entry_id"
       ORDER BY e."seq" DESC LIMIT $2`,
      [asset, limit],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  async position(asset: string, withdrawalIds: readonly string[], depositIds: readonly string[]): Promise<LedgerPosition> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query('SET TRANSACTION READ ONLY');
      // Every custodial account of the asset: the legacy omnibus custodian:<asset> and custodian:<asset>:<wallet>.
      const balances = (await runner.query(
        `SELECT "account", "available"::text AS available FROM "ledger_balance" WHERE "asset" = $1 AND ("account" = 'custodian:' || $1 OR starts_with("account", 'custodian:' || $1 || ':'))`,
        [asset],
      )) as { account: string; available: string }[];
      const ws = (await runner.query(`SELECT "withdrawal_id", "state" FROM "ledger_withdrawal" WHERE "withdrawal_id" = ANY($1::text[])`, [[...withdrawalIds]])) as {
        withdrawal_id: string;
        state: LedgerWithdrawalState;
      }[];
      // Settled treasury transfers count as settled withdrawals (the chain-adapter reports both by id).
      const ts = (await runner.query(`SELECT "transfer_id" FROM "ledger_transfer" WHERE "transfer_id" = ANY($1::text[]) AND "state" = 'SETTLED'`, [[...withdrawalIds]])) as { transfer_id: string }[];
      // What each settlement entry did to the asset's custodial accounts (same snapshot).
      const lines = (await runner.query(
        `SELECT s."id", l."account", SUM(l."amount")::text AS amount FROM (
           SELECT "withdrawal_id" AS id, "settle_entry_id" AS entry_id FROM "ledger_withdrawal" WHERE "withdrawal_id" = ANY($1::text[]) AND "state" = 'SETTLED'
           UNION ALL
           SELECT "transfer_id", "settle_entry_id" FROM "ledger_transfer" WHERE "transfer_id" = ANY($1::text[]) AND "state" = 'SETTLED'
         ) s JOIN "journal_line" l ON l."entry_id" = s."entry_id"
         WHERE l."asset" = $2 AND l."bucket" = 'available' AND (l."account" = 'custodian:' || $2 OR starts_with(l."account", 'custodian:' || $2 || ':'))
         GROUP BY s."id", l."account"`,
        [[...withdrawalIds], asset],
      )) as { id: string; account: string; amount: string }[];
      const ds = (await runner.query(`SELECT "deposit_id", "state" FROM "ledger_deposit" WHERE "deposit_id" = ANY($1::text[])`, [[...depositIds]])) as { deposit_id: string; state: LedgerDepositState }[];
      await runner.commitTransaction();
      return {
        asset,
        custodianBalance: balances.reduce((sum, b) => sum + BigInt(b.available), 0n),
        walletBalances: new Map(balances.flatMap((b) => {
          const wallet = walletOfAccount(b.account, asset);
          return wallet === undefined ? [] : [[wallet, BigInt(b.available)] as const];
        })),
        withdrawals: new Map([...ws.map((w) => [w.withdrawal_id, w.state] as const), ...ts.map((t) => [t.transfer_id, 'SETTLED' as const] as const)]),
        settlements: settlementsOf(lines, asset),
        deposits: new Map(ds.map((d) => [d.deposit_id, d.state])),
      };
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  async lastComparedRun(asset: string): Promise<{ outcome: RunOutcome; unexplained: bigint; driftKey: string; incidentId: string } | undefined> {
    const rows = (await this.dataSource.query(
      `SELECT "outcome", "unexplained"::text AS unexplained, "drift_key", "incident_id" FROM "ledger_reconciliation_run" WHERE "asset" = $1 AND "outcome" <> 'FAILED' ORDER BY "seq" DESC LIMIT 1`,
      [asset],
    )) as { outcome: RunOutcome; unexplained: string; drift_key: string; incident_id: string }[];
    const r = rows[0];
    return r ? { outcome: r.outcome, unexplained: BigInt(r.unexplained), driftKey: r.drift_key, incidentId: r.incident_id } : undefined;
  }

  async recordRun(run: ReconciliationRun, incident?: IncidentToRaise): Promise<void> {
    const c = run.classification;
    const n = (v: bigint | undefined): string | null => (v === undefined ? null : v.toString());
    await this.dataSource.transaction(async (manager) => {
      await manager.query(
        `INSERT INTO "ledger_reconciliation_run" ("run_id", "asset", "chain", "outcome", "started_at", "finished_at", "block_height", "block_hash",
           "ledger_balance", "chain_balance", "in_flight", "fees", "pending_deposits", "unexplained", "evidence", "failure_reason", "incident_id", "mismatched_wallets", "drift_key")
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15::jsonb, $16, $17, $18, $19)`,
        [
          run.runId,
          run.asset,
          run.chain,
          run.outcome,
          run.startedAt,
          run.finishedAt,
          n(run.blockHeight),
          run.blockHash ?? null,
          n(c?.ledgerBalance),
          n(c?.chainBalance),
          n(c?.inFlight),
          n(c?.fees),
          n(c?.pendingDeposits),
          n(c?.unexplained),
          JSON.stringify(run.evidence),
          run.failureReason,
          run.incidentId,
          c ? c.mismatchedWallets : null,
          c?.driftKey ?? '',
        ],
      );
      if (incident) {
        const message = IncidentRaised.fromPartial({
          incidentId: incident.incidentId,
          source: 'ledger',
          kind: 'RECONCILIATION_DRIFT',
          severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL,
          chain: incident.chain,
          asset: incident.asset,
          wallet: incident.wallet,
          detail: incident.detail,
          evidenceJson: JSON.stringify(incident.evidence),
          raisedAt: timestampFromDate(incident.raisedAt),
        });
        const envelope = createEnvelope({
          type: Topics.incidentRaised,
          key: partitionKeyOf(Topics.incidentRaised, message),
          correlationId: run.runId,
          producer: 'ledger',
          schemaVersion: topicVersion(Topics.incidentRaised),
          payload: encodeEvent(Topics.incidentRaised, message),
        });
        await enqueue(manager, [{ topic: this.topicName(Topics.incidentRaised), envelope }]);
      }
    });
  }

  /** Stored runs of an asset, newest first (tests, operators). */
  async runs(asset: string, limit = 50): Promise<StoredRun[]> {
    const rows = (await this.dataSource.query(
      `SELECT "run_id", "asset", "chain", "outcome", "started_at", "block_height"::text AS block_height, "block_hash", "ledger_balance"::text AS ledger_balance,
              "chain_balance"::text AS chain_balance, "in_flight"::text AS in_flight, "fees"::text AS fees, "pending_deposits"::text AS pending_deposits,
              "unexplained"::text AS unexplained, "mismatched_wallets", "evidence", "failure_reason", "incident_id"
       FROM "ledger_reconciliation_run" WHERE "asset" = $1 ORDER BY "seq" DESC LIMIT $2`,
      [asset, limit],
    )) as StoredRun[];
    return rows;
  }
}

/** A stored run as read back (amounts as decimal strings, null when not compared). */
export interface StoredRun {
  readonly run_id: string;
  readonly asset: string;
  readonly chain: string;
  readonly outcome: RunOutcome;
  readonly started_at: Date;
  readonly block_height: string | null;
  readonly block_hash: string | null;
  readonly ledger_balance: string | null;
  readonly chain_balance: string | null;
  readonly in_flight: string | null;
  readonly fees: string | null;
  readonly pending_deposits: string | null;
  readonly unexplained: string | null;
  readonly mismatched_wallets: number | null;
  readonly evidence: Record<string, unknown>;
  readonly failure_reason: string;
  readonly incident_id: string;
}

/** Settlement lines by id, then by wallet id ('' = the legacy omnibus custodian:<asset>), debit-positive. */
function settlementsOf(rows: readonly { id: string; account: string; amount: string }[], asset: string): Map<string, Map<string, bigint>> {
  const out = new Map<string, Map<string, bigint>>();
  for (const r of rows) {
    const byWallet = out.get(r.id) ?? new Map<string, bigint>();
    const wallet = walletOfAccount(r.account, asset) ?? '';
    byWallet.set(wallet, (byWallet.get(wallet) ?? 0n) + BigInt(r.amount));
    out.set(r.id, byWallet);
  }
  return out;
}
