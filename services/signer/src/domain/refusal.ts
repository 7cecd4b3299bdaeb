/**
 * Why the signer will not sign: stable codes, carried in `tx.refused` (TxSigningRefused
 * reason_code) and as the `reason` label of the refusals metric. The detail names fields,
 * never values that could be secret.
 */
export const REFUSAL_CODES = [
  'MALFORMED_REQUEST',
  'TOKEN_MALFORMED',
  'TOKEN_UNKNOWN_KEY',
  'TOKEN_BAD_SIGNATURE',
  'TOKEN_EXPIRED',
  'TOKEN_NOT_YET_VALID',
  'TOKEN_BINDING_MISMATCH',
  'APPROVALS_EXPIRED',
  'APPROVAL_INVALID',
  'QUORUM_NOT_MET',
  'ASSET_NOT_SUPPORTED',
  'CHAIN_MISMATCH',
  'WALLET_UNKNOWN',
  'KEY_NOT_ACTIVE',
  'KEY_SUSPENDED',
  'KEY_RETIRED',
  'TIER_CAP_EXCEEDED',
  'TX_MALFORMED',
  'TX_CHAIN_ID_MISMATCH',
  'TX_DESTINATION_MISMATCH',
  'TX_AMOUNT_MISMATCH',
  'TX_DATA_NOT_ALLOWED',
  'TX_FEE_ABOVE_CAP',
  'TX_NONCE_MISMATCH',
  'TX_SENDER_MISMATCH',
  'TX_EXTRA_OUTPUT',
  'TX_INPUT_NOT_OURS',
  'DECISION_ALREADY_USED',
  'CUSTODY_FAILED',
] as const;

export type RefusalCode = (typeof REFUSAL_CODES)[number];

export interface Refusal {
  readonly code: RefusalCode;
  readonly detail: string;
}

export const refusal = (code: RefusalCode, detail: string): Refusal => Object.freeze({ code, detail });
