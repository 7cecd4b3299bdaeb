// Postgres store of the announced maintenance windows: one row per maintenance id, its latest
// state. The comparison is domain/maintenance.ts `supersedes`, under a per-id advisory lock.
import { createHash } from 'node:crypto';
import type { EntityManager } from 'typeorm';
import type { MaintenanceWindowStore } from '../../application/maintenance.js';
import type { Tx } from '../../application/ports.js';
import { supersedes, type MaintenanceRecord } from '../../domain/maintenance.js';

const m = (tx: Tx): EntityManager => tx as EntityManager;

interface Row {
  maintenance_id: string;
  chains: string[];
  assets: string[];
  starts_at: Date;
  ends_at: Date;
  withdrawals_suspended: boolean;
  deposits_delayed: boolean;
  cancelled: boolean;
  cancelled_at: Date | null;
  cancelled_by: string;
  announced_by: string;
  event_id: string;
  occurred_at: Date;
}

function toRecord(r: Row): MaintenanceRecord {
  return Object.freeze({
    maintenanceId: r.maintenance_id,
    chains: r.chains,
    assets: r.assets,
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    withdrawalsSuspended: r.withdrawals_suspended,
    depositsDelayed: r.deposits_delayed,
    cancelled: r.cancelled,
    cancelledAt: r.cancelled_at ?? undefined,
    cancelledBy: r.cancelled_by,
    announcedBy: r.announced_by,
    eventId: r.event_id,
    occurredAt: r.occurred_at,
  });
}

function lockKey(maintenanceId: string): string {
  return createHash('sha256').update(`maintenance:${maintenanceId}`).digest().readBigInt64BE(0).toString();
}

export class PostgresMaintenanceStore implements MaintenanceWindowStore {
  async apply(tx: Tx, record: MaintenanceRecord): Promise<'applied' | 'stale'> {
    await m(tx).query(`SELECT pg_advisory_xact_lock($1::bigint)`, [lockKey(record.maintenanceId)]);
    const [current] = (await m(tx).query(`SELECT * FROM "maintenance_window" WHERE "maintenance_id" = $1`, [record.maintenanceId])) as Row[];
    if (!supersedes(record, current ? toRecord(current) : undefined)) return 'stale';
    await m(tx).query(
      `INSERT INTO "maintenance_window" ("maintenance_id", "chains", "assets", "starts_at", "ends_at", "withdrawals_suspended", "deposits_delayed", "cancelled",
         "cancelled_at", "cancelled_by", "announced_by", "event_id", "occurred_at", "updated_at")
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13, now())
       ON CONFLICT ("maintenance_id") DO UPDATE SET "chains" = EXCLUDED."chains", "assets" = EXCLUDED."assets", "starts_at" = EXCLUDED."starts_at",
         "ends_at" = EXCLUDED."ends_at", "withdrawals_suspended" = EXCLUDED."withdrawals_suspended", "deposits_delayed" = EXCLUDED."deposits_delayed",
         "cancelled" = EXCLUDED."cancelled", "cancelled_at" = EXCLUDED."cancelled_at", "cancelled_by" = EXCLUDED."cancelled_by",
         "announced_by" = EXCLUDED."announced_by", "event_id" = EXCLUDED."event_id", "occurred_at" = EXCLUDED."occurred_at", "updated_at" = now()`,
      [
        record.maintenanceId,
        [...record.chains],
        [...record.assets],
        record.startsAt,
        record.endsAt,
        record.withdrawalsSuspended,
        record.depositsDelayed,
        record.cancelled,
        record.cancelledAt ?? null,
        record.cancelledBy,
        record.announcedBy,
        record.eventId,
        record.occurredAt,
      ],
    );
    return 'applied';
  }

  async windowsAt(tx: Tx, now: Date): Promise<readonly MaintenanceRecord[]> {
    const rows = (await m(tx).query(`SELECT * FROM "maintenance_window" WHERE "ends_at" > $1 ORDER BY "maintenance_id"`, [now])) as Row[];
    return rows.map(toRecord);
  }
}
