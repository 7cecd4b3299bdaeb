// The withdrawal request as intake stores it, and the validation of a new submission.
import { parseBaseUnits } from './amount.js';
import { checkAddress, type Asset, type AssetRegistry } from './asset-registry.js';
import { InvalidArgumentError } from './errors.js';
import type { WithdrawalStateName } from './withdrawal-state.js';

export interface RequestEvidence {
  readonly keyId: string;
  readonly algorithm: 'ed25519';
  readonly signature: Uint8Array;
  /** The exact canonical bytes that were signed. */
  readonly signedPayload: Uint8Array;
}

export interface Withdrawal {
  readonly id: string;
  readonly clientId: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly chain: string;
  readonly amount: bigint;
  readonly destinationAddress: string;
  readonly destinationTag: string;
  readonly clientReference: string;
  readonly idempotencyKey: string;
  /** SHA-256 of the canonical body: what idempotency compares. */
  readonly requestHash: Uint8Array;
  readonly state: WithdrawalStateName;
  readonly reasonCode: string;
  readonly reasonDetail: string;
  readonly txHash: string;
  readonly confirmations: number;
  readonly evidence: RequestEvidence;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface SubmissionInput {
  readonly idempotencyKey: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly amount: string;
  readonly destinationAddress: string;
  readonly destinationTag: string;
  readonly clientReference: string;
}

export interface ValidSubmission {
  readonly asset: Asset;
  readonly amount: bigint;
  readonly destinationAddress: string;
  readonly destinationTag: string;
}

const TOKEN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

export function validateIdempotencyKey(key: string): void {
  if (key.length === 0) throw new InvalidArgumentError('idempotency_key', 'IDEMPOTENCY_KEY_REQUIRED', 'is required (a unique key per withdrawal, reused only to retry it)');
  if (!TOKEN.test(key)) throw new InvalidArgumentError('idempotency_key', 'IDEMPOTENCY_KEY_MALFORMED', 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
}

export function validateCustomerAccount(account: string): void {
  if (account.length === 0) throw new InvalidArgumentError('customer_account', 'CUSTOMER_ACCOUNT_REQUIRED', 'is required');
  if (!TOKEN.test(account)) throw new InvalidArgumentError('customer_account', 'CUSTOMER_ACCOUNT_MALFORMED', 'must be 1-128 characters of A-Z a-z 0-9 . _ : -');
}

/** Field-by-field validation in request order; the first problem wins. Stores nothing. */
export function validateSubmission(input: SubmissionInput, registry: AssetRegistry): ValidSubmission {
  validateIdempotencyKey(input.idempotencyKey);
  validateCustomerAccount(input.customerAccount);
  const asset = registry.require(input.asset);
  const amount = parseBaseUnits(input.amount);
  const check = checkAddress(asset, input.destinationAddress);
  if (!check.ok) throw new InvalidArgumentError('destination_address', check.code, check.message);
  const tag = input.destinationTag;
  if (asset.destinationTag === 'required' && tag.length === 0) {
    throw new InvalidArgumentError('destination_tag', 'DESTINATION_TAG_REQUIRED', `${asset.id} needs a destination tag/memo, or the funds cannot be attributed`);
  }
  if (asset.destinationTag === 'forbidden' && tag.length > 0) {
    throw new InvalidArgumentError('destination_tag', 'DESTINATION_TAG_NOT_SUPPORTED', `${asset.chain} has no destination tag; it would be lost`);
  }
  if (tag.length > 64) throw new InvalidArgumentError('destination_tag', 'DESTINATION_TAG_MALFORMED', 'is longer than 64 characters');
  if (input.clientReference.length > 128) throw new InvalidArgumentError('client_reference', 'CLIENT_REFERENCE_TOO_LONG', 'is longer than 128 characters');
  // EVM addresses are stored in their checksum form; Bitcoin bech32 in lower case.
  return { asset, amount, destinationAddress: check.normalized, destinationTag: tag };
}
