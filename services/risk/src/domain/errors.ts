// Domain errors of the risk service: stable string codes, messages written for the caller.
import { DomainError } from '@custody/platform';

export type RiskErrorCode =
  | 'INVALID_ADDRESS'
  | 'INVALID_AMOUNT'
  | 'INVALID_RULES'
  | 'INVALID_LIST'
  | 'INVALID_ARGUMENT'
  | 'ENTRY_NOT_FOUND'
  | 'ENTRY_ALREADY_REMOVED'
  | 'ENTRY_ALREADY_ACTIVE'
  | 'CASE_NOT_FOUND'
  | 'CASE_ALREADY_RESOLVED'
  | 'OPERATOR_UNAUTHENTICATED'
  | 'OPERATOR_MISMATCH'
  | 'PROFILE_NOT_FOUND'
  | 'PROFILE_VERSION_CONFLICT';

export class RiskError extends DomainError {
  constructor(
    readonly riskCode: RiskErrorCode,
    message: string,
  ) {
    super(riskCode, message);
  }
}
