// Operator approvals of a key transition (suspend/resume): Ed25519 signatures over the signer's
// own canonical bytes, `keyTransitionSigningBytes` from @custody/signer's exported API (never a
// copy of the scheme here). One invocation signs as ONE operator; other operators' approvals of
// the SAME request (request id, key, transition, expiry) come from `custody keys
// sign-transition` documents gathered in an --approvals-file. Pure apart from the signing.
import { sign, type KeyObject } from 'node:crypto';
// The composition layer may use a service's exported API (as deploy/embedded does); the whole-graph
// rule is checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import type { KeyTransitionRequest } from '@custody/signer';
import { CliError, ExitCode, UsageError } from '../types.js';

export type CliTransition = 'suspend' | 'resume';
/** Every request the CLI signs: the two transitions, the generation ceremony and a backup / restore of a key. */
export type SignedTransition = CliTransition | 'generate' | 'backup' | 'restore';
export const TRANSITIONS: readonly SignedTransition[] = ['suspend', 'resume', 'generate', 'backup', 'restore'];

/** The format tag of an approval document printed by `custody keys sign-transition`. */
export const APPROVAL_FORMAT = 'custody.key-approval.v1';

export type SigningBytes = (request: KeyTransitionRequest, operatorId: string) => Uint8Array;

export interface TransitionRequest {
  readonly requestId: string;
  /**
   * The key id as signed: the inventory key id for suspend/resume; for generate, backup and
   * restore the signer's composite ("<key>|<wallet>|…", from its generationRequest /
   * backupRequest / restoreRequest), so an approval binds every parameter of the request.
   */
  readonly keyId: string;
  readonly transition: SignedTransition;
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface ApprovalDoc extends TransitionRequest {
  readonly format: typeof APPROVAL_FORMAT;
  readonly operatorId: string;
  readonly role: string;
  /** The operator's registered key id (not the inventory key). */
  readonly operatorKeyId: string;
  /** 64-byte Ed25519 signature, hex. */
  readonly signature: string;
}

const REQUEST_ID = /^[ -~]{1,128}$/;

export function requireRequestId(value: string): string {
  if (!REQUEST_ID.test(value)) throw new UsageError('--request-id must be 1-128 printable ASCII characters');
  return value;
}

export function requireTransition(value: string): SignedTransition {
  if (!(TRANSITIONS as readonly string[]).includes(value)) throw new UsageError(`--transition must be one of ${TRANSITIONS.join(', ')}`);
  return value as SignedTransition;
}

/** Expiry from --expires-at (unix seconds) or now + --expires-in; at most one hour ahead, never in the past. */
export function expiryOf(nowSeconds: number, expiresAt: string | undefined, expiresIn: string | undefined): number {
  if (expiresAt !== undefined && expiresIn !== undefined) throw new UsageError('give --expires-at or --expires-in, not both');
  if (expiresAt !== undefined) {
    if (!/^\d{1,12}$/.test(expiresAt)) throw new UsageError('--expires-at must be unix seconds');
    const at = Number(expiresAt);
    if (at <= nowSeconds) throw new UsageError('--expires-at is in the past: signatures over an expired request do not count');
    if (at > nowSeconds + 3600) throw new UsageError('--expires-at must be at most one hour ahead');
    return at;
  }
  const inSeconds = expiresIn === undefined ? 900 : /^\d{1,4}$/.test(expiresIn) ? Number(expiresIn) : NaN;
  if (!(inSeconds >= 30 && inSeconds <= 3600)) throw new UsageError('--expires-in must be 30 to 3600 seconds');
  return nowSeconds + inSeconds;
}

export function signTransition(bytesOf: SigningBytes, request: TransitionRequest, signer: { operatorId: string; role: string; operatorKeyId: string }, key: KeyObject): ApprovalDoc {
  const bytes = bytesOf({ requestId: request.requestId, keyId: request.keyId, transition: request.transition, expiresAt: request.expiresAt }, signer.operatorId);
  return { format: APPROVAL_FORMAT, ...request, ...signer, signature: sign(null, bytes, key).toString('hex') };
}

function isDoc(v: unknown): v is ApprovalDoc {
  if (typeof v !== 'object' || v === null) return false;
  const d = v as Record<string, unknown>;
  return (
    d['format'] === APPROVAL_FORMAT &&
    ['requestId', 'keyId', 'transition', 'operatorId', 'role', 'operatorKeyId', 'signature'].every((f) => typeof d[f] === 'string') &&
    typeof d['expiresAt'] === 'number' &&
    Number.isSafeInteger(d['expiresAt']) &&
    /^[0-9a-f]{128}$/.test(String(d['signature']))
  );
}

/**
 * The approvals of an --approvals-file: a JSON array of approval documents, or one document per
 * line (what `sign-transition` prints, concatenated). All must be for the same request; an
 * operator appears once.
 */
export function parseApprovalsFile(text: string): ApprovalDoc[] {
  const trimmed = text.trim();
  let items: unknown[];
  try {
    items = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]) : trimmed.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as unknown);
  } catch {
    throw new UsageError('--approvals-file must hold the JSON documents printed by `custody keys sign-transition` (an array, or one per line)');
  }
  if (!Array.isArray(items) || items.length === 0) throw new UsageError('--approvals-file holds no approvals');
  const docs = items.map((d, i) => {
    if (!isDoc(d)) throw new UsageError(`--approvals-file: entry ${i + 1} is not a ${APPROVAL_FORMAT} approval document`);
    return d;
  });
  const first = docs[0] as ApprovalDoc;
  for (const d of docs) {
    if (d.requestId !== first.requestId || d.keyId !== first.keyId || d.transition !== first.transition || d.expiresAt !== first.expiresAt) {
      throw new UsageError('--approvals-file: the approvals are not all for the same request (request id, key, transition, expiry)');
    }
  }
  const operators = docs.map((d) => d.operatorId);
  if (new Set(operators).size !== operators.length) throw new UsageError('--approvals-file: an operator appears more than once');
  return docs;
}

/** Checks the gathered approvals are for `request` and do not repeat the operator signing now. */
export function checkGathered(docs: readonly ApprovalDoc[], request: TransitionRequest, operatorId: string): void {
  const d = docs[0];
  if (d && (d.keyId !== request.keyId || d.transition !== request.transition)) {
    throw new CliError(ExitCode.USAGE, `--approvals-file approves ${d.transition} of ${d.keyId}, not ${request.transition} of ${request.keyId}`, 'USAGE');
  }
  if (docs.some((x) => x.operatorId === operatorId)) throw new UsageError(`--approvals-file already holds an approval of ${operatorId}: each operator approves once`);
}
