// How pending approvals look: a table for people, plain JSON for scripts (amounts stay
// decimal strings of base units, times ISO-8601 UTC, bytes hex). Pure.
import type { PendingApproval } from '@custody/contracts';
import { payloadMatches } from './signing.js';

export interface PendingJson {
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly asset: string;
  readonly amount: string;
  readonly sourceWallet: string;
  readonly destinationAddress: string;
  readonly destinationTag: string;
  readonly requestedBy: string;
  readonly bundleDigest: string;
  readonly quorum: number;
  readonly roles: readonly string[];
  readonly approvals: readonly { operatorId: string; role: string; approvedAt: string | null }[];
  readonly reasonCodes: readonly string[];
  readonly expiresAt: string | null;
  readonly approvePayload: string;
  /** Whether approvePayload equals the bytes rebuilt from the fields above. */
  readonly approvePayloadMatches: boolean;
}

function isoOf(ts: { seconds: string; nanos: number } | undefined): string | null {
  if (!ts) return null;
  const ms = Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

function matches(p: PendingApproval): boolean {
  try {
    return payloadMatches(p);
  } catch {
    return false;
  }
}

export function pendingToJson(p: PendingApproval): PendingJson {
  return {
    decisionId: p.decisionId,
    withdrawalId: p.withdrawalId,
    asset: p.asset,
    amount: p.amount,
    sourceWallet: p.sourceWallet,
    destinationAddress: p.destinationAddress,
    destinationTag: p.destinationTag,
    requestedBy: p.requestedBy,
    bundleDigest: p.bundleDigest,
    quorum: p.quorum,
    roles: [...p.roles],
    approvals: p.approvals.map((a) => ({ operatorId: a.operatorId, role: a.role, approvedAt: isoOf(a.approvedAt) })),
    reasonCodes: [...p.reasonCodes],
    expiresAt: isoOf(p.expiresAt),
    approvePayload: Buffer.from(p.approvePayload).toString('hex'),
    approvePayloadMatches: matches(p),
  };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** One line per pending decision. */
export function formatPendingTable(list: readonly PendingApproval[]): string {
  if (list.length === 0) return 'no pending approvals';
  const rows = list.map((p) => {
    const j = pendingToJson(p);
    return [j.decisionId, j.withdrawalId, j.asset, j.amount, `${j.approvals.length}/${j.quorum} ${j.roles.join('+')}`, j.expiresAt ?? '-', j.reasonCodes.join(',')];
  });
  return `${table(['DECISION', 'WITHDRAWAL', 'ASSET', 'AMOUNT (base units)', 'VOTES', 'EXPIRES', 'REASONS'], rows)}\n${list.length} pending`;
}

/** Everything an operator should read before signing. */
export function formatPendingDetail(p: PendingApproval): string {
  const j = pendingToJson(p);
  const rows: [string, string][] = [
    ['decision', j.decisionId],
    ['withdrawal', j.withdrawalId],
    ['requested by', j.requestedBy],
    ['asset', j.asset],
    ['amount', `${j.amount} (base units)`],
    ['from wallet', j.sourceWallet],
    ['to address', j.destinationAddress],
    ['destination tag', j.destinationTag === '' ? '(none)' : j.destinationTag],
    ['reasons', j.reasonCodes.join(', ')],
    ['quorum', `${j.quorum} of roles ${j.roles.join(', ')}`],
    ['votes', j.approvals.length === 0 ? '(none)' : j.approvals.map((a) => `${a.operatorId} as ${a.role} at ${a.approvedAt ?? '?'}`).join('; ')],
    ['expires', j.expiresAt ?? '(none)'],
    ['policy bundle', j.bundleDigest],
    ['signed payload', j.approvePayloadMatches ? 'matches the fields above' : 'DOES NOT MATCH the fields above: do not sign'],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n');
}
