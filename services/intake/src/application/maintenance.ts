// 9.4 maintenance notices: operators schedule windows (minimum advance notice, published
// as maintenance.scheduled events); GetServiceStatus shows them with per-asset status.
import { randomUUID } from 'node:crypto';
import type { OperatorAuditGate } from '@custody/platform';
import type { AssetRegistry } from '../domain/asset-registry.js';
import { activeWithdrawalSuspension, coversAsset, isActive, validateMaintenance, type MaintenanceWindow, type MaintenanceWindowSpec } from '../domain/maintenance.js';
import { InvalidArgumentError, NotFoundError, PreconditionError } from '../domain/errors.js';
import { auditAdminAction } from './admin-audit.js';
import type { OperatorActor } from './operator-auth.js';
import type { AdminRecord, Clock, MaintenanceStore } from './ports.js';

export interface AssetAvailability {
  readonly asset: string;
  readonly chain: string;
  readonly withdrawalsEnabled: boolean;
  readonly depositsEnabled: boolean;
  readonly reasonCode: string;
}

export interface ServiceStatus {
  readonly assets: readonly AssetAvailability[];
  readonly maintenance: readonly MaintenanceWindow[];
}

export type MaintenanceNoticeState = 'upcoming' | 'active' | 'ended' | 'cancelled';

export interface MaintenanceNoticeList {
  readonly notices: readonly { readonly window: MaintenanceWindow; readonly state: MaintenanceNoticeState }[];
  readonly truncated: boolean;
}

/** A window's state at `now`: cancelled wins; otherwise by its start and end. */
export function noticeState(w: MaintenanceWindow, now: Date): MaintenanceNoticeState {
  if (w.cancelledAt !== undefined) return 'cancelled';
  if (w.endsAt <= now) return 'ended';
  return w.startsAt <= now ? 'active' : 'upcoming';
}

export class MaintenanceUseCases {
  constructor(
    private readonly deps: {
      readonly store: MaintenanceStore;
      readonly registry: AssetRegistry;
      readonly clock: Clock;
      readonly minNoticeMs: number;
      readonly newId?: () => string;
      /** Operator actions are recorded in audit first (fail closed); absent: unaudited (dev/test compositions). */
      readonly audit?: OperatorAuditGate;
    },
  ) {}

  /**
   * @param actor the authenticated operator (admin API); absent for bootstrap calls on the
   *   startIntake handle. With an actor, announced_by is the operator, never a request field.
   */
  async schedule(spec: MaintenanceWindowSpec, correlationId: string, actor?: OperatorActor): Promise<MaintenanceWindow> {
    const now = this.deps.clock.now();
    const assets = this.deps.registry.list();
    const effective = actor ? { ...spec, announcedBy: actor.operatorId } : spec;
    validateMaintenance(effective, now, this.deps.minNoticeMs, new Set(assets.map((a) => a.id)), new Set(assets.map((a) => a.chain)));
    const window: MaintenanceWindow = { ...effective, id: (this.deps.newId ?? randomUUID)(), announcedAt: now };
    const record = actor ? this.record('SCHEDULE_MAINTENANCE', window.id, actor, correlationId, now) : undefined;
    if (record) await auditAdminAction(this.deps.audit, record);
    await this.deps.store.create(window, correlationId, record);
    return window;
  }

  /**
   * Cancels a window that has not ended (it may be running: cancelling only gives service
   * back, so no notice applies). Published again with cancelled = true.
   */
  async cancel(actor: OperatorActor, input: { readonly maintenanceId: string; readonly reason: string }, correlationId: string): Promise<MaintenanceWindow> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(input.maintenanceId)) {
      throw new InvalidArgumentError('maintenance_id', 'MAINTENANCE_ID_MALFORMED', 'must be the id returned by ScheduleMaintenance');
    }
    if (input.reason.length > 500) throw new InvalidArgumentError('reason', 'REASON_TOO_LONG', 'at most 500 characters');
    const window = await this.deps.store.get(input.maintenanceId);
    if (!window) throw new NotFoundError('MAINTENANCE_NOT_FOUND', 'no maintenance window with this id');
    if (window.cancelledAt !== undefined) throw new PreconditionError('MAINTENANCE_ALREADY_CANCELLED', 'this window was already cancelled');
    const now = this.deps.clock.now();
    if (window.endsAt <= now) throw new PreconditionError('MAINTENANCE_ENDED', 'this window has already ended');
    const record = this.record('CANCEL_MAINTENANCE', window.id, actor, correlationId, now, input.reason);
    await auditAdminAction(this.deps.audit, record);
    const cancelled = await this.deps.store.cancel(window.id, now, actor.operatorId, correlationId, record);
    if (!cancelled) throw new PreconditionError('MAINTENANCE_ALREADY_CANCELLED', 'this window was already cancelled');
    return { ...window, cancelledAt: now, cancelledBy: actor.operatorId };
  }

  private record(action: AdminRecord['action'], target: string, actor: OperatorActor, correlationId: string, at: Date, reason?: string): AdminRecord {
    return { id: randomUUID(), action, target, actor, correlationId, at, ...(reason ? { reason } : {}) };
  }

  /**
   * The operators' listing (ListMaintenanceNotices, read-only): by default the windows that
   * have not ended and were not cancelled; earliest start first. `truncated` when more matched
   * than `limit` (the latest-starting ones are kept).
   */
  async listNotices(query: { readonly includeEnded: boolean; readonly includeCancelled: boolean; readonly limit: number }): Promise<MaintenanceNoticeList> {
    const limit = query.limit === 0 ? 100 : query.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new InvalidArgumentError('limit', 'LIMIT_OUT_OF_RANGE', 'must be 0 (= 100) to 1000');
    const now = this.deps.clock.now();
    const rows = await this.deps.store.listNotices({ now, includeEnded: query.includeEnded, includeCancelled: query.includeCancelled, limit: limit + 1 });
    const kept = rows.slice(0, limit);
    return {
      notices: [...kept].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime() || a.id.localeCompare(b.id)).map((window) => ({ window, state: noticeState(window, now) })),
      truncated: rows.length > limit,
    };
  }

  async status(): Promise<ServiceStatus> {
    const now = this.deps.clock.now();
    const windows = await this.deps.store.listCurrentAndUpcoming(now);
    const assets = this.deps.registry.list().map((asset): AssetAvailability => {
      const suspended = activeWithdrawalSuspension(windows, asset, now);
      const depositsDelayed = windows.some((w) => w.depositsDelayed && isActive(w, now) && coversAsset(w, asset));
      return {
        asset: asset.id,
        chain: asset.chain,
        withdrawalsEnabled: suspended === undefined,
        depositsEnabled: !depositsDelayed,
        reasonCode: suspended || depositsDelayed ? 'MAINTENANCE' : '',
      };
    });
    return { assets, maintenance: [...windows].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime()) };
  }
}
