// Use cases for compliance administration: internal block/allow lists (with reason and
// expiry) and customer profiles (KYC outcome, jurisdiction, account opening). Audited.
import { randomUUID } from 'node:crypto';
import { lookupKeys, normalizeAddress } from '../domain/address.js';
import { validateCustomerProfile } from '../domain/customer-profile.js';
import { RiskError } from '../domain/errors.js';
import type { CustomerProfile } from '../domain/screening.js';
import type { Clock, CustomerStore, InternalListEntry, InternalListStore } from './ports.js';

export interface AddInternalEntry {
  readonly list: 'block' | 'allow';
  readonly chain: string;
  readonly address: string;
  readonly reason: string;
  readonly expiresAt?: Date | undefined;
  readonly by: string;
}

export async function addInternalEntry(deps: { internal: InternalListStore; clock: Clock }, cmd: AddInternalEntry): Promise<InternalListEntry> {
  const reason = cmd.reason.trim();
  if (reason.length < 3) throw new RiskError('INVALID_ARGUMENT', 'an internal list entry needs a reason');
  if (!cmd.by) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'an authenticated operator is required');
  const now = deps.clock.now();
  if (cmd.expiresAt && cmd.expiresAt.getTime() <= now.getTime()) throw new RiskError('INVALID_ARGUMENT', 'expiresAt must be in the future');
  const normalized = normalizeAddress(cmd.chain, cmd.address);
  const [addressKey] = lookupKeys(normalized, cmd.address);
  const entry: InternalListEntry = { id: randomUUID(), list: cmd.list, addressKey: addressKey ?? normalized.key, reason, expiresAt: cmd.expiresAt, createdBy: cmd.by, createdAt: now };
  await deps.internal.add(entry, { actor: cmd.by, action: `internal_list.${cmd.list}.added`, subject: entry.addressKey, detail: { id: entry.id, reason, expiresAt: cmd.expiresAt?.toISOString() ?? null } });
  return entry;
}

export async function removeInternalEntry(deps: { internal: InternalListStore; clock: Clock }, id: string, by: string, why: string): Promise<boolean> {
  if (!by) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'an authenticated operator is required');
  const now = deps.clock.now();
  return deps.internal.remove(id, by, now, { actor: by, action: 'internal_list.removed', subject: id, detail: { why } });
}

/** In-process, unconditional (no version precondition): validated like the operator API's upsert. */
export async function recordCustomerProfile(deps: { customers: CustomerStore; clock: Clock }, input: CustomerProfile, by: string): Promise<void> {
  if (!by) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'who records the profile is required');
  const now = deps.clock.now();
  const profile = validateCustomerProfile(input, now);
  await deps.customers.upsert({ ...profile, updatedBy: by }, { actor: by, action: 'customer.profile.recorded', subject: profile.customerAccount, detail: { kycStatus: profile.kycStatus, jurisdiction: profile.jurisdiction } }, now);
}
