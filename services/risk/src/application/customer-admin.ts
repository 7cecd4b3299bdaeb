// Use cases behind the operator CustomerProfileService: record (create or change) a
// customer's profile with optimistic concurrency, read one, page through them. Every upsert
// is validated, its version precondition checked, then recorded by the audit service
// (AuditService/RecordOperatorAction through the platform's operator audit gate) BEFORE it is
// stored; if audit does not commit the record the upsert is refused (AUDIT_UNAVAILABLE) and
// nothing changes. The store writes the profile and risk's own audit-log row in one
// transaction, conditional on the version (a concurrent change in between is a conflict).
import type { OperatorAuditGate } from '@custody/platform';
import {
  assertExpectedVersion,
  MAX_PROFILE_NOTE,
  validateCustomerAccount,
  validateCustomerProfile,
  validateExpectedVersion,
  type CustomerProfileInput,
  type CustomerProfileRecord,
} from '../domain/customer-profile.js';
import { RiskError } from '../domain/errors.js';
import { auditOperatorAction, type OperatorCallContext } from './operator-audit.js';
import type { Clock, CustomerStore } from './ports.js';

/** The audit action of an upsert, and the domain of its request digest. */
export const CUSTOMER_PROFILE_AUDIT_ACTION = 'risk.customer_profile.upsert';
export const CUSTOMER_PROFILE_DIGEST_DOMAIN = 'custody.risk.v1.customer-profile-upsert';

export interface CustomerAdminDeps {
  readonly customers: CustomerStore;
  readonly clock: Clock;
  /** The operator audit gate; undefined = not audited (dev/test compositions only). */
  readonly audit?: OperatorAuditGate | undefined;
}

export type { OperatorCallContext } from './operator-audit.js';

export interface UpsertCustomerProfile extends CustomerProfileInput {
  readonly expectedVersion: number;
  readonly note: string;
  readonly operator: string;
  readonly context?: OperatorCallContext | undefined;
}

export async function upsertCustomerProfile(deps: CustomerAdminDeps, cmd: UpsertCustomerProfile): Promise<CustomerProfileRecord> {
  if (!cmd.operator) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
  const now = deps.clock.now();
  const profile = validateCustomerProfile(cmd, now);
  const expected = validateExpectedVersion(cmd.expectedVersion);
  const note = cmd.note.trim();
  if (note.length > MAX_PROFILE_NOTE) throw new RiskError('INVALID_ARGUMENT', `note is longer than ${MAX_PROFILE_NOTE} characters`);
  // Precondition first (no audit record for a request that cannot apply) ...
  assertExpectedVersion(profile.customerAccount, expected, (await deps.customers.profile(profile.customerAccount))?.version);
  // ... then audit, then the conditional write.
  await auditOperatorAction(deps.audit, {
    operator: cmd.operator,
    action: CUSTOMER_PROFILE_AUDIT_ACTION,
    target: profile.customerAccount,
    at: now,
    context: cmd.context,
    digestDomain: CUSTOMER_PROFILE_DIGEST_DOMAIN,
    request: [profile.customerAccount, profile.kycStatus, profile.jurisdiction, profile.openedAt.toISOString(), String(expected), note],
  });
  const saved = await deps.customers.save(
    { ...profile, updatedBy: cmd.operator },
    expected,
    {
      actor: cmd.operator,
      action: 'customer.profile.recorded',
      subject: profile.customerAccount,
      detail: { kycStatus: profile.kycStatus, jurisdiction: profile.jurisdiction, openedAt: profile.openedAt.toISOString(), version: expected + 1, note },
    },
    now,
  );
  if (!saved) {
    // Changed between the check and the write (another operator won the race).
    assertExpectedVersion(profile.customerAccount, expected, (await deps.customers.profile(profile.customerAccount))?.version ?? undefined);
    throw new RiskError('PROFILE_VERSION_CONFLICT', `customer ${profile.customerAccount} changed concurrently: read it again`);
  }
  return saved;
}

export async function getCustomerProfile(deps: Pick<CustomerAdminDeps, 'customers'>, customerAccount: string): Promise<CustomerProfileRecord> {
  const account = validateCustomerAccount(customerAccount);
  const profile = await deps.customers.profile(account);
  if (!profile) throw new RiskError('PROFILE_NOT_FOUND', `customer ${account} has no profile`);
  return profile;
}

export interface CustomerProfilePage {
  readonly profiles: readonly CustomerProfileRecord[];
  readonly nextPageToken: string;
}

export async function listCustomerProfiles(deps: Pick<CustomerAdminDeps, 'customers'>, q: { readonly pageSize: number; readonly pageToken: string }): Promise<CustomerProfilePage> {
  const size = q.pageSize === 0 ? 100 : q.pageSize;
  if (!Number.isInteger(size) || size < 1 || size > 500) throw new RiskError('INVALID_ARGUMENT', 'page_size must be 0..500');
  let after: string | undefined;
  if (q.pageToken) {
    after = Buffer.from(q.pageToken, 'base64url').toString('utf8');
    try {
      validateCustomerAccount(after, 'page_token');
    } catch {
      throw new RiskError('INVALID_ARGUMENT', 'page_token is not valid');
    }
  }
  const rows = await deps.customers.profiles(size + 1, after);
  const profiles = rows.slice(0, size);
  const last = profiles[profiles.length - 1];
  return { profiles, nextPageToken: rows.length > size && last ? Buffer.from(last.customerAccount, 'utf8').toString('base64url') : '' };
}
