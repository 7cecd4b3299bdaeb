// 9.4: announced maintenance windows. Operators schedule them at least `minNoticeMs`
// ahead; while one covers an asset (by asset id or chain), new withdrawals for it are
// refused with the window's id and when to retry.
import { InvalidMaintenanceError } from './errors.js';

export interface MaintenanceWindowSpec {
  readonly chains: readonly string[];
  readonly assets: readonly string[];
  readonly startsAt: Date;
  readonly endsAt: Date;
  readonly withdrawalsSuspended: boolean;
  readonly depositsDelayed: boolean;
  readonly description: string;
  readonly announcedBy: string;
}

export interface MaintenanceWindow extends MaintenanceWindowSpec {
  readonly id: string;
  readonly announcedAt: Date;
}

export function validateMaintenance(spec: MaintenanceWindowSpec, now: Date, minNoticeMs: number, knownAssets: ReadonlySet<string>, knownChains: ReadonlySet<string>): void {
  const bad = (code: string, message: string): never => {
    throw new InvalidMaintenanceError(code, message);
  };
  if (Number.isNaN(spec.startsAt.getTime()) || Number.isNaN(spec.endsAt.getTime())) bad('MAINTENANCE_TIME_INVALID', 'starts_at and ends_at must be valid times');
  if (spec.endsAt <= spec.startsAt) bad('MAINTENANCE_TIME_INVALID', 'ends_at must be after starts_at');
  const notice = spec.startsAt.getTime() - now.getTime();
  if (notice < minNoticeMs) {
    bad('MAINTENANCE_NOTICE_TOO_SHORT', `maintenance must be announced at least ${Math.round(minNoticeMs / 60_000)} minutes before it starts`);
  }
  if (spec.announcedBy.trim().length === 0) bad('MAINTENANCE_OPERATOR_REQUIRED', 'announced_by (the operator) is required');
  if (spec.description.trim().length === 0) bad('MAINTENANCE_DESCRIPTION_REQUIRED', 'a description for integrators is required');
  if (!spec.withdrawalsSuspended && !spec.depositsDelayed) bad('MAINTENANCE_SCOPE_EMPTY', 'a window must suspend withdrawals and/or delay deposits');
  for (const a of spec.assets) if (!knownAssets.has(a)) bad('UNKNOWN_ASSET', `unknown asset ${a}`);
  for (const c of spec.chains) if (!knownChains.has(c)) bad('UNKNOWN_CHAIN', `unknown chain ${c}`);
}

/** Whether the window covers the asset (empty assets and chains = everything). */
export function coversAsset(window: MaintenanceWindowSpec, asset: { readonly id: string; readonly chain: string }): boolean {
  if (window.assets.length === 0 && window.chains.length === 0) return true;
  return window.assets.includes(asset.id) || window.chains.includes(asset.chain);
}

export function isActive(window: MaintenanceWindowSpec, now: Date): boolean {
  return window.startsAt <= now && now < window.endsAt;
}

/** The active window suspending withdrawals for the asset, the one ending last if several. */
export function activeWithdrawalSuspension(windows: readonly MaintenanceWindow[], asset: { readonly id: string; readonly chain: string }, now: Date): MaintenanceWindow | undefined {
  let found: MaintenanceWindow | undefined;
  for (const w of windows) {
    if (w.withdrawalsSuspended && isActive(w, now) && coversAsset(w, asset) && (!found || w.endsAt > found.endsAt)) found = w;
  }
  return found;
}
