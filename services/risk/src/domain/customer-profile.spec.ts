// Customer profile validation (every field named in the error) and the optimistic-concurrency rule.
import { describe, expect, it } from '@jest/globals';
import { assertExpectedVersion, validateCustomerProfile, validateExpectedVersion, type CustomerProfileInput } from './customer-profile.js';
import { RiskError } from './errors.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const good: CustomerProfileInput = { customerAccount: 'acct-retail-1', kycStatus: 'verified', jurisdiction: 'US', openedAt: new Date('2024-03-15T09:30:00Z') };

function refusal(fn: () => unknown): RiskError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RiskError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('validateCustomerProfile', () => {
  it('accepts a complete profile and returns exactly its facts', () => {
    expect(validateCustomerProfile(good, NOW)).toEqual(good);
    expect(validateCustomerProfile({ ...good, customerAccount: 'customer:client-1:a.b@c', kycStatus: 'rejected', jurisdiction: 'EU', openedAt: NOW }, NOW).kycStatus).toBe('rejected');
  });

  it.each<[string, Partial<CustomerProfileInput>, string]>([
    ['missing account', { customerAccount: '' }, 'customer_account is required'],
    ['account with a space', { customerAccount: 'acct 1' }, 'customer_account must be'],
    ['account starting with a dash', { customerAccount: '-acct' }, 'customer_account must be'],
    ['account longer than 128', { customerAccount: `a${'b'.repeat(128)}` }, 'customer_account must be'],
    ['unknown KYC status', { kycStatus: 'approved' }, 'kyc_status must be verified, pending or rejected'],
    ['empty KYC status', { kycStatus: '' }, 'kyc_status'],
    ['lower-case jurisdiction', { jurisdiction: 'us' }, 'jurisdiction must be an ISO 3166-1 alpha-2 code'],
    ['three-letter jurisdiction', { jurisdiction: 'USA' }, 'jurisdiction must be an ISO 3166-1 alpha-2 code'],
    ['empty jurisdiction', { jurisdiction: '' }, 'jurisdiction'],
    ['no opening date', { openedAt: undefined }, 'opened_at is required'],
    ['invalid opening date', { openedAt: new Date(Number.NaN) }, 'opened_at is not a valid timestamp'],
    ['opening date in the future', { openedAt: new Date(NOW.getTime() + 1) }, 'opened_at must not be in the future'],
  ])('refuses %s with INVALID_ARGUMENT naming the field', (_what, change, message) => {
    const err = refusal(() => validateCustomerProfile({ ...good, ...change }, NOW));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toContain(message);
  });

  it('names the first bad field when several are bad', () => {
    expect(refusal(() => validateCustomerProfile({ ...good, kycStatus: 'x', jurisdiction: 'x' }, NOW)).message).toMatch(/^kyc_status/);
  });
});

describe('optimistic concurrency of profile versions', () => {
  it('expected_version must be a non-negative integer', () => {
    expect(validateExpectedVersion(0)).toBe(0);
    expect(validateExpectedVersion(7)).toBe(7);
    expect(refusal(() => validateExpectedVersion(-1)).message).toContain('expected_version');
    expect(refusal(() => validateExpectedVersion(1.5)).code).toBe('INVALID_ARGUMENT');
  });

  it('0 creates only when there is no profile', () => {
    expect(() => assertExpectedVersion('a', 0, undefined)).not.toThrow();
    const err = refusal(() => assertExpectedVersion('a', 0, 3));
    expect(err.code).toBe('PROFILE_VERSION_CONFLICT');
    expect(err.message).toContain('version 3');
  });

  it('n changes only version n', () => {
    expect(() => assertExpectedVersion('a', 3, 3)).not.toThrow();
    expect(refusal(() => assertExpectedVersion('a', 2, 3)).message).toContain('is at version 3, not 2');
    expect(refusal(() => assertExpectedVersion('a', 4, 3)).code).toBe('PROFILE_VERSION_CONFLICT');
    expect(refusal(() => assertExpectedVersion('a', 1, undefined)).message).toContain('has no profile');
  });
});
