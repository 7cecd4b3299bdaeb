// @custody/decision-token — the policy decision token and operator approval bytes, shared by
// the policy service (signs) and the signer (verifies). Named exports only.
export {
  DECISION_TOKEN_DOMAIN,
  signDecisionToken,
  decisionTokenPublicKey,
  verifyDecisionToken,
  encodeDecisionTokenPayload,
  decodeDecisionTokenPayload,
  type TokenDestination,
  type TokenApprovals,
  type DecisionTokenClaims,
  type UnsignedDecisionToken,
  type DecisionSigningKey,
  type TokenBinding,
  type VerifyDecisionTokenOptions,
  type TokenRefusal,
  type TokenVerification,
} from './decision-token.js';
export {
  APPROVAL_DOMAIN,
  BUNDLE_ACTIVATION_DOMAIN,
  approvalSubjectBytes,
  approvalSigningBytes,
  bundleActivationBytes,
  verifyEd25519Strict,
  type ApprovalSubject,
  type ApprovalVerdict,
} from './approval.js';
export { DecisionTokenError, DecisionTokenClaimsError, DecisionTokenKeyError, DECISION_TOKEN_ERROR_CODES, type DecisionTokenErrorCode } from './errors.js';
export type { Clock } from './clock.js';
