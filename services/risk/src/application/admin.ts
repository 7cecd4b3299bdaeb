// Use cases for compliance administration: internal block/allow lists (with reason and
// expiry) and customer profiles (KYC outcome, jurisdiction, account opening). Audited: a
// risk_audit_log row with every change and, for operator calls, the operator audit gate first.
import { randomUUID } from 'node:crypto';
import type { OperatorAuditGate } from '@custody/platform';
import { lookupKeys, normalizeAddress } from '../domain/address.js';
import { validateCustomerProfile } from '../domain/customer-profile.js';
import { RiskError } from '../domain/errors.js';
import type { CustomerProfile } from '../domain/screening.js';
import { auditOperatorAction, RISK_AUDIT_ACTIONS, type OperatorCallContext } from './operator-audit.js';
import type { Clock, CustomerStore, InternalListEntry, InternalListStore } from './ports.js';

export interface AddInternalEntry {
  readonly list: 'block' | 'allow';
  readonly chain: string;
  readonly address: string;
  readonly reason: string;
  readonly expiresAt?: Date | undefined;
  readonly by: string;
  /** The operator call's facts for the audit record (operator API only). */
  readonly context?: OperatorCallContext | undefined;
}

export interface InternalEntryDeps {
  readonly internal: InternalListStore;
  readonly clock: Clock;
  /** The operator audit gate; undefined = not audited (in-process calls, dev/test compositions). */
  readonly audit?: OperatorAuditGate | undefined;
}

/** The entry AddInternalEntry would store (validated, address normalised); nothing stored. */
export function prepareInternalEntry(cmd: Omit<AddInternalEntry, 'context'>, now: Date): InternalListEntry {
  const reason = cmd.reason.trim();
  if (reason.length < 3) throw new RiskError('INVALID_ARGUMENT', 'an internal list entry needs a reason');
  if (!cmd.by) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'an authenticated operator is required');
  if (cmd.expiresAt && (Number.isNaN(cmd.expiresAt.getTime()) || cmd.expiresAt.getTime() <= now.getTime())) throw new RiskError('INVALID_ARGUMENT', 'expiresAt must be in the future');
  const normalized = normalizeAddress(cmd.chain, cmd.address);
  const [addressKey] = lookupKeys(normalized, cmd.address);
  return { id: randomUUID(), list: cmd.list, addressKey: addressKey ?? normalized.key, reason, expiresAt: cmd.expiresAt, createdBy: cmd.by, createdAt: now };
}

/**
 * Stores a prepared entry with its risk_audit_log row, unless an unremoved entry of the same
 * list already holds the address key (unique in the store, so concurrent adds of the same
 * address add it once): then nothing is written and `added` is false with the holder's id.
 */
export async function storeInternalEntry(deps: Pick<InternalEntryDeps, 'internal'>, entry: InternalListEntry): Promise<{ readonly added: boolean; readonly holderId: string }> {
  const holderId = await deps.internal.add(entry, {
    actor: entry.createdBy,
    action: `internal_list.${entry.list}.added`,
    subject: entry.addressKey,
    detail: { id: entry.id, reason: entry.reason, expiresAt: entry.expiresAt?.toISOString() ?? null },
  });
  return { added: holderId === entry.id, holderId };
}

/** Adds one entry: validated, audited (gate, when given) before it is stored; an address already active on the list → ENTRY_ALREADY_ACTIVE. */
export async function addInternalEntry(deps: InternalEntryDeps, cmd: AddInternalEntry): Promise<InternalListEntry> {
  const entry = prepareInternalEntry(cmd, deps.clock.now());
  await auditOperatorAction(deps.audit, {
    operator: cmd.by,
    action: RISK_AUDIT_ACTIONS.addInternalEntry,
    target: `${entry.list}:${entry.addressKey}`,
    at: entry.createdAt,
    context: cmd.context,
    request: [entry.list, cmd.chain, cmd.address, entry.reason, entry.expiresAt?.toISOString() ?? ''],
  });
  const stored = await storeInternalEntry(deps, entry);
  if (!stored.added) throw new RiskError('ENTRY_ALREADY_ACTIVE', `${entry.addressKey} is already on the ${entry.list} list (entry ${stored.holderId})`);
  return entry;
}

/** Removes (soft) an entry; audited (gate, when given) before it changes. false = it was already removed (or does not exist). */
export async function removeInternalEntry(deps: InternalEntryDeps, id: string, by: string, why: string, context?: OperatorCallContext): Promise<boolean> {
  if (!by) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'an authenticated operator is required');
  const now = deps.clock.now();
  await auditOperatorAction(deps.audit, { operator: by, action: RISK_AUDIT_ACTIONS.removeInternalEntry, target: id, at: now, context, request: [id, why] });
  return deps.internal.remove(id, by, now, { actor: by, action: 'internal_list.removed', subject: id, detail: { why } });
}

/** In-process, unconditional (no version precondition): validated like the operator API's upsert. */
export async function recordCustomerProfile(deps: { customers: CustomerStore; clock: Clock }, input: CustomerProfile, by: string): Promise<void> {
  if (!by) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'who records the profile is required');
  const now = deps.clock.now();
  const profile = validateCustomerProfile(input, now);
  await deps.customers.upsert({ ...profile, updatedBy: by }, { actor: by, action: 'customer.profile.recorded', subject: profile.customerAccount, detail: { kycStatus: profile.kycStatus, jurisdiction: profile.jurisdiction } }, now);
}
