// Operator admin actions are recorded by the audit service BEFORE they are stored (ISO/TR
// 23576 9.3.9.4, docs/intake.md "Admin actions are audited first"): after the request is
// validated and its preconditions hold, the use case records the action through the
// platform's operator audit gate; if audit does not commit it, the action is refused
// (UNAVAILABLE, AUDIT_UNAVAILABLE) and nothing is stored or published.
import { operatorRequestDigest, recordOperatorAction, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import type { AdminActionKind, AdminRecord } from './ports.js';

/** The audit action name of each admin action (lower-case dotted). */
export const ADMIN_AUDIT_ACTIONS: Readonly<Record<AdminActionKind, string>> = Object.freeze({
  REGISTER_INTEGRATOR: 'intake.integrator.register',
  REVOKE_INTEGRATOR: 'intake.integrator.revoke',
  ROTATE_INTEGRATOR_KEY: 'intake.integrator.rotate_key',
  SCHEDULE_MAINTENANCE: 'intake.maintenance.schedule',
  CANCEL_MAINTENANCE: 'intake.maintenance.cancel',
});

/** Domain of the audited request digest. */
export const ADMIN_REQUEST_DIGEST_DOMAIN = 'custody.intake.v1.admin-request';

/**
 * SHA-256 of the admin request as audited: operatorRequestDigest(ADMIN_REQUEST_DIGEST_DOMAIN,
 * [the exact canonical bytes the operator signed (method, timestamp, nonce, body), the signature]).
 */
export function adminRequestDigest(record: AdminRecord): Uint8Array {
  return operatorRequestDigest(ADMIN_REQUEST_DIGEST_DOMAIN, [record.actor.evidence.signedPayload, record.actor.evidence.signature]);
}

/**
 * The audit record of an admin action: actor = the operator, device = its signing key,
 * request id = the admin_action row id (the same id intake stores with the change).
 */
export function adminAuditRecord(record: AdminRecord): OperatorActionRecord {
  return {
    operatorId: record.actor.operatorId,
    action: ADMIN_AUDIT_ACTIONS[record.action],
    target: record.target,
    deviceId: `key:${record.actor.evidence.keyId}`,
    // peerAddress() gives an IP or nothing (e.g. a unix socket); audit needs an IP.
    sourceIp: record.actor.sourceAddress ?? '0.0.0.0',
    requestId: record.id,
    approvalIds: [],
    correlationId: record.correlationId,
    occurredAt: record.at,
    requestDigest: adminRequestDigest(record),
  };
}

/** Records the action in audit; throws AuditUnavailableError (nothing may change) if it is not committed. No gate: nothing to do. */
export async function auditAdminAction(gate: OperatorAuditGate | undefined, record: AdminRecord): Promise<void> {
  if (gate) await recordOperatorAction(gate, adminAuditRecord(record));
}
