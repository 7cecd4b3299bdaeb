/**
 * Errors of the decision-token kernel: plain classes with the same stable codes the policy
 * service used before this module moved here. Expected outcomes (a refused token, an
 * approval that does not count) are values, not errors; these are for claims or keys that
 * cannot be used at all. Messages name the field and the rule, never a secret.
 */
export const DECISION_TOKEN_ERROR_CODES = ['DECISION_TOKEN_CLAIMS_INVALID', 'DECISION_TOKEN_KEY_INVALID'] as const;

export type DecisionTokenErrorCode = (typeof DECISION_TOKEN_ERROR_CODES)[number];

export abstract class DecisionTokenError extends Error {
  abstract readonly code: DecisionTokenErrorCode;

  constructor(message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
  }
}

/** Claims that cannot be put in a decision token (the field is named, never the value). */
export class DecisionTokenClaimsError extends DecisionTokenError {
  readonly code = 'DECISION_TOKEN_CLAIMS_INVALID';

  constructor(
    readonly field: string,
    rule: string,
  ) {
    super(`decision token ${field}: ${rule}`);
  }
}

/** A signing key that is not a 32-byte Ed25519 seed with a valid key id. */
export class DecisionTokenKeyError extends DecisionTokenError {
  readonly code = 'DECISION_TOKEN_KEY_INVALID';
}
