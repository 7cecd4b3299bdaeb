// Every operator admin action of risk (CustomerProfileService upserts, ScreeningListService
// ImportOfacList / AddInternalEntry / RemoveInternalEntry / ImportInternalEntries, CaseService
// ResolveCase) is recorded by the audit service (AuditService/RecordOperatorAction through the
// platform's operator audit gate) after it is validated and BEFORE it changes anything; if audit
// does not commit the record the action is refused (AUDIT_UNAVAILABLE → UNAVAILABLE) and nothing
// changes. No gate (dev/test compositions, in-process calls) = applied unaudited.
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { operatorRequestDigest, recordOperatorAction, type OperatorAuditGate } from '@custody/platform';

/** Facts of the call the audit record needs (from the transport). */
export interface OperatorCallContext {
  /** The caller's IP; anything that is not an IP is recorded as 0.0.0.0. */
  readonly sourceIp: string;
  /** The operator's device: `cert:<sha256 of the client certificate>` under mTLS. */
  readonly deviceId: string;
  readonly correlationId: string;
}

/** The audit actions of risk's admin calls; each request digest uses the domain `custody.risk.v1.<action>`. */
export const RISK_AUDIT_ACTIONS = {
  addInternalEntry: 'risk.internal_list.add',
  removeInternalEntry: 'risk.internal_list.remove',
  importInternalEntries: 'risk.internal_list.import',
  importOfacList: 'risk.sanctions_list.import',
  resolveCase: 'risk.case.resolve',
} as const;

export const riskDigestDomain = (action: string): string => `custody.risk.v1.${action}`;

export interface RiskOperatorAction {
  readonly operator: string;
  readonly action: string;
  readonly target: string;
  readonly at: Date;
  readonly context?: OperatorCallContext | undefined;
  /** The request as digested (operatorRequestDigest under `digestDomain`). */
  readonly request: readonly (string | Uint8Array)[];
  /** The digest's domain; riskDigestDomain(action) unless the action has its own. */
  readonly digestDomain?: string;
}

/** Records the action through the gate (throws AuditUnavailableError when audit does not commit it); no gate = nothing to record. */
export async function auditOperatorAction(gate: OperatorAuditGate | undefined, a: RiskOperatorAction): Promise<void> {
  if (!gate) return;
  const ctx = a.context;
  const requestId = randomUUID();
  await recordOperatorAction(gate, {
    operatorId: a.operator,
    action: a.action,
    target: a.target,
    deviceId: ctx?.deviceId || 'unknown',
    sourceIp: ctx && isIP(ctx.sourceIp) !== 0 ? ctx.sourceIp : '0.0.0.0',
    requestId,
    approvalIds: [],
    correlationId: ctx?.correlationId || requestId,
    occurredAt: a.at,
    requestDigest: operatorRequestDigest(a.digestDomain ?? riskDigestDomain(a.action), a.request),
  });
}
