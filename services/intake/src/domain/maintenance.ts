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
  /** Set when an operator cancelled the window: it no longer applies anywhere. */
  readonly cancelledAt?: Date | undefined;
  readonly cancelledBy?: string | undefined;
}

export function validateMaintenance(spec: MaintenanceWindowSpec, now: Date, minNoticeMs: number, knownAssets: ReadonlySet<string>, knownChains: ReadonlySet<string>): void {
  const bad = (field: string, code: string, message: string): never => {
    throw new InvalidMaintenanceError(field, code, message);
  };
  if (Number.isNaN(spec.startsAt.getTime())) bad('starts_at', 'MAINTENANCE_TIME_INVALID', 'must be a valid time');
  if (Number.isNaN(spec.endsAt.getTime())) bad('ends_at', 'MAINTENANCE_TIME_INVALID', 'must be a valid time');
  if (spec.endsAt <= spec.startsAt) bad('ends_at', 'MAINTENANCE_TIME_INVALID', 'must be after starts_at');
  const notice = spec.startsAt.getTime() - now.getTime();
  if (notice < minNoticeMs) {
    bad('starts_at', 'MAINTENANCE_NOTICE_TOO_SHORT', `maintenance must be announced at least ${Math.round(minNoticeMs / 60_000)} minutes before it starts`);
  }
  if (spec.announcedBy.trim().length === 0) bad('announced_by', 'MAINTENANCE_OPERATOR_REQUIRED', 'the operator is required');
  if (spec.description.trim().length === 0) bad('description', 'MAINTENANCE_DESCRIPTION_REQUIRED', 'a description for integrators is required');
  if (spec.description.length > 2000) bad('description', 'MAINTENANCE_DESCRIPTION_TOO_LONG', 'at most 2000 characters');
  if (!spec.withdrawalsSuspended && !spec.depositsDelayed) bad('withdrawals_suspended', 'MAINTENANCE_SCOPE_EMPTY', 'a window must suspend withdrawals and/or delay deposits');
  for (const a of spec.assets) if (!knownAssets.has(a)) bad('assets', 'UNKNOWN_ASSET', `unknown asset ${a}`);
  for (const c of spec.chains) if (!knownChains.has(c)) bad('chains', 'UNKNOWN_CHAIN', `unknown chain ${c}`);
}

/** Whether the window covers the asset (empty assets and chains = everything). */
export function coversAsset(window: MaintenanceWindowSpec, asset: { readonly id: string; readonly chain: string }): boolean {
  if (window.assets.length === 0 && window.chains.length === 0) return true;
  return window.assets.includes(asset.id) || window.chains.includes(asset.chain);
}

export function isActive(window: MaintenanceWindowSpec & { readonly cancelledAt?: Date | undefined }, now: Date): boolean {
  return window.cancelledAt === undefined && window.startsAt <= now && now < window.endsAt;
}

/** The active window suspending withdrawals for the asset, the one ending last if several. */
export function activeWithdrawalSuspension(windows: readonly MaintenanceWindow[], asset: { readonly id: string; readonly chain: string }, now: Date): MaintenanceWindow | undefined {
  let found: MaintenanceWindow | undefined;
  for (const w of windows) {
    if (w.withdrawalsSuspended && isActive(w, now) && coversAsset(w, asset) && (!found || w.endsAt > found.endsAt)) found = w;
  }
  return found;
}
