// Postgres adapter of the TreasuryStore port (application/treasury.ts): treasury transfers
// (closed as final = settling until `booked_at`, the ledger's confirmation),
// the hot-wallet state per asset, and custody.incident.raised.v1 through the outbox (same
// transaction as the state change).
import { createHash } from 'node:crypto';
import { IncidentRaised, IncidentSeverity, Topics, encodeEvent, partitionKeyOf, timestampFromDate, topicVersion } from '@custody/contracts';
import { createEnvelope, enqueue } from '@custody/event-bus';
import type { EntityManager } from 'typeorm';
import type { TreasuryIncident, TreasuryStore, TreasuryTransferRecord } from '../../application/treasury.js';
import type { Tx } from '../../application/ports.js';
import type { HotWalletState, TransferDirection } from '../../domain/treasury.js';
import { NO_BREACH } from '../../domain/treasury.js';
import { PRODUCER, type TopicNamer } from '../events.js';

const m = (tx: Tx): EntityManager => tx as EntityManager;

function lockKey(asset: string): string {
  return createHash('sha256').update(`treasury:${asset}`).digest().readBigInt64BE(0).toString();
}

interface TransferRow {
  transfer_id: string;
  decision_id: string;
  asset: string;
  direction: string;
  status: string;
  amount: string;
  source_wallet: string;
  destination_wallet: string;
  destination_address: string;
  requested_by: string;
  opened_at: Date;
  close_reason: string;
}

const changed = (rows: unknown): boolean => ((rows as { n: number }[])[0]?.n ?? 0) > 0;

const COLUMNS = `"transfer_id", "decision_id", "asset", "direction", "status", "amount"::text AS "amount", "source_wallet", "destination_wallet", "destination_address", "requested_by", "opened_at", "close_reason"`;

const toRecord = (r: TransferRow): TreasuryTransferRecord => ({
  transferId: r.transfer_id,
  decisionId: r.decision_id,
  asset: r.asset,
  direction: r.direction as TransferDirection,
  status: r.status === 'open' ? 'open' : 'closed',
  amount: BigInt(r.amount),
  sourceWallet: r.source_wallet,
  destinationWallet: r.destination_wallet,
  destinationAddress: r.destination_address,
  requestedBy: r.requested_by,
  openedAt: r.opened_at,
  closeReason: r.close_reason,
});

export class PostgresTreasuryStore implements TreasuryStore {
  constructor(private readonly topicName: TopicNamer) {}

  async lockAsset(tx: Tx, asset: string): Promise<void> {
    await m(tx).query(`SELECT pg_advisory_xact_lock($1::bigint)`, [lockKey(asset)]);
  }

  async hotState(tx: Tx, asset: string): Promise<HotWalletState> {
    const [row] = (await m(tx).query(`SELECT "breach_since", "paused" FROM "treasury_hot_wallet" WHERE "asset" = $1`, [asset])) as { breach_since: Date | null; paused: boolean }[];
    return row ? { breachSince: row.breach_since ?? undefined, paused: row.paused } : NO_BREACH;
  }

  async saveHotState(tx: Tx, asset: string, state: HotWalletState, hot: bigint, cap: bigint, now: Date): Promise<void> {
    await m(tx).query(
      `INSERT INTO "treasury_hot_wallet" ("asset", "breach_since", "paused", "paused_since", "last_hot", "cap", "updated_at")
       VALUES ($1, $2, $3, CASE WHEN $3 THEN $6::timestamptz END, $4, $5, $6)
       ON CONFLICT ("asset") DO UPDATE SET "breach_since" = EXCLUDED."breach_since", "paused" = EXCLUDED."paused",
         "paused_since" = CASE WHEN EXCLUDED."paused" THEN COALESCE("treasury_hot_wallet"."paused_since", EXCLUDED."paused_since") END,
         "last_hot" = EXCLUDED."last_hot", "cap" = EXCLUDED."cap", "updated_at" = EXCLUDED."updated_at"`,
      [asset, state.breachSince ?? null, state.paused, hot.toString(), cap.toString(), now],
    );
  }

  async hotPause(tx: Tx, asset: string): Promise<{ readonly since: Date } | undefined> {
    const [row] = (await m(tx).query(`SELECT "paused_since" FROM "treasury_hot_wallet" WHERE "asset" = $1 AND "paused"`, [asset])) as { paused_since: Date | null }[];
    return row ? { since: row.paused_since ?? new Date(0) } : undefined;
  }

  async openTransfers(tx: Tx, asset: string): Promise<readonly TreasuryTransferRecord[]> {
    const rows = (await m(tx).query(`SELECT ${COLUMNS} FROM "treasury_transfer" WHERE "asset" = $1 AND "status" = 'open' ORDER BY "opened_at"`, [asset])) as TransferRow[];
    return rows.map(toRecord);
  }

  async settlingTransfers(tx: Tx, asset: string): Promise<readonly TreasuryTransferRecord[]> {
    const rows = (await m(tx).query(`SELECT ${COLUMNS} FROM "treasury_transfer" WHERE "asset" = $1 AND "status" = 'closed' AND "close_reason" = 'final' AND "booked_at" IS NULL ORDER BY "opened_at"`, [asset])) as TransferRow[];
    return rows.map(toRecord);
  }

  async markBooked(tx: Tx, transferId: string, now: Date): Promise<boolean> {
    return changed(await m(tx).query(`WITH u AS (UPDATE "treasury_transfer" SET "booked_at" = $2 WHERE "transfer_id" = $1 AND "status" = 'closed' AND "close_reason" = 'final' AND "booked_at" IS NULL RETURNING 1) SELECT count(*)::int AS n FROM u`, [transferId, now]));
  }

  async transfer(tx: Tx, transferId: string): Promise<TreasuryTransferRecord | undefined> {
    const [row] = (await m(tx).query(`SELECT ${COLUMNS} FROM "treasury_transfer" WHERE "transfer_id" = $1`, [transferId])) as TransferRow[];
    return row ? toRecord(row) : undefined;
  }

  async insertTransfer(tx: Tx, t: TreasuryTransferRecord): Promise<void> {
    await m(tx).query(
      `INSERT INTO "treasury_transfer" ("transfer_id", "decision_id", "asset", "direction", "status", "amount", "source_wallet", "destination_wallet", "destination_address", "requested_by", "opened_at", "closed_at", "close_reason")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,NULL,$12)`,
      [t.transferId, t.decisionId, t.asset, t.direction, t.status, t.amount.toString(), t.sourceWallet, t.destinationWallet, t.destinationAddress, t.requestedBy, t.openedAt, t.closeReason],
    );
  }

  async closeTransfer(tx: Tx, transferId: string, reason: string, now: Date): Promise<boolean> {
    return changed(await m(tx).query(`WITH u AS (UPDATE "treasury_transfer" SET "status" = 'closed', "closed_at" = $2, "close_reason" = $3 WHERE "transfer_id" = $1 AND "status" = 'open' RETURNING 1) SELECT count(*)::int AS n FROM u`, [transferId, now, reason]));
  }

  async reopenTransfer(tx: Tx, transferId: string, _now: Date): Promise<boolean> {
    // Fails on the unique index if another transfer of that direction was opened meanwhile: the bus retries, then dead-letters (visible).
    return changed(await m(tx).query(`WITH u AS (UPDATE "treasury_transfer" SET "status" = 'open', "closed_at" = NULL, "close_reason" = '', "booked_at" = NULL WHERE "transfer_id" = $1 AND "status" = 'closed' AND "close_reason" = 'final' RETURNING 1) SELECT count(*)::int AS n FROM u`, [transferId]));
  }

  async publishIncident(tx: Tx, incident: TreasuryIncident): Promise<void> {
    const message = IncidentRaised.fromPartial({
      incidentId: incident.incidentId,
      source: PRODUCER,
      kind: 'HOT_WALLET_CAP_BREACH',
      severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL,
      chain: incident.chain,
      asset: incident.asset,
      wallet: incident.wallet,
      detail: incident.detail,
      evidenceJson: JSON.stringify(incident.evidence),
      raisedAt: timestampFromDate(incident.raisedAt),
    });
    const type = Topics.incidentRaised;
    const envelope = createEnvelope({
      type,
      key: partitionKeyOf(type, message),
      correlationId: incident.incidentId,
      producer: PRODUCER,
      schemaVersion: topicVersion(type),
      payload: encodeEvent(type, message),
      occurredAt: incident.raisedAt,
    });
    await enqueue(m(tx), [{ topic: this.topicName(type), envelope }]);
  }
}
