/**
 * Operator approvals (C-9.3.6.2-c) and admin bundle activation (C-9.3.2-a): the rules a vote
 * must pass before it is recorded. What is signed (the byte formats) is defined once in
 * @custody/decision-token and re-exported here for the service's own callers.
 */
// The signing formats are shared with the signer, which verifies the same approvals
// (C-8.2.2.5-a): one definition, in @custody/decision-token.
import {
  APPROVAL_DOMAIN,
  BUNDLE_ACTIVATION_DOMAIN,
  approvalSigningBytes,
  approvalSubjectBytes,
  bundleActivationBytes,
  verifyEd25519Strict as verifySignature,
  type ApprovalSubject,
  type ApprovalVerdict as Verdict,
} from '@custody/decision-token';

import type { DeviceRefusal, RegisteredDevice } from './device-assertion.js';

export { APPROVAL_DOMAIN, BUNDLE_ACTIVATION_DOMAIN, approvalSigningBytes, approvalSubjectBytes, bundleActivationBytes, verifySignature };
export type { ApprovalSubject, Verdict };

export interface Operator {
  readonly operatorId: string;
  readonly roles: readonly string[];
  /** key id → 32-byte Ed25519 public key. */
  readonly keys: ReadonlyMap<string, Uint8Array>;
  /** Registered authenticators (credential id → device), C-8.2.2.5-e (domain/device-assertion.ts). */
  readonly devices?: ReadonlyMap<string, RegisteredDevice> | undefined;
}

export type VoteRefusal =
  | 'UNKNOWN_OPERATOR'
  | 'UNKNOWN_OPERATOR_KEY'
  | 'BAD_APPROVAL_SIGNATURE'
  | 'SELF_APPROVAL'
  | 'DUPLICATE_VOTE'
  | 'ROLE_NOT_HELD'
  | 'ROLE_NOT_REQUIRED'
  | 'APPROVAL_EXPIRED'
  | DeviceRefusal;

export interface VoteCheck {
  readonly subject: ApprovalSubject;
  readonly requestedBy: string;
  readonly operator: Operator | undefined;
  readonly keyId: string;
  readonly role: string;
  readonly verdict: Verdict;
  readonly signature: Uint8Array;
  /** Operators who already voted on this decision. */
  readonly voted: readonly string[];
  /** Unix seconds. */
  readonly now: number;
  readonly operatorId: string;
}

/**
 * The service-side rules of a vote, in order: known operator and key, valid signature over
 * this decision, not the requester, first vote, a role the operator holds and (to approve)
 * one the quorum requires, before the expiry. Returns undefined when the vote counts.
 */
export function checkVote(v: VoteCheck): VoteRefusal | undefined {
  if (!v.operator || v.operator.operatorId !== v.operatorId) return 'UNKNOWN_OPERATOR';
  const key = v.operator.keys.get(v.keyId);
  if (!key) return 'UNKNOWN_OPERATOR_KEY';
  if (!verifySignature(v.signature, approvalSigningBytes(v.subject, v.operatorId, v.role, v.verdict), key)) return 'BAD_APPROVAL_SIGNATURE';
  if (v.operatorId === v.requestedBy) return 'SELF_APPROVAL';
  if (v.voted.includes(v.operatorId)) return 'DUPLICATE_VOTE';
  if (!v.operator.roles.includes(v.role)) return 'ROLE_NOT_HELD';
  if (v.verdict === 'approve' && !v.subject.roles.includes(v.role)) return 'ROLE_NOT_REQUIRED';
  if (v.now >= v.subject.expiresAt) return 'APPROVAL_EXPIRED';
  return undefined;
}

export interface AdminSignature {
  readonly adminId: string;
  readonly keyId: string;
  readonly signature: Uint8Array;
}

/**
 * The distinct admins whose signatures over the activation of `digest` verify; an admin is
 * an operator holding `adminRole`. Activation needs at least `quorum` of them.
 */
export function verifiedAdmins(digest: string, signatures: readonly AdminSignature[], operators: ReadonlyMap<string, Operator>, adminRole: string): string[] {
  const ok = new Set<string>();
  for (const s of signatures) {
    const op = operators.get(s.adminId);
    const key = op?.keys.get(s.keyId);
    if (!op || !key || !op.roles.includes(adminRole)) continue;
    if (verifySignature(s.signature, bundleActivationBytes(digest, s.adminId), key)) ok.add(s.adminId);
  }
  return [...ok].sort();
}
