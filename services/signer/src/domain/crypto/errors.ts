/**
 * Input errors of the signer's crypto kernel.
 *
 * A plain class (no framework types), with a stable string `code` that the service's
 * exception filter can map to a gRPC status, and the `field` that was refused. The
 * message names the field and the rule, never the value: inputs here include secret keys.
 */
export const SIGNER_INPUT_ERROR_CODES = [
  'INVALID_TYPE',
  'INVALID_LENGTH',
  'INVALID_HEX',
  'OUT_OF_RANGE',
  'INVALID_SECRET_KEY',
  'INVALID_PUBLIC_KEY',
  'INVALID_SIGNATURE',
  'HIGH_S_SIGNATURE',
  'RECOVERY_FAILED',
  'INVALID_MNEMONIC',
  'INVALID_PATH',
  'INVALID_EXTENDED_KEY',
  'INVALID_RLP',
  'INVALID_ADDRESS',
  'INVALID_TRANSACTION',
  'MISSING_CHAIN_ID',
  'DANGEROUS_EXPORT_NOT_ACKNOWLEDGED',
] as const;

export type SignerInputErrorCode = (typeof SIGNER_INPUT_ERROR_CODES)[number];

export class SignerInputError extends Error {
  override readonly name = 'SignerInputError';
  readonly code: SignerInputErrorCode;
  readonly field: string;

  constructor(code: SignerInputErrorCode, field: string, rule: string) {
    super(`${field}: ${rule}`);
    this.code = code;
    this.field = field;
  }
}
