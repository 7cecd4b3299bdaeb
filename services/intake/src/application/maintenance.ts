// 9.4 maintenance notices: operators schedule windows (minimum advance notice, published
// as maintenance.scheduled events); GetServiceStatus shows them with per-asset status.
import { randomUUID } from 'node:crypto';
import type { AssetRegistry } from '../domain/asset-registry.js';
import { activeWithdrawalSuspension, coversAsset, isActive, validateMaintenance, type MaintenanceWindow, type MaintenanceWindowSpec } from '../domain/maintenance.js';
import type { Clock, MaintenanceStore } from './ports.js';

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

export class MaintenanceUseCases {
  constructor(
    private readonly deps: {
      readonly store: MaintenanceStore;
      readonly registry: AssetRegistry;
      readonly clock: Clock;
      readonly minNoticeMs: number;
      readonly newId?: () => string;
    },
  ) {}

  async schedule(spec: MaintenanceWindowSpec, correlationId: string): Promise<MaintenanceWindow> {
    const now = this.deps.clock.now();
    const assets = this.deps.registry.list();
    validateMaintenance(spec, now, this.deps.minNoticeMs, new Set(assets.map((a) => a.id)), new Set(assets.map((a) => a.chain)));
    const window: MaintenanceWindow = { ...spec, id: (this.deps.newId ?? randomUUID)(), announcedAt: now };
    await this.deps.store.create(window, correlationId);
    return window;
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
