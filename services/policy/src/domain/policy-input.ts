/**
 * The policy input document (docs/policies.md "Input", CONTROLS §6), built from the joined
 * withdrawal request, risk assessment and facts. Amounts are decimal strings, times
 * canonical UTC. A fact the service does not know is left out: the policy then denies
 * (`input_invalid`, `ledger_hold_missing`) rather than guessing.
 */
import { formatAmount } from './amount.js';
import type { MaintenanceWindowInput } from './maintenance.js';
import { toCanonicalTimestamp } from './timestamp.js';

export interface StoredRequest {
  readonly withdrawalId: string;
  readonly clientId: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly chain: string;
  readonly amount: bigint;
  readonly destinationAddress: string;
  readonly destinationTag: string;
  readonly requestedAt: Date;
}

export type RiskVerdictName = 'ALLOW' | 'REVIEW' | 'BLOCK';

export interface StoredAssessment {
  readonly withdrawalId: string;
  readonly assessmentId: string;
  /** Anything the risk service sends that is not CLEAR/REVIEW/BLOCK is stored as "UNKNOWN": the policy denies it. */
  readonly verdict: RiskVerdictName | 'UNKNOWN';
  readonly score: number;
  readonly sanctionsHit: boolean;
  readonly assessedAt: Date;
}

export interface InputApproval {
  readonly operatorId: string;
  readonly role: string;
  readonly approvedAt: Date;
}

export interface InputFacts {
  readonly account?: { readonly id: string; readonly tier: string; readonly openedAt: string; readonly jurisdiction?: string };
  readonly sourceWallet?: { readonly id: string; readonly tier: string };
  readonly ledgerHold?: { readonly id: string; readonly amount: bigint };
  /** The ledger's 24 h outflow (this request excluded), or why it is unknown (docs/policies.md "Rolling 24 h from the ledger"). */
  readonly ledgerOutflow?: { readonly known: true; readonly total: bigint } | { readonly known: false; readonly why: string };
}

export type PolicyInput = Readonly<Record<string, unknown>>;

export function buildPolicyInput(args: {
  readonly request: StoredRequest;
  readonly assessment: StoredAssessment;
  readonly facts: InputFacts;
  /** Outflow of the last 24 h for this account and asset, including this request. */
  readonly rolling24hTotal: bigint;
  readonly now: Date;
  readonly approvals: readonly InputApproval[];
  /** The announced maintenance windows (latest state per id), see domain/maintenance.ts. */
  readonly maintenanceWindows: readonly MaintenanceWindowInput[];
}): PolicyInput {
  const { request: r, assessment: a, facts: f } = args;
  const input: Record<string, unknown> = {
    kind: 'withdrawal',
    withdrawal_id: r.withdrawalId,
    requested_by: r.clientId,
    now: toCanonicalTimestamp(args.now),
    asset: r.asset,
    ...(r.chain ? { chain: r.chain } : {}),
    amount: formatAmount(r.amount),
    destination: r.destinationTag ? { address: r.destinationAddress, tag: r.destinationTag } : { address: r.destinationAddress },
    velocity: {
      rolling_24h_total: formatAmount(args.rolling24hTotal),
      ...(f.ledgerOutflow === undefined ? {} : f.ledgerOutflow.known ? { ledger_24h_outflow: formatAmount(f.ledgerOutflow.total) } : { ledger_unavailable: true }),
    },
    risk: { verdict: a.verdict, score: a.score, sanctions_hit: a.sanctionsHit, assessed_at: toCanonicalTimestamp(a.assessedAt) },
    approvals: args.approvals.map((v) => ({ operator_id: v.operatorId, role: v.role, approved_at: toCanonicalTimestamp(v.approvedAt) })),
    maintenance_windows: args.maintenanceWindows,
  };
  if (f.account) input['account'] = { id: f.account.id, tier: f.account.tier, opened_at: f.account.openedAt, ...(f.account.jurisdiction === undefined ? {} : { jurisdiction: f.account.jurisdiction }) };
  if (f.sourceWallet) input['source_wallet'] = { id: f.sourceWallet.id, tier: f.sourceWallet.tier };
  if (f.ledgerHold) input['ledger_hold'] = { id: f.ledgerHold.id, amount: formatAmount(f.ledgerHold.amount) };
  return Object.freeze(input);
}

/**
 * The same input with other votes, another "now" and the announced maintenance windows as
 * they are now (re-evaluation after a vote: a window announced since the first decision
 * freezes it too).
 */
export function withApprovals(input: PolicyInput, approvals: readonly InputApproval[], now: Date, maintenanceWindows: readonly MaintenanceWindowInput[]): PolicyInput {
  return Object.freeze({
    ...input,
    now: toCanonicalTimestamp(now),
    maintenance_windows: maintenanceWindows,
    approvals: approvals.map((v) => ({ operator_id: v.operatorId, role: v.role, approved_at: toCanonicalTimestamp(v.approvedAt) })),
  });
}
