// ApprovalService over grpc-js: operators list pending decisions and vote. The operator's
// identity is its Ed25519 signature over the canonical decision bytes (domain/approval.ts),
// verified against the key registered for operator_id, plus a WebAuthn assertion of one of
// the operator's registered authenticators (domain/device-assertion.ts, C-8.2.2.5-e) when the
// registry requires it; domain errors map to a status and
// an `error-reason` trailer. With an audit gate, every vote is recorded by the audit service
// BEFORE it is applied; if audit does not record it the vote is refused (UNAVAILABLE,
// AUDIT_UNAVAILABLE) and nothing changes (docs/policies.md "Approvals are audited first").
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { status, type Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  ApprovalServiceService,
  OperatorApproval,
  PendingApproval,
  timestampFromDate,
  type ApprovalServiceServer,
  type ApproveRequest,
  type ApproveResponse,
  type ListPendingApprovalsRequest,
  type ListPendingApprovalsResponse,
  type RejectRequest,
  type RejectResponse,
} from '@custody/contracts';
import { AuditUnavailableError, CORRELATION_ID_KEY, toGrpcError, withCorrelation, type GrpcCodeMap, type Logger, type OperatorAuditGate } from '@custody/platform';
import { InvalidArgumentError, subjectOf, type DecisionRecord, type DecisionService, type Vote } from '../../application/decisions.js';
import { approvalSubjectBytes } from '../../domain/approval.js';
import type { DeviceAssertion } from '../../domain/device-assertion.js';
import { formatAmount } from '../../domain/amount.js';

export const ERROR_DOMAIN = 'custody.policy';

export const POLICY_GRPC_CODES: GrpcCodeMap = Object.freeze({
  INVALID_ARGUMENT: status.INVALID_ARGUMENT,
  PAGE_TOKEN_INVALID: status.INVALID_ARGUMENT,
  UNKNOWN_OPERATOR: status.UNAUTHENTICATED,
  UNKNOWN_OPERATOR_KEY: status.UNAUTHENTICATED,
  BAD_APPROVAL_SIGNATURE: status.UNAUTHENTICATED,
  SELF_APPROVAL: status.PERMISSION_DENIED,
  ROLE_NOT_HELD: status.PERMISSION_DENIED,
  ROLE_NOT_REQUIRED: status.PERMISSION_DENIED,
  DUPLICATE_VOTE: status.ALREADY_EXISTS,
  APPROVAL_EXPIRED: status.FAILED_PRECONDITION,
  DECISION_NOT_PENDING: status.FAILED_PRECONDITION,
  DECISION_NOT_FOUND: status.NOT_FOUND,
  NO_ACTIVE_BUNDLE: status.UNAVAILABLE,
  AUDIT_UNAVAILABLE: status.UNAVAILABLE,
  // Device factor (C-8.2.2.5-e): who is voting is not established.
  DEVICE_ASSERTION_REQUIRED: status.UNAUTHENTICATED,
  DEVICE_ASSERTION_MALFORMED: status.INVALID_ARGUMENT,
  UNKNOWN_DEVICE: status.UNAUTHENTICATED,
  DEVICE_NOT_OPERATORS: status.UNAUTHENTICATED,
  DEVICE_REVOKED: status.UNAUTHENTICATED,
  DEVICE_KIND_NOT_ALLOWED: status.UNAUTHENTICATED,
  DEVICE_SIGNATURE_INVALID: status.UNAUTHENTICATED,
  DEVICE_ORIGIN_MISMATCH: status.UNAUTHENTICATED,
  DEVICE_RP_ID_MISMATCH: status.UNAUTHENTICATED,
  DEVICE_CHALLENGE_MISMATCH: status.UNAUTHENTICATED,
  DEVICE_USER_NOT_PRESENT: status.UNAUTHENTICATED,
  DEVICE_USER_NOT_VERIFIED: status.UNAUTHENTICATED,
  DEVICE_SIGN_COUNT_NOT_INCREASING: status.UNAUTHENTICATED,
});

type WireAssertion = { credentialId: string; authenticatorData: Buffer; clientDataJson: Buffer; signature: Buffer };
type VoteRequest = { decisionId: string; operatorId: string; role: string; keyId: string; signature: Buffer; deviceAssertion?: WireAssertion | undefined };

/**
 * SHA-256 of the vote request as audited: "custody.policy.v1.vote-request" || 0x00 ||
 * F(decision_id) || F(operator_id) || F(role) || F(verdict) || F(key_id) || F(signature) ||
 * F(reason), F(x) = u32be(len) || x (utf-8 strings); with a device assertion, followed by
 * F(credential_id) || F(authenticator_data) || F(client_data_json) || F(assertion signature).
 */
export function voteRequestDigest(req: VoteRequest, verdict: 'approve' | 'reject', reason: string): Uint8Array {
  const field = (b: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const parts = [req.decisionId, req.operatorId, req.role, verdict, req.keyId].map((s) => Buffer.from(s, 'utf8'));
  const a = req.deviceAssertion;
  const device = a ? [Buffer.from(a.credentialId, 'utf8'), a.authenticatorData, a.clientDataJson, a.signature] : [];
  const bytes = Buffer.concat([Buffer.from('custody.policy.v1.vote-request\0', 'utf8'), ...[...parts, req.signature, Buffer.from(reason, 'utf8'), ...device].map(field)]);
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** The caller's IP from grpc-js getPeer() ("1.2.3.4:5", "[::1]:5", "ipv4:…"); "0.0.0.0" if it is not an IP (e.g. a unix socket). */
export function peerIp(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const host = bare.startsWith('[') ? bare.slice(1, bare.indexOf(']')) : bare.slice(0, Math.max(0, bare.lastIndexOf(':')));
  return isIP(host) !== 0 ? host : isIP(bare) !== 0 ? bare : '0.0.0.0';
}

function correlationOf(metadata: Metadata): string {
  const value = metadata.get(CORRELATION_ID_KEY)[0];
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : randomUUID();
}

export function toPendingApproval(d: DecisionRecord, votes: readonly Vote[]): PendingApproval {
  return PendingApproval.fromPartial({
    decisionId: d.id,
    withdrawalId: d.withdrawalId,
    asset: d.asset,
    amount: formatAmount(d.amount),
    destinationAddress: d.destinationAddress,
    quorum: d.quorum,
    roles: [...d.roles],
    approvals: votes.filter((v) => v.verdict === 'approve').map((v) => OperatorApproval.fromPartial({ operatorId: v.operatorId, role: v.role, approvedAt: timestampFromDate(v.votedAt) })),
    reasonCodes: d.output.reasons.map((r) => r.code),
    ...(d.expiresAt ? { expiresAt: timestampFromDate(d.expiresAt) } : {}),
    sourceWallet: d.sourceWallet,
    destinationTag: d.destinationTag,
    bundleDigest: d.bundleDigest,
    requestedBy: d.requestedBy,
    // Fields 0x01-0x0b of the signed bytes; the operator appends operator id, role, verdict.
    approvePayload: Buffer.from(approvalSubjectBytes(subjectOf(d))),
  });
}

function pageToken(d: DecisionRecord): string {
  return Buffer.from(JSON.stringify({ t: d.decidedAt.toISOString(), i: d.id })).toString('base64url');
}

function readPageToken(token: string): { decidedAt: Date; id: string } | undefined {
  if (!token) return undefined;
  try {
    const p = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { t?: unknown; i?: unknown };
    const at = new Date(String(p.t));
    if (typeof p.i === 'string' && /^[0-9a-f-]{36}$/i.test(p.i) && !Number.isNaN(at.getTime())) return { decidedAt: at, id: p.i };
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('PAGE_TOKEN_INVALID', 'page_token is not a token returned by ListPendingApprovals');
}

const IDENT = /^[!-~]{1,256}$/;

function requireIdent(name: string, value: string): void {
  if (!IDENT.test(value)) throw new InvalidArgumentError('INVALID_ARGUMENT', `${name} must be 1-256 printable ASCII characters`);
}

/**
 * The audit record's device: `webauthn:<credential id>`, or for ids too long for the audit
 * field (200 characters) `webauthn-sha256:<hex SHA-256 of the id>`.
 */
export function auditDeviceId(credentialId: string): string {
  const plain = `webauthn:${credentialId}`;
  return plain.length <= 200 ? plain : `webauthn-sha256:${createHash('sha256').update(credentialId, 'utf8').digest('hex')}`;
}

/** The wire assertion as the domain's DeviceAssertion; size limits here, meaning in the domain. */
export function deviceAssertionOf(a: WireAssertion | undefined): DeviceAssertion | undefined {
  if (!a) return undefined;
  if (!/^[A-Za-z0-9_-]{16,1366}$/.test(a.credentialId)) throw new InvalidArgumentError('DEVICE_ASSERTION_MALFORMED', 'device_assertion.credential_id must be a base64url credential id (16-1366 characters)');
  if (a.authenticatorData.length < 37 || a.authenticatorData.length > 1024) throw new InvalidArgumentError('DEVICE_ASSERTION_MALFORMED', 'device_assertion.authenticator_data must be 37-1024 bytes');
  if (a.clientDataJson.length < 2 || a.clientDataJson.length > 4096) throw new InvalidArgumentError('DEVICE_ASSERTION_MALFORMED', 'device_assertion.client_data_json must be 2-4096 bytes');
  if (a.signature.length < 8 || a.signature.length > 72) throw new InvalidArgumentError('DEVICE_ASSERTION_MALFORMED', 'device_assertion.signature must be 8-72 bytes');
  return { credentialId: a.credentialId, authenticatorData: new Uint8Array(a.authenticatorData), clientDataJSON: new Uint8Array(a.clientDataJson), signature: new Uint8Array(a.signature) };
}

export function createApprovalService(deps: { decisions: DecisionService; logger: Logger; audit?: OperatorAuditGate }): ApprovalServiceServer {
  const unary = <Req, Res>(method: string, fn: (request: Req, correlationId: string, call: ServerUnaryCall<Req, Res>) => Promise<Res>) => {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const correlationId = correlationOf(call.metadata);
      withCorrelation({ correlationId }, () => {
        fn(call.request, correlationId, call).then(
          (response) => callback(null, response),
          (err: unknown) => {
            const e = toGrpcError(err, POLICY_GRPC_CODES, { domain: ERROR_DOMAIN });
            if (e.code === status.INTERNAL) deps.logger.error({ err, method }, 'approval call failed');
            else if (err instanceof AuditUnavailableError) deps.logger.error({ err, method, alert: 'policy_audit_unavailable' }, 'approval refused: the audit service did not record it');
            else deps.logger.info({ method, code: e.code, reason: e.metadata.get('error-reason')[0] }, 'approval call refused');
            callback(e);
          },
        );
      });
    };
  };

  const vote = async (req: VoteRequest, verdict: 'approve' | 'reject', correlationId: string, call: ServerUnaryCall<unknown, unknown>, reason?: string) => {
    requireIdent('decision_id', req.decisionId);
    requireIdent('operator_id', req.operatorId);
    requireIdent('role', req.role);
    requireIdent('key_id', req.keyId);
    if (req.signature.length !== 64) throw new InvalidArgumentError('INVALID_ARGUMENT', 'signature must be a 64-byte Ed25519 signature');
    const assertion = deviceAssertionOf(req.deviceAssertion);
    if (deps.audit) {
      // Recorded first (the attempt, with a digest covering the operator's signature); applied
      // only once audit committed the record. Any failure refuses the vote: nothing changes.
      const requestId = call.metadata.get('x-request-id')[0];
      await deps.audit
        .record({
          operatorId: req.operatorId,
          action: `policy.approval.${verdict}`,
          target: req.decisionId,
          deviceId: assertion ? auditDeviceId(assertion.credentialId) : `key:${req.keyId}`,
          sourceIp: peerIp(call.getPeer()),
          requestId: typeof requestId === 'string' && /^[!-~]{1,128}$/.test(requestId) ? requestId : randomUUID(),
          approvalIds: [],
          correlationId,
          occurredAt: new Date(),
          requestDigest: voteRequestDigest(req, verdict, reason ?? ''),
        })
        .catch((err: unknown) => {
          throw err instanceof AuditUnavailableError ? err : new AuditUnavailableError({ cause: err });
        });
    }
    return deps.decisions.vote({ decisionId: req.decisionId, operatorId: req.operatorId, role: req.role, keyId: req.keyId, signature: new Uint8Array(req.signature), verdict, ...(reason ? { reason } : {}), ...(assertion ? { assertion } : {}) }, { correlationId });
  };

  return {
    listPendingApprovals: unary<ListPendingApprovalsRequest, ListPendingApprovalsResponse>('ListPendingApprovals', async (req) => {
      if (req.pageSize < 0 || req.pageSize > 500) throw new InvalidArgumentError('INVALID_ARGUMENT', 'page_size must be 0-500');
      const items = await deps.decisions.listPending(req.pageSize, readPageToken(req.pageToken));
      const limit = req.pageSize === 0 ? 100 : req.pageSize;
      const last = items[items.length - 1];
      return { approvals: items.map((i) => toPendingApproval(i.record, i.votes)), nextPageToken: items.length === limit && last ? pageToken(last.record) : '' };
    }),
    approve: unary<ApproveRequest, ApproveResponse>('Approve', async (req, correlationId, call) => {
      const result = await vote(req, 'approve', correlationId, call as ServerUnaryCall<unknown, unknown>);
      return { approval: toPendingApproval(result.record, result.votes), quorumReached: result.quorumReached };
    }),
    reject: unary<RejectRequest, RejectResponse>('Reject', async (req, correlationId, call) => {
      if (req.reason.length > 500) throw new InvalidArgumentError('INVALID_ARGUMENT', 'reason must be at most 500 characters');
      await vote(req, 'reject', correlationId, call as ServerUnaryCall<unknown, unknown>, req.reason);
      return {};
    }),
  };
}

export { ApprovalServiceService };
