// Use cases of the compliance case queue: list open cases; resolve one (CLEAR or BLOCK,
// with a note, by an authenticated operator) -> a new assessment superseding the one
// that opened the case, emitted as custody.risk.assessed.v1 in the same transaction; recorded
// by the operator audit gate (when given) once the case is locked and open, before it changes.
import { randomUUID } from 'node:crypto';
import type { OperatorAuditGate } from '@custody/platform';
import { RiskError } from '../domain/errors.js';
import { auditOperatorAction, RISK_AUDIT_ACTIONS, type OperatorCallContext } from './operator-audit.js';
import type { Assessment, CaseQuery, Clock, ComplianceCase, RiskUnitOfWork } from './ports.js';

export interface ResolveCaseCommand {
  readonly caseId: string;
  readonly resolution: 'CLEAR' | 'BLOCK';
  readonly note: string;
  /** Authenticated operator identity (never taken from the request body alone). */
  readonly operator: string;
  readonly correlationId: string;
  /** The operator call's facts for the audit record (operator API only). */
  readonly context?: OperatorCallContext | undefined;
}

export interface CaseDeps {
  readonly uow: RiskUnitOfWork;
  readonly cases: CaseQuery;
  readonly clock: Clock;
  readonly newId?: () => string;
  /** The operator audit gate; undefined = not audited (dev/test compositions). */
  readonly audit?: OperatorAuditGate | undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function resolveCase(deps: CaseDeps, cmd: ResolveCaseCommand): Promise<{ case: ComplianceCase; assessment: Assessment }> {
  if (!UUID.test(cmd.caseId)) throw new RiskError('INVALID_ARGUMENT', 'case_id must be a UUID');
  if (cmd.resolution !== 'CLEAR' && cmd.resolution !== 'BLOCK') throw new RiskError('INVALID_ARGUMENT', 'resolution must be CLEAR or BLOCK');
  const note = cmd.note.trim();
  if (note.length < 3 || note.length > 2000) throw new RiskError('INVALID_ARGUMENT', 'note is required (3..2000 characters): say why');
  if (!cmd.operator) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'an authenticated operator is required');
  return deps.uow.run(async (tx) => {
    const c = await tx.caseForUpdate(cmd.caseId);
    if (!c) throw new RiskError('CASE_NOT_FOUND', `case ${cmd.caseId} does not exist`);
    if (c.status !== 'OPEN') throw new RiskError('CASE_ALREADY_RESOLVED', `case ${cmd.caseId} was already resolved (${c.resolution ?? ''} by ${c.resolvedBy ?? ''})`);
    const now = deps.clock.now();
    // The case is locked and can be resolved: recorded in audit before it changes (refused →
    // the transaction rolls back, nothing changes).
    await auditOperatorAction(deps.audit, {
      operator: cmd.operator,
      action: RISK_AUDIT_ACTIONS.resolveCase,
      target: c.id,
      at: now,
      context: cmd.context,
      request: [c.id, cmd.resolution, note],
    });
    const original = await tx.assessment(c.assessmentId);
    await tx.resolveCase(c.id, cmd.resolution, note, cmd.operator, now);
    const assessment: Assessment = {
      id: (deps.newId ?? randomUUID)(),
      subjectKind: c.subjectKind,
      subjectId: c.subjectId,
      customerAccount: c.customerAccount,
      verdict: cmd.resolution,
      score: c.score,
      reasons: [...c.reasons, { code: cmd.resolution === 'CLEAR' ? 'case_cleared' : 'case_blocked', detail: `compliance case ${c.id} resolved ${cmd.resolution} by ${cmd.operator}: ${note}` }],
      listVersion: original?.listVersion ?? '',
      listsUpdatedAt: original?.listsUpdatedAt,
      travelRuleRequired: original?.travelRuleRequired ?? false,
      caseId: c.id,
      resolvedBy: cmd.operator,
      supersedesAssessmentId: c.assessmentId,
      assessedAt: now,
    };
    await tx.saveAssessment(assessment);
    await tx.audit({ actor: cmd.operator, action: 'case.resolved', subject: c.id, detail: { resolution: cmd.resolution, note, assessmentId: assessment.id, supersedes: c.assessmentId } }, now);
    await tx.emitAssessed(assessment, { correlationId: c.correlationId || cmd.correlationId, causationId: c.assessmentId });
    return { case: { ...c, status: 'RESOLVED', resolution: cmd.resolution, note, resolvedBy: cmd.operator, resolvedAt: now }, assessment };
  });
}

export async function listOpenCases(deps: Pick<CaseDeps, 'cases'>, pageSize: number, pageToken: string): Promise<{ cases: ComplianceCase[]; nextPageToken: string }> {
  const size = pageSize === 0 ? 100 : pageSize;
  if (!Number.isInteger(size) || size < 1 || size > 500) throw new RiskError('INVALID_ARGUMENT', 'page_size must be 0..500');
  let after: { at: Date; id: string } | undefined;
  if (pageToken) {
    const [ms, id] = Buffer.from(pageToken, 'base64url').toString('utf8').split('|');
    const at = new Date(Number(ms));
    if (!id || !UUID.test(id) || Number.isNaN(at.getTime())) throw new RiskError('INVALID_ARGUMENT', 'page_token is not valid');
    after = { at, id };
  }
  const rows = await deps.cases.listOpen(size + 1, after);
  const page = rows.slice(0, size);
  const last = page[page.length - 1];
  const nextPageToken = rows.length > size && last ? Buffer.from(`${last.openedAt.getTime()}|${last.id}`, 'utf8').toString('base64url') : '';
  return { cases: page, nextPageToken };
}
