/**
 * Announced maintenance windows (9.4): intake publishes each window on
 * custody.maintenance.scheduled.v1, keyed by maintenance id; a cancellation repeats the whole
 * window with `cancelled = true`. The latest record per id is the window's state.
 *
 * "Latest" is decided here, once, for the store and the tests: a record replaces the one
 * kept for its id only if it is newer by event time (the envelope's occurredAt: announcedAt,
 * or cancelledAt for a cancellation); at the same time a cancellation is the later one (it
 * can only follow its announcement). An older record arriving late, or a redelivery, changes
 * nothing: it can neither bring a cancelled window back nor cancel a newer state.
 *
 * The windows reach the policy as `input.maintenance_windows`; the Rego
 * (policies/custody/freezes/maintenance.rego) freezes on them as well as on the bundle's own
 * windows, and a cancellation drops only its own window.
 */
import { toCanonicalTimestamp } from './timestamp.js';

export interface MaintenanceRecord {
  readonly maintenanceId: string;
  /** Empty assets and chains: every asset. */
  readonly chains: readonly string[];
  readonly assets: readonly string[];
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly withdrawalsSuspended: boolean;
  readonly depositsDelayed: boolean;
  readonly cancelled: boolean;
  readonly cancelledAt: Date | undefined;
  readonly cancelledBy: string;
  readonly announcedBy: string;
  /** The event that carried this state (envelope id) and when it happened (envelope occurredAt). */
  readonly eventId: string;
  readonly occurredAt: Date;
}

/** Whether `incoming` is a newer state of the window than `current` (none kept: always). */
export function supersedes(incoming: MaintenanceRecord, current: MaintenanceRecord | undefined): boolean {
  if (!current) return true;
  if (incoming.maintenanceId !== current.maintenanceId) throw new TypeError('records of different maintenance windows');
  const a = incoming.occurredAt.getTime();
  const b = current.occurredAt.getTime();
  if (a !== b) return a > b;
  return incoming.cancelled && !current.cancelled;
}

/** The latest record per maintenance id, whatever the order the records arrive in. */
export function latestPerWindow(records: Iterable<MaintenanceRecord>): ReadonlyMap<string, MaintenanceRecord> {
  const latest = new Map<string, MaintenanceRecord>();
  for (const r of records) if (supersedes(r, latest.get(r.maintenanceId))) latest.set(r.maintenanceId, r);
  return latest;
}

/** One entry of input.maintenance_windows (docs/policies.md "Input"). */
export interface MaintenanceWindowInput {
  readonly id: string;
  readonly start: string;
  readonly end: string;
  readonly assets: readonly string[];
  readonly chains: readonly string[];
  readonly withdrawals_suspended: boolean;
  readonly cancelled: boolean;
}

/**
 * The windows as the policy reads them: those not yet ended at `now` (cancelled ones too,
 * marked, so the stored input shows why a window no longer freezes), sorted by id.
 */
export function maintenanceWindowsInput(windows: Iterable<MaintenanceRecord>, now: Date): readonly MaintenanceWindowInput[] {
  return [...windows]
    .filter((w) => w.endsAt.getTime() > now.getTime())
    .sort((x, y) => (x.maintenanceId < y.maintenanceId ? -1 : x.maintenanceId > y.maintenanceId ? 1 : 0))
    .map((w) =>
      Object.freeze({
        id: w.maintenanceId,
        start: toCanonicalTimestamp(w.startsAt),
        // Second precision: the start rounds down and the end up (a window never shrinks).
        end: toCanonicalTimestamp(new Date(Math.ceil(w.endsAt.getTime() / 1000) * 1000)),
        assets: [...w.assets],
        chains: [...w.chains],
        withdrawals_suspended: w.withdrawalsSuspended,
        cancelled: w.cancelled,
      }),
    );
}
