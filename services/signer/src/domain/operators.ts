/**
 * Operators and their Ed25519 keys (registered in the signer's config), and the two things
 * they sign that the signer checks itself:
 *  - approvals of a withdrawal decision (format from @custody/decision-token, made by the
 *    policy service's approval flow) — C-8.2.2.5-a (1);
 *  - admin key transitions (this service's own format, below) — C-5.4.2-b, C-5.4.4-a/b.
 *
 *   key transition signed bytes = "custody.key-transition.v1" 0x00
 *       field(0x01 request id) field(0x02 key id) field(0x03 transition)
 *       field(0x04 ttl seconds u64be, 0 = none) field(0x05 max signatures u64be, 0 = none)
 *       field(0x06 request expires at u64be Unix s) field(0x07 operator id)
 *   field = tag:u8 length:u32be value
 */
import { approvalSigningBytes, verifyEd25519Strict, type ApprovalSubject } from '@custody/decision-token';
import type { AdminTransition } from './key.js';

export const KEY_TRANSITION_DOMAIN = 'custody.key-transition.v1';

export interface Operator {
  readonly operatorId: string;
  readonly roles: readonly string[];
  /** key id → 32-byte Ed25519 public key. */
  readonly keys: ReadonlyMap<string, Uint8Array>;
}

export interface OperatorSignature {
  readonly operatorId: string;
  readonly role: string;
  readonly keyId: string;
  readonly signature: Uint8Array;
}

const enc = new TextEncoder();

function field(tag: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + value.length);
  out[0] = tag;
  new DataView(out.buffer).setUint32(1, value.length);
  out.set(value, 5);
  return out;
}

function u64(n: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n));
  return b;
}

export interface KeyTransitionRequest {
  readonly requestId: string;
  readonly keyId: string;
  /** An admin transition, the generation ceremony, or a backup/restore of the key (C-9.3.7.3-c). */
  readonly transition: AdminTransition | 'generate' | 'backup' | 'restore';
  readonly ttlSeconds?: number;
  readonly maxSignatures?: number;
  /** Unix seconds; signatures over an expired request do not count. */
  readonly expiresAt: number;
}

export function keyTransitionSigningBytes(request: KeyTransitionRequest, operatorId: string): Uint8Array {
  const parts = [
    enc.encode(KEY_TRANSITION_DOMAIN),
    Uint8Array.of(0),
    field(0x01, enc.encode(request.requestId)),
    field(0x02, enc.encode(request.keyId)),
    field(0x03, enc.encode(request.transition)),
    field(0x04, u64(request.ttlSeconds ?? 0)),
    field(0x05, u64(request.maxSignatures ?? 0)),
    field(0x06, u64(request.expiresAt)),
    field(0x07, enc.encode(operatorId)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export type SignatureProblem = 'UNKNOWN_OPERATOR' | 'UNKNOWN_OPERATOR_KEY' | 'ROLE_NOT_HELD' | 'ROLE_NOT_ACCEPTED' | 'BAD_SIGNATURE';

export interface QuorumCount {
  /** Distinct operators whose signature counts. */
  readonly operators: readonly string[];
  /** Signatures that did not count, with why (by index in the input). */
  readonly problems: readonly { readonly index: number; readonly problem: SignatureProblem }[];
}

/**
 * Counts distinct operators whose signature over `bytesFor(operatorId, role)` verifies under
 * one of their registered keys, in a role they hold and that `acceptedRoles` accepts.
 */
export function countOperatorSignatures(
  signatures: readonly OperatorSignature[],
  operators: ReadonlyMap<string, Operator>,
  acceptedRoles: readonly string[],
  bytesFor: (operatorId: string, role: string) => Uint8Array,
): QuorumCount {
  const counted = new Set<string>();
  const problems: { index: number; problem: SignatureProblem }[] = [];
  signatures.forEach((s, index) => {
    const operator = operators.get(s.operatorId);
    if (!operator) return problems.push({ index, problem: 'UNKNOWN_OPERATOR' });
    const key = operator.keys.get(s.keyId);
    if (!key) return problems.push({ index, problem: 'UNKNOWN_OPERATOR_KEY' });
    if (!operator.roles.includes(s.role)) return problems.push({ index, problem: 'ROLE_NOT_HELD' });
    if (!acceptedRoles.includes(s.role)) return problems.push({ index, problem: 'ROLE_NOT_ACCEPTED' });
    if (!verifyEd25519Strict(s.signature, bytesFor(s.operatorId, s.role), key)) return problems.push({ index, problem: 'BAD_SIGNATURE' });
    counted.add(s.operatorId);
    return undefined;
  });
  return { operators: [...counted].sort(), problems };
}

/** Counts approvals of a withdrawal decision (verdict "approve" only). */
export function countDecisionApprovals(subject: ApprovalSubject, approvals: readonly OperatorSignature[], operators: ReadonlyMap<string, Operator>): QuorumCount {
  return countOperatorSignatures(approvals, operators, subject.roles, (operatorId, role) => approvalSigningBytes(subject, operatorId, role, 'approve'));
}

/** Counts signatures over an admin key transition. */
export function countTransitionSignatures(request: KeyTransitionRequest, signatures: readonly OperatorSignature[], operators: ReadonlyMap<string, Operator>, acceptedRoles: readonly string[]): QuorumCount {
  return countOperatorSignatures(signatures, operators, acceptedRoles, (operatorId) => keyTransitionSigningBytes(request, operatorId));
}
