/**
 * Announced maintenance windows (custody.maintenance.scheduled.v1) kept as a table, latest
 * state per maintenance id (domain/maintenance.ts `supersedes`), and read into every policy
 * input. Fail closed: a table that cannot be read fails the decision (the event is retried,
 * then dead-lettered); it is never read as "no window".
 */
import type { MaintenanceRecord } from '../domain/maintenance.js';
import type { Tx } from './ports.js';

export interface MaintenanceWindowStore {
  /**
   * Keeps `record` if it is newer than the state kept for its id (locked for the
   * transaction, so two writers of one id cannot both win). 'stale': an older or equal record.
   */
  apply(tx: Tx, record: MaintenanceRecord): Promise<'applied' | 'stale'>;
  /** Latest state of every window not ended at `now` (cancelled ones included). Throws if it cannot read. */
  windowsAt(tx: Tx, now: Date): Promise<readonly MaintenanceRecord[]>;
}

export class MaintenanceService {
  constructor(private readonly store: MaintenanceWindowStore) {}

  /** One record of custody.maintenance.scheduled.v1 (inside the inbox transaction). */
  async onScheduled(tx: Tx, record: MaintenanceRecord): Promise<string> {
    const result = await this.store.apply(tx, record);
    if (result === 'stale') return 'maintenance-stale';
    return record.cancelled ? 'maintenance-cancelled' : 'maintenance-scheduled';
  }
}
