/**
 * Domain errors of the signer (plain classes, stable codes; messages never carry key
 * material, token bytes or secrets). Expected refusals of a signing request are values
 * (`Refusal`), not errors: these are for calls that cannot proceed at all.
 */
import { DomainError } from '@custody/platform';

export type SignerErrorCode =
  | 'KEY_NOT_FOUND'
  | 'KEY_EXISTS_FOR_WALLET'
  | 'KEY_ID_EXISTS'
  | 'KEY_ALGORITHM_MISMATCH'
  | 'KEY_CUSTODY_FAILED'
  | 'KEY_CUSTODY_CONFIG_INVALID'
  | 'INVALID_TRANSITION'
  | 'QUORUM_NOT_MET'
  | 'ROLE_MISSING'
  | 'BACKUP_NOT_SUPPORTED'
  | 'BACKUP_INVALID';

export class SignerError extends DomainError {
  override readonly code: SignerErrorCode;

  constructor(code: SignerErrorCode, publicMessage: string, options: { cause?: unknown } = {}) {
    super(code, publicMessage, options);
    this.code = code;
  }
}
