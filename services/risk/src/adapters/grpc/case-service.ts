// gRPC adapter of custody.risk.v1.CaseService, served from the proto-loader definition of
// the contracts' descriptor set (the generated TS of this package is not re-exported by
// @custody/contracts). The operator identity comes from an OperatorAuthenticator (mTLS
// client certificate in production), never from the request body alone.
import type { Metadata, ServerUnaryCall, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { loadPackageDefinition, timestampFromDate } from '@custody/contracts';
import { currentCorrelation, unaryHandler, type GrpcCodeMap } from '@custody/platform';
import { listOpenCases, resolveCase, type CaseDeps } from '../../application/cases.js';
import { operatorCallContext } from './customer-profile-service.js';
import type { ComplianceCase } from '../../application/ports.js';
import { RiskError } from '../../domain/errors.js';

export const CASE_SERVICE_NAME = 'custody.risk.v1.CaseService';

export const RISK_GRPC_CODES: GrpcCodeMap = {
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  INVALID_ADDRESS: status.INVALID_ARGUMENT,
  INVALID_AMOUNT: status.INVALID_ARGUMENT,
  INVALID_LIST: status.INVALID_ARGUMENT,
  CASE_NOT_FOUND: status.NOT_FOUND,
  ENTRY_NOT_FOUND: status.NOT_FOUND,
  ENTRY_ALREADY_REMOVED: status.FAILED_PRECONDITION,
  ENTRY_ALREADY_ACTIVE: status.ALREADY_EXISTS,
  CASE_ALREADY_RESOLVED: status.FAILED_PRECONDITION,
  OPERATOR_UNAUTHENTICATED: status.UNAUTHENTICATED,
  OPERATOR_MISMATCH: status.PERMISSION_DENIED,
  PROFILE_NOT_FOUND: status.NOT_FOUND,
  PROFILE_VERSION_CONFLICT: status.ABORTED,
  AUDIT_UNAVAILABLE: status.UNAVAILABLE,
};

/** Who is calling; undefined when the caller is not an authenticated operator. */
export type OperatorAuthenticator = (call: { readonly metadata: Metadata; getAuthContext?: () => unknown }) => string | undefined;

/** mTLS: the operator id is the client certificate's subject CN (the server must require client certificates). */
export const mtlsOperator: OperatorAuthenticator = (call) => {
  const ctx = call.getAuthContext?.() as { sslPeerCertificate?: { subject?: { CN?: string } } } | undefined;
  const cn = ctx?.sslPeerCertificate?.subject?.CN;
  return typeof cn === 'string' && cn.length > 0 ? cn : undefined;
};

/**
 * Behind an authenticating proxy that sets `x-authenticated-operator` (and strips it from
 * client requests). Only for that deployment, and for tests.
 */
export const trustedHeaderOperator: OperatorAuthenticator = (call) => {
  const v = call.metadata.get('x-authenticated-operator')[0];
  return typeof v === 'string' && /^[A-Za-z0-9._@-]{1,128}$/.test(v) ? v : undefined;
};

export function caseServiceDefinition(): ServiceDefinition {
  const def = loadPackageDefinition()[CASE_SERVICE_NAME];
  if (!def || !('ResolveCase' in def)) throw new Error(`${CASE_SERVICE_NAME} missing from the descriptor set: run npm run proto:gen`);
  return def as unknown as ServiceDefinition;
}

const SUBJECT_WIRE = { withdrawal: 'CASE_SUBJECT_KIND_WITHDRAWAL', deposit: 'CASE_SUBJECT_KIND_DEPOSIT', own_address: 'CASE_SUBJECT_KIND_OWN_ADDRESS' } as const;

function caseToWire(c: ComplianceCase): Record<string, unknown> {
  return {
    case_id: c.id,
    assessment_id: c.assessmentId,
    subject_kind: SUBJECT_WIRE[c.subjectKind],
    subject_id: c.subjectId,
    customer_account: c.customerAccount,
    score: c.score,
    reasons: c.reasons.map((r) => ({ code: r.code, detail: r.detail })),
    status: c.status === 'OPEN' ? 'CASE_STATUS_OPEN' : 'CASE_STATUS_RESOLVED',
    opened_at: timestampFromDate(c.openedAt),
    resolution: c.resolution === 'CLEAR' ? 'CASE_RESOLUTION_CLEAR' : c.resolution === 'BLOCK' ? 'CASE_RESOLUTION_BLOCK' : 'CASE_RESOLUTION_UNSPECIFIED',
    note: c.note ?? '',
    resolved_by: c.resolvedBy ?? '',
    resolved_at: c.resolvedAt ? timestampFromDate(c.resolvedAt) : null,
  };
}

// proto-loader objects keep the proto's snake_case field names (descriptors from buf).
interface ResolveWire {
  case_id: string;
  resolution: string;
  note: string;
  operator: string;
}

export function caseServiceImplementation(deps: CaseDeps, authenticate: OperatorAuthenticator, onError?: (err: unknown) => void): UntypedServiceImplementation {
  const opts = { codeMap: RISK_GRPC_CODES, domain: 'risk.custody', ...(onError ? { onError: (e: unknown) => onError(e) } : {}) };
  const operatorOf = (call: ServerUnaryCall<unknown, unknown>): string => {
    const op = authenticate(call as unknown as { metadata: Metadata; getAuthContext?: () => unknown });
    if (!op) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
    return op;
  };
  return {
    ListOpenCases: unaryHandler<{ page_size: number; page_token: string }, unknown>(async (req, call) => {
      operatorOf(call as ServerUnaryCall<unknown, unknown>);
      const page = await listOpenCases(deps, req.page_size ?? 0, req.page_token ?? '');
      return { cases: page.cases.map(caseToWire), next_page_token: page.nextPageToken };
    }, opts),
    ResolveCase: unaryHandler<ResolveWire, unknown>(async (req, call) => {
      const operator = operatorOf(call as ServerUnaryCall<unknown, unknown>);
      if (req.operator && req.operator !== operator) throw new RiskError('OPERATOR_MISMATCH', 'operator in the request is not the authenticated operator');
      const resolution = req.resolution === 'CASE_RESOLUTION_CLEAR' ? 'CLEAR' : req.resolution === 'CASE_RESOLUTION_BLOCK' ? 'BLOCK' : undefined;
      if (!resolution) throw new RiskError('INVALID_ARGUMENT', 'resolution must be CASE_RESOLUTION_CLEAR or CASE_RESOLUTION_BLOCK');
      const result = await resolveCase(deps, {
        caseId: req.case_id ?? '',
        resolution,
        note: req.note ?? '',
        operator,
        correlationId: currentCorrelation()?.correlationId ?? req.case_id,
        context: operatorCallContext(call as ServerUnaryCall<unknown, unknown>),
      });
      return { resolved_case: caseToWire(result.case), assessment_id: result.assessment.id };
    }, opts),
  };
}
