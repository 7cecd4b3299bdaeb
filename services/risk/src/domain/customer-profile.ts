// Customer profiles as operators record them: the facts screening uses (KYC outcome,
// jurisdiction, account opening), validated field by field, and the optimistic-concurrency
// rule of their versions. Plain functions, no I/O.
import { RiskError } from './errors.js';
import type { CustomerProfile, KycStatus } from './screening.js';

export const KYC_STATUSES: readonly KycStatus[] = Object.freeze(['verified', 'pending', 'rejected']);

/** A customer account as carried by withdrawal/deposit events. */
const ACCOUNT = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
/** ISO 3166-1 alpha-2 shape (two upper-case letters; EU is exceptionally reserved and accepted). */
const JURISDICTION = /^[A-Z]{2}$/;
export const MAX_PROFILE_NOTE = 1000;

/** A stored profile: the facts plus who recorded which version when. */
export interface CustomerProfileRecord extends CustomerProfile {
  readonly version: number;
  readonly updatedBy: string;
  readonly updatedAt: Date;
}

export interface CustomerProfileInput {
  readonly customerAccount: string;
  readonly kycStatus: string;
  readonly jurisdiction: string;
  readonly openedAt: Date | undefined;
}

const invalid = (field: string, why: string): RiskError => new RiskError('INVALID_ARGUMENT', `${field} ${why}`);

export function validateCustomerAccount(account: string, field = 'customer_account'): string {
  if (!account) throw invalid(field, 'is required');
  if (!ACCOUNT.test(account)) throw invalid(field, 'must be 1..128 characters: letters, digits and . _ : @ - (starting with a letter or digit)');
  return account;
}

/** Validates every field (the first bad one is named); `now` bounds opened_at. */
export function validateCustomerProfile(input: CustomerProfileInput, now: Date): CustomerProfile {
  const customerAccount = validateCustomerAccount(input.customerAccount);
  if (!KYC_STATUSES.includes(input.kycStatus as KycStatus)) throw invalid('kyc_status', 'must be verified, pending or rejected');
  if (!JURISDICTION.test(input.jurisdiction)) throw invalid('jurisdiction', 'must be an ISO 3166-1 alpha-2 code (two upper-case letters, e.g. US, JP, EU)');
  const openedAt = input.openedAt;
  if (!openedAt) throw invalid('opened_at', 'is required');
  if (Number.isNaN(openedAt.getTime())) throw invalid('opened_at', 'is not a valid timestamp');
  if (openedAt.getTime() > now.getTime()) throw invalid('opened_at', 'must not be in the future');
  return { customerAccount, kycStatus: input.kycStatus as KycStatus, jurisdiction: input.jurisdiction, openedAt };
}

export function validateExpectedVersion(v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw invalid('expected_version', 'must be a non-negative integer');
  return v;
}

/**
 * Optimistic concurrency: an upsert replaces exactly the version it names (0 = the profile
 * must not exist yet). Anything else is a conflict: the caller read a version someone has
 * since changed (or created), and must read again before deciding.
 */
export function assertExpectedVersion(customerAccount: string, expected: number, current: number | undefined): void {
  if (expected === 0 && current !== undefined) {
    throw new RiskError('PROFILE_VERSION_CONFLICT', `customer ${customerAccount} already has a profile (version ${current}): read it and send expected_version ${current} to change it`);
  }
  if (expected > 0 && current === undefined) throw new RiskError('PROFILE_VERSION_CONFLICT', `customer ${customerAccount} has no profile: send expected_version 0 to create it`);
  if (expected > 0 && current !== expected) {
    throw new RiskError('PROFILE_VERSION_CONFLICT', `customer ${customerAccount} is at version ${current}, not ${expected}: someone changed it since it was read`);
  }
}
