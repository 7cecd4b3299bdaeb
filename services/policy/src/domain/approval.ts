/**
 * Operator approvals (C-9.3.6.2-c) and admin bundle activation (C-9.3.2-a): what is
 * signed, and the rules a vote must pass before it is recorded.
 *
 * An approval is the operator's Ed25519 signature over the canonical bytes of the pending
 * decision, domain-separated so a vote can never be confused with a decision token or a
 * bundle activation:
 *
 *   signed = "custody.approval.v1" 0x00 payload
 *   payload = field(0x01 decision id) field(0x02 withdrawal id) field(0x03 asset)
 *             field(0x04 source wallet) field(0x05 destination address)
 *             field(0x06 destination tag, empty = none) field(0x07 amount, canonical decimal)
 *             field(0x08 bundle digest, 32 bytes) field(0x09 quorum u32be)
 *             field(0x0a roles, sorted, each length:u8 name) field(0x0b expires at u64be s)
 *             field(0x0c operator id) field(0x0d role) field(0x0e verdict "approve"|"reject")
 *   field  = tag:u8 length:u32be value
 *
 * Bundle activation: signed = "custody.bundle-activation.v1" 0x00 field(0x01 digest 32 bytes)
 * field(0x02 admin id).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { formatAmount } from './amount.js';

export const APPROVAL_DOMAIN = 'custody.approval.v1';
export const BUNDLE_ACTIVATION_DOMAIN = 'custody.bundle-activation.v1';

export type Verdict = 'approve' | 'reject';

/** The pending decision fields an approval binds. */
export interface ApprovalSubject {
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly asset: string;
  readonly sourceWallet: string;
  readonly destinationAddress: string;
  readonly destinationTag: string;
  readonly amount: bigint;
  readonly bundleDigest: string;
  readonly quorum: number;
  readonly roles: readonly string[];
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface Operator {
  readonly operatorId: string;
  readonly roles: readonly string[];
  /** key id → 32-byte Ed25519 public key. */
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

const enc = new TextEncoder();

function field(tag: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + value.length);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, value.length);
  out.set(value, 5);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

function digestBytes(hexDigest: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hexDigest)) throw new RangeError('bundle digest must be 64 lowercase hex characters');
  return Uint8Array.from(Buffer.from(hexDigest, 'hex'));
}

function rolesBytes(roles: readonly string[]): Uint8Array {
  const sorted = [...new Set(roles)].sort();
  return concat(sorted.map((r) => concat([Uint8Array.of(enc.encode(r).length), enc.encode(r)])));
}

/**
 * The operator-independent part of what is signed: the domain and fields 0x01-0x0b. The
 * ApprovalService lists it (PendingApproval.approve_payload) so a client can compare it
 * with the bytes it rebuilt from the displayed fields before signing.
 */
export function approvalSubjectBytes(subject: ApprovalSubject): Uint8Array {
  return concat([
    enc.encode(APPROVAL_DOMAIN),
    Uint8Array.of(0),
    field(0x01, enc.encode(subject.decisionId)),
    field(0x02, enc.encode(subject.withdrawalId)),
    field(0x03, enc.encode(subject.asset)),
    field(0x04, enc.encode(subject.sourceWallet)),
    field(0x05, enc.encode(subject.destinationAddress)),
    field(0x06, enc.encode(subject.destinationTag)),
    field(0x07, enc.encode(formatAmount(subject.amount))),
    field(0x08, digestBytes(subject.bundleDigest)),
    field(0x09, u32(subject.quorum)),
    field(0x0a, rolesBytes(subject.roles)),
    field(0x0b, u64(subject.expiresAt)),
  ]);
}

/** The bytes an operator signs to approve or reject `subject` in `role`. */
export function approvalSigningBytes(subject: ApprovalSubject, operatorId: string, role: string, verdict: Verdict): Uint8Array {
  return concat([approvalSubjectBytes(subject), field(0x0c, enc.encode(operatorId)), field(0x0d, enc.encode(role)), field(0x0e, enc.encode(verdict))]);
}

/** The bytes an admin signs to activate the bundle with `digest`. */
export function bundleActivationBytes(digest: string, adminId: string): Uint8Array {
  return concat([enc.encode(BUNDLE_ACTIVATION_DOMAIN), Uint8Array.of(0), field(0x01, digestBytes(digest)), field(0x02, enc.encode(adminId))]);
}

/** Strict RFC 8032 verification; false for any malformed input. */
export function verifySignature(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** Why a vote is refused (the stable error code the gRPC layer maps). */
export type VoteRefusal =
  | 'UNKNOWN_OPERATOR'
  | 'UNKNOWN_OPERATOR_KEY'
  | 'BAD_APPROVAL_SIGNATURE'
  | 'SELF_APPROVAL'
  | 'DUPLICATE_VOTE'
  | 'ROLE_NOT_HELD'
  | 'ROLE_NOT_REQUIRED'
  | 'APPROVAL_EXPIRED';

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
