// Formatting of intake's maintenance notices (ListMaintenanceNotices / ScheduleMaintenance). Pure.
import { timestampToDate, type MaintenanceNotice, type MaintenanceWindow, type Timestamp } from '@custody/contracts';

export interface NoticeJson {
  readonly maintenanceId: string;
  readonly state: string;
  readonly startsAt: string | null;
  readonly endsAt: string | null;
  /** Empty chains and assets = everything. */
  readonly chains: readonly string[];
  readonly assets: readonly string[];
  readonly withdrawalsSuspended: boolean;
  readonly depositsDelayed: boolean;
  readonly description: string;
  readonly announcedBy: string | null;
  readonly announcedAt: string | null;
  readonly cancelledBy: string | null;
  readonly cancelledAt: string | null;
}

const iso = (t: Timestamp | undefined): string | null => (t ? timestampToDate(t).toISOString() : null);

export function windowToJson(w: MaintenanceWindow | undefined, extra: Partial<NoticeJson> = {}): NoticeJson {
  return {
    maintenanceId: w?.maintenanceId ?? '',
    state: '',
    startsAt: iso(w?.startsAt),
    endsAt: iso(w?.endsAt),
    chains: [...(w?.chains ?? [])],
    assets: [...(w?.assets ?? [])],
    withdrawalsSuspended: w?.withdrawalsSuspended ?? false,
    depositsDelayed: w?.depositsDelayed ?? false,
    description: w?.description ?? '',
    announcedBy: null,
    announcedAt: null,
    cancelledBy: null,
    cancelledAt: null,
    ...extra,
  };
}

export function noticeToJson(n: MaintenanceNotice): NoticeJson {
  return windowToJson(n.window, {
    state: n.state,
    announcedBy: n.announcedBy || null,
    announcedAt: iso(n.announcedAt),
    cancelledBy: n.cancelledBy || null,
    cancelledAt: iso(n.cancelledAt),
  });
}

export const scopeOf = (n: Pick<NoticeJson, 'chains' | 'assets'>): string => (n.chains.length === 0 && n.assets.length === 0 ? 'everything' : [...n.assets, ...n.chains.map((c) => `chain ${c}`)].join(', '));
export const effectOf = (n: Pick<NoticeJson, 'withdrawalsSuspended' | 'depositsDelayed'>): string =>
  [n.withdrawalsSuspended ? 'withdrawals suspended' : '', n.depositsDelayed ? 'deposits delayed' : ''].filter(Boolean).join(' + ') || '-';

export function formatNoticeTable(notices: readonly NoticeJson[], truncated: boolean): string {
  if (notices.length === 0) return 'no maintenance notices';
  const header = ['ID', 'STATE', 'STARTS', 'ENDS', 'SCOPE', 'EFFECT', 'BY', 'DESCRIPTION'];
  const rows = notices.map((n) => [
    n.maintenanceId,
    n.state,
    n.startsAt ?? '-',
    n.endsAt ?? '-',
    scopeOf(n),
    effectOf(n),
    n.cancelledBy ? `${n.announcedBy ?? '?'} (cancelled by ${n.cancelledBy})` : (n.announcedBy ?? '-'),
    n.description.length > 60 ? `${n.description.slice(0, 57)}...` : n.description,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const table = [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
  return truncated ? `${table}\n(more notices matched: raise --limit)` : table;
}
