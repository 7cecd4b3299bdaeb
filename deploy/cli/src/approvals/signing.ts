// What an operator's client does before it votes: load the operator's Ed25519 key, rebuild
// the signed subject from the fields the server listed, check it equals the server's
// approve_payload (a client never signs bytes it did not derive itself), and sign
// `approvalSigningBytes` from @custody/decision-token — the one definition the policy
// service verifies against. The key stays in a KeyObject; no message here contains it.
import { createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { approvalSigningBytes, approvalSubjectBytes, type ApprovalSubject, type ApprovalVerdict } from '@custody/decision-token';
import type { PendingApproval } from '@custody/contracts';
import { CliError, ExitCode, UsageError } from '../types.js';
import type { DeviceAssertionWire } from './authenticator.js';

/** PKCS#8 DER prefix of an Ed25519 private key (RFC 8410): the 32-byte seed follows. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/**
 * The operator key from a key file's contents: a PKCS#8 PEM Ed25519 private key
 * (`openssl genpkey -algorithm ed25519`), or a 32-byte seed as 64 hex digits or base64 (the
 * format of the policy tools' --key-file). Errors name the problem, never the contents.
 */
export function parseOperatorKey(contents: string): KeyObject {
  const text = contents.trim();
  let key: KeyObject;
  if (text.startsWith('-----BEGIN')) {
    if (!text.startsWith('-----BEGIN PRIVATE KEY-----')) throw new UsageError('the key file must hold a PKCS#8 private key ("BEGIN PRIVATE KEY"), an Ed25519 seed in hex or base64');
    try {
      key = createPrivateKey({ key: text, format: 'pem' });
    } catch {
      throw new UsageError('the key file is not a readable PKCS#8 PEM private key');
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new UsageError(`the key file holds a ${key.asymmetricKeyType ?? 'non-asymmetric'} key; operators sign with Ed25519`);
    return key;
  }
  const seed = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : /^[A-Za-z0-9+/]{43}=?$/.test(text) ? Buffer.from(text, 'base64') : undefined;
  if (seed?.length !== 32) throw new UsageError('the key file must hold a PKCS#8 PEM Ed25519 private key, or a 32-byte seed as 64 hex digits or base64');
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  try {
    return createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } finally {
    der.fill(0);
    seed.fill(0);
  }
}

/** Raw 32-byte public key, hex (safe to show: it is what the operators file registers). */
export function publicKeyHex(key: KeyObject): string {
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url').toString('hex');
}

const AMOUNT = /^(0|[1-9]\d{0,77})$/;

/** The subject the operator signs, rebuilt from the listed fields. */
export function subjectOf(p: PendingApproval): ApprovalSubject {
  if (!AMOUNT.test(p.amount)) throw new CliError(ExitCode.FAILED, `the server listed a malformed amount for ${p.decisionId}: not signing`, 'PENDING_MALFORMED');
  if (!/^[0-9a-f]{64}$/.test(p.bundleDigest)) throw new CliError(ExitCode.FAILED, `the server listed a malformed bundle digest for ${p.decisionId}: not signing`, 'PENDING_MALFORMED');
  const seconds = p.expiresAt ? Number(p.expiresAt.seconds) : Number.NaN;
  if (!Number.isSafeInteger(seconds) || seconds <= 0) throw new CliError(ExitCode.FAILED, `the server listed no expiry for ${p.decisionId}: not signing`, 'PENDING_MALFORMED');
  return {
    decisionId: p.decisionId,
    withdrawalId: p.withdrawalId,
    asset: p.asset,
    sourceWallet: p.sourceWallet,
    destinationAddress: p.destinationAddress,
    destinationTag: p.destinationTag,
    amount: BigInt(p.amount),
    bundleDigest: p.bundleDigest,
    quorum: p.quorum,
    roles: [...p.roles],
    expiresAt: seconds,
  };
}

/** True when the server's approve_payload equals the bytes rebuilt from the listed fields. */
export function payloadMatches(p: PendingApproval): boolean {
  return Buffer.from(approvalSubjectBytes(subjectOf(p))).equals(Buffer.from(p.approvePayload));
}

export interface SignedVote {
  readonly decisionId: string;
  readonly operatorId: string;
  readonly role: string;
  readonly keyId: string;
  readonly signature: Buffer;
  /** The WebAuthn assertion of the operator's registered authenticator (C-8.2.2.5-e), when one is used. */
  readonly deviceAssertion?: DeviceAssertionWire;
}

/**
 * Signs `verdict` on the listed decision as `operatorId` in `role`. Refuses (exit 1,
 * APPROVE_PAYLOAD_MISMATCH) when the listed fields and approve_payload disagree.
 */
export function signVote(
  p: PendingApproval,
  vote: { operatorId: string; role: string; keyId: string; verdict: ApprovalVerdict },
  key: KeyObject,
  authenticator?: { assert: (subject: ApprovalSubject, operatorId: string, role: string, verdict: ApprovalVerdict) => DeviceAssertionWire },
): SignedVote {
  if (!payloadMatches(p)) {
    throw new CliError(ExitCode.FAILED, `the server's approve_payload for ${p.decisionId} does not match the fields it listed: not signing`, 'APPROVE_PAYLOAD_MISMATCH');
  }
  const subject = subjectOf(p);
  const bytes = approvalSigningBytes(subject, vote.operatorId, vote.role, vote.verdict);
  const signed = { decisionId: p.decisionId, operatorId: vote.operatorId, role: vote.role, keyId: vote.keyId, signature: sign(null, bytes, key) };
  return authenticator ? { ...signed, deviceAssertion: authenticator.assert(subject, vote.operatorId, vote.role, vote.verdict) } : signed;
}

const IDENT = /^[!-~]{1,256}$/;

/** Identifiers the server accepts: 1-256 printable ASCII characters. */
export function requireIdentifier(name: string, value: string): string {
  if (!IDENT.test(value)) throw new UsageError(`${name} must be 1-256 printable ASCII characters`);
  return value;
}
