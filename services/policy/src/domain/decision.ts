/**
 * The policy decision: the value the Rego entrypoint `custody/decision/decision` returns
 * (docs/policies.md), parsed strictly.
 *
 * The Wasm module is trusted to be the reviewed bundle, not to be bug-free: anything that
 * is not exactly the documented shape becomes a deny with reason `policy_output_invalid`.
 * Parsing never throws; a decision that cannot be read is a deny (fail closed).
 */
import { isCanonicalTimestamp } from './timestamp.js';

export const OUTCOMES = ['allow', 'deny', 'require_approval', 'hold'] as const;
export type Outcome = (typeof OUTCOMES)[number];

/** Reason codes the service itself gives (the policies give theirs in METADATA). */
export const SERVICE_REASON = {
  /** The entrypoint produced no value (empty result set). */
  policyUndefined: 'policy_undefined',
  /** The entrypoint produced a value that is not a decision. */
  policyOutputInvalid: 'policy_output_invalid',
} as const;

export interface Reason {
  /** Stable machine-readable code (lower_snake_case), e.g. `limit_single_exceeded`. */
  readonly code: string;
  /** Explanation for people; not stable. */
  readonly detail: string;
}

export interface ApprovalRequirement {
  /** Distinct approvers needed; 0 when none. */
  readonly quorum: number;
  /** Roles that must each be represented among the approvers, sorted. */
  readonly roles: readonly string[];
  /** How long the approval request and each vote stay valid. */
  readonly expiresInSeconds: number;
}

interface DecisionFields {
  readonly reasons: readonly Reason[];
  readonly approvals: ApprovalRequirement;
}

export type Decision =
  | (DecisionFields & { readonly outcome: 'allow' | 'deny' | 'require_approval' })
  | (DecisionFields & { readonly outcome: 'hold'; readonly holdUntil: string });

export const NO_APPROVALS: ApprovalRequirement = Object.freeze({ quorum: 0, roles: Object.freeze([]), expiresInSeconds: 0 });

const CODE = /^[a-z][a-z0-9_]{0,63}$/;
const MAX_REASONS = 64;
const MAX_DETAIL = 4096;
const MAX_QUORUM = 64;

/** A deny decision with one reason. */
export function denyDecision(code: string, detail: string): Decision {
  return freezeDecision({ outcome: 'deny', reasons: [{ code, detail }], approvals: NO_APPROVALS });
}

/**
 * Reads the raw entrypoint value. Exactly the keys outcome, reasons, approvals (and
 * hold_until when, and only when, the outcome is hold); every field typed and bounded;
 * reasons non-empty unless allow; require_approval with a quorum of at least 1; deny
 * without approvals. Anything else: deny `policy_output_invalid`.
 */
export function parseDecision(raw: unknown): Decision {
  const result = readDecision(raw);
  return typeof result === 'string' ? denyDecision(SERVICE_REASON.policyOutputInvalid, result) : result;
}

function readDecision(raw: unknown): Decision | string {
  if (!isPlainObject(raw)) return 'decision is not an object';
  const outcome = raw['outcome'];
  if (!isOutcome(outcome)) return `unknown outcome ${describe(outcome)}`;
  const expectedKeys = outcome === 'hold' ? ['approvals', 'hold_until', 'outcome', 'reasons'] : ['approvals', 'outcome', 'reasons'];
  const keys = Object.keys(raw).sort();
  if (keys.join() !== expectedKeys.join()) return `decision keys are [${keys.join(', ')}], expected [${expectedKeys.join(', ')}]`;

  const reasons = readReasons(raw['reasons']);
  if (typeof reasons === 'string') return reasons;
  if (outcome !== 'allow' && reasons.length === 0) return `${outcome} without a reason`;

  const approvals = readApprovals(raw['approvals']);
  if (typeof approvals === 'string') return approvals;
  if (outcome === 'require_approval' && (approvals.quorum < 1 || approvals.expiresInSeconds < 1)) {
    return 'require_approval without a quorum and an expiry';
  }
  if (outcome === 'deny' && approvals.quorum !== 0) return 'deny with an approval requirement';

  if (outcome === 'hold') {
    const holdUntil = raw['hold_until'];
    if (!isCanonicalTimestamp(holdUntil)) return `hold_until ${describe(holdUntil)} is not a canonical UTC timestamp`;
    return freezeDecision({ outcome, reasons, approvals, holdUntil });
  }
  return freezeDecision({ outcome, reasons, approvals });
}

function readReasons(raw: unknown): Reason[] | string {
  if (!Array.isArray(raw)) return 'reasons is not an array';
  if (raw.length > MAX_REASONS) return `more than ${MAX_REASONS} reasons`;
  const reasons: Reason[] = [];
  for (const [i, item] of raw.entries()) {
    if (!isPlainObject(item) || Object.keys(item).sort().join() !== 'code,detail') return `reasons[${i}] is not {code, detail}`;
    const { code, detail } = item;
    if (typeof code !== 'string' || !CODE.test(code)) return `reasons[${i}].code ${describe(code)} is not a reason code`;
    if (typeof detail !== 'string' || detail.length > MAX_DETAIL) return `reasons[${i}].detail is not a string of at most ${MAX_DETAIL} characters`;
    reasons.push({ code, detail });
  }
  return reasons;
}

function readApprovals(raw: unknown): ApprovalRequirement | string {
  if (!isPlainObject(raw) || Object.keys(raw).sort().join() !== 'expires_in_seconds,quorum,roles') {
    return 'approvals is not {quorum, roles, expires_in_seconds}';
  }
  const { quorum, roles, expires_in_seconds: expiresInSeconds } = raw;
  if (!Number.isSafeInteger(quorum) || (quorum as number) < 0 || (quorum as number) > MAX_QUORUM) {
    return `approvals.quorum ${describe(quorum)} is not an integer from 0 to ${MAX_QUORUM}`;
  }
  if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string' && CODE.test(r))) {
    return 'approvals.roles is not an array of role names';
  }
  if (new Set(roles).size !== roles.length) return 'approvals.roles has duplicates';
  if (roles.length > (quorum as number)) return 'approvals.roles has more roles than the quorum';
  if (!Number.isSafeInteger(expiresInSeconds) || (expiresInSeconds as number) < 0) {
    return `approvals.expires_in_seconds ${describe(expiresInSeconds)} is not a non-negative integer`;
  }
  return { quorum: quorum as number, roles: [...roles].sort(), expiresInSeconds: expiresInSeconds as number };
}

function freezeDecision(decision: Decision): Decision {
  for (const reason of decision.reasons) Object.freeze(reason);
  Object.freeze(decision.reasons);
  Object.freeze(decision.approvals.roles);
  Object.freeze(decision.approvals);
  return Object.freeze(decision);
}

function isOutcome(value: unknown): value is Outcome {
  return typeof value === 'string' && (OUTCOMES as readonly string[]).includes(value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (value === undefined) return 'undefined';
  return typeof value === 'object' ? (Array.isArray(value) ? 'an array' : value === null ? 'null' : 'an object') : String(value);
}
