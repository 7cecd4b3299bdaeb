/**
 * Errors of the policy service's core.
 *
 * Plain classes (no framework types) with a stable UPPER_SNAKE `code` that the service's
 * exception filter maps to a gRPC status. The message is written for the caller; the
 * underlying failure, when there is one, stays in `cause` for the log.
 *
 * Expected outcomes are not errors: a deny, a hold or a refused token are values
 * (`Decision`, `TokenVerification`). These classes are for what should not happen: a
 * broken bundle, a missing entrypoint, an evaluation that crashed, claims that cannot
 * be signed.
 */
export const POLICY_ERROR_CODES = [
  'POLICY_BUNDLE_INVALID',
  'POLICY_ENTRYPOINT_MISSING',
  'POLICY_EVALUATION_FAILED',
  'DECISION_TOKEN_CLAIMS_INVALID',
  'DECISION_TOKEN_KEY_INVALID',
] as const;

export type PolicyErrorCode = (typeof POLICY_ERROR_CODES)[number];

export abstract class PolicyError extends Error {
  abstract readonly code: PolicyErrorCode;

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}

/** The bundle archive is not a usable OPA Wasm bundle. */
export class PolicyBundleError extends PolicyError {
  readonly code = 'POLICY_BUNDLE_INVALID';
}

/** The Wasm module does not export the entrypoint the service evaluates. */
export class PolicyEntrypointError extends PolicyError {
  readonly code = 'POLICY_ENTRYPOINT_MISSING';

  constructor(
    readonly entrypoint: string,
    readonly available: readonly string[],
  ) {
    super(`policy bundle has no entrypoint ${entrypoint} (it has: ${available.join(', ') || 'none'})`);
  }
}

/** Evaluating the policy failed (a Wasm abort, a builtin error, a conflict). */
export class PolicyEvaluationError extends PolicyError {
  readonly code = 'POLICY_EVALUATION_FAILED';
}

/** Claims that cannot be put in a decision token (the field is named, never the value). */
export class DecisionTokenClaimsError extends PolicyError {
  readonly code = 'DECISION_TOKEN_CLAIMS_INVALID';

  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`decision token ${field}: ${rule}`);
  }
}

/** A signing key that is not a 32-byte Ed25519 seed with a valid key id. */
export class DecisionTokenKeyError extends PolicyError {
  readonly code = 'DECISION_TOKEN_KEY_INVALID';
}
