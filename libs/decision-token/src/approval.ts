/**
 * What operators and admins sign: approvals (C-9.3.6.2-c; recorded by the policy service,
 * verified again by the signer for C-8.2.2.5-a) and policy bundle activations (C-9.3.2-a).
 * The single definition of these formats; policy and signer both import it.
 *
 *   signed  = "custody.approval.v1" 0x00 payload
 *   payload = field(0x01 decision id) field(0x02 withdrawal id) field(0x03 asset)
 *             field(0x04 source wallet) field(0x05 destination address)
 *             field(0x06 destination tag, empty = none) field(0x07 amount, canonical decimal)
 *             field(0x08 bundle digest, 32 bytes) field(0x09 quorum u32be)
 *             field(0x0a roles, sorted, each length:u8 name) field(0x0b expires at u64be s)
 *             field(0x0c operator id) field(0x0d role) field(0x0e verdict "approve"|"reject")
 *   field   = tag:u8 length:u32be value
 *
 * Bundle activation: signed = "custody.bundle-activation.v1" 0x00 field(0x01 digest 32 bytes)
 * field(0x02 admin id).
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { hex } from '@scure/base';

export const APPROVAL_DOMAIN = 'custody.approval.v1';

export type ApprovalVerdict = 'approve' | 'reject';

/** The decision fields an approval binds. */
export interface ApprovalSubject {
  readonly decisionId: string;
  readonly withdrawalId: string;
  readonly asset: string;
  readonly sourceWallet: string;
  readonly destinationAddress: string;
  /** Empty string when the destination has no tag. */
  readonly destinationTag: string;
  readonly amount: bigint;
  /** 64 lowercase hex characters. */
  readonly bundleDigest: string;
  readonly quorum: number;
  readonly roles: readonly string[];
  /** Unix seconds: the end of the approval window the operators signed. */
  readonly expiresAt: number;
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

function rolesBytes(roles: readonly string[]): Uint8Array {
  const sorted = [...new Set(roles)].sort();
  return concat(sorted.map((r) => concat([Uint8Array.of(enc.encode(r).length), enc.encode(r)])));
}

function digestBytes(hexDigest: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hexDigest)) throw new RangeError('bundle digest must be 64 lowercase hex characters');
  return hex.decode(hexDigest);
}

/**
 * The operator-independent part of what is signed: the domain and fields 0x01-0x0b. The
 * ApprovalService lists it (PendingApproval.approve_payload) so a client can compare it
 * with the bytes it rebuilt from the displayed fields before signing.
 */
export function approvalSubjectBytes(subject: ApprovalSubject): Uint8Array {
  if (subject.amount < 0n) throw new RangeError('amount must not be negative');
  return concat([
    enc.encode(APPROVAL_DOMAIN),
    Uint8Array.of(0),
    field(0x01, enc.encode(subject.decisionId)),
    field(0x02, enc.encode(subject.withdrawalId)),
    field(0x03, enc.encode(subject.asset)),
    field(0x04, enc.encode(subject.sourceWallet)),
    field(0x05, enc.encode(subject.destinationAddress)),
    field(0x06, enc.encode(subject.destinationTag)),
    field(0x07, enc.encode(subject.amount.toString(10))),
    field(0x08, digestBytes(subject.bundleDigest)),
    field(0x09, u32(subject.quorum)),
    field(0x0a, rolesBytes(subject.roles)),
    field(0x0b, u64(subject.expiresAt)),
  ]);
}

/** The bytes an operator signs to approve or reject `subject` in `role`. */
export function approvalSigningBytes(subject: ApprovalSubject, operatorId: string, role: string, verdict: ApprovalVerdict): Uint8Array {
  return concat([approvalSubjectBytes(subject), field(0x0c, enc.encode(operatorId)), field(0x0d, enc.encode(role)), field(0x0e, enc.encode(verdict))]);
}

export const BUNDLE_ACTIVATION_DOMAIN = 'custody.bundle-activation.v1';

/** The bytes an admin signs to activate the policy bundle with `digest`. */
export function bundleActivationBytes(digest: string, adminId: string): Uint8Array {
  return concat([enc.encode(BUNDLE_ACTIVATION_DOMAIN), Uint8Array.of(0), field(0x01, digestBytes(digest)), field(0x02, enc.encode(adminId))]);
}

/** Strict RFC 8032 Ed25519 verification (noble `zip215: false`); false for any malformed input. */
export function verifyEd25519Strict(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || !(publicKey instanceof Uint8Array)) return false;
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
