// Unit tests of the CustomerProfileService use cases against an in-memory store and audit
// gate (fakes of our own ports): audited first, fail closed, versioned, nothing stored on
// bad input.
import { describe, expect, it } from '@jest/globals';
import { AuditUnavailableError, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import type { CustomerProfileRecord } from '../domain/customer-profile.js';
import { RiskError } from '../domain/errors.js';
import type { CustomerProfile } from '../domain/screening.js';
import { CUSTOMER_PROFILE_AUDIT_ACTION, getCustomerProfile, listCustomerProfiles, upsertCustomerProfile, type CustomerAdminDeps, type UpsertCustomerProfile } from './customer-admin.js';
import type { AuditEntry, CustomerStore } from './ports.js';

const NOW = new Date('2026-11-24T12:00:00Z');

class FakeCustomers implements CustomerStore {
  rows = new Map<string, CustomerProfileRecord>();
  audit: AuditEntry[] = [];
  /** Runs once just before the next conditional write (to simulate a concurrent writer). */
  beforeSave?: () => void;
  async upsert(p: CustomerProfile & { updatedBy: string }, audit: AuditEntry, at: Date) {
    const v = this.rows.get(p.customerAccount)?.version ?? 0;
    this.rows.set(p.customerAccount, { ...p, version: v + 1, updatedAt: at });
    this.audit.push(audit);
  }
  async save(p: CustomerProfile & { updatedBy: string }, expected: number, audit: AuditEntry, at: Date) {
    this.beforeSave?.();
    this.beforeSave = undefined;
    const current = this.rows.get(p.customerAccount)?.version ?? 0;
    if (current !== expected) return undefined;
    const row = { ...p, version: expected + 1, updatedAt: at };
    this.rows.set(p.customerAccount, row);
    this.audit.push(audit);
    return row;
  }
  async profile(account: string) {
    return this.rows.get(account);
  }
  async profiles(limit: number, after?: string) {
    return [...this.rows.values()].sort((a, b) => (a.customerAccount < b.customerAccount ? -1 : 1)).filter((r) => after === undefined || r.customerAccount > after).slice(0, limit);
  }
}

class RecordingGate implements OperatorAuditGate {
  records: OperatorActionRecord[] = [];
  storedAtRecordTime: number[] = [];
  constructor(private readonly store: FakeCustomers, private readonly fail = false) {}
  async record(a: OperatorActionRecord) {
    this.storedAtRecordTime.push(this.store.audit.length);
    if (this.fail) throw new Error('audit down');
    this.records.push(a);
    return { sequence: BigInt(this.records.length), recordHash: new Uint8Array(32) };
  }
}

function setup(opts: { failAudit?: boolean; noGate?: boolean } = {}) {
  const customers = new FakeCustomers();
  const gate = new RecordingGate(customers, opts.failAudit ?? false);
  const deps: CustomerAdminDeps = { customers, clock: { now: () => NOW }, ...(opts.noGate ? {} : { audit: gate }) };
  return { customers, gate, deps };
}

const cmd = (over: Partial<UpsertCustomerProfile> = {}): UpsertCustomerProfile => ({
  customerAccount: 'acct-1',
  kycStatus: 'verified',
  jurisdiction: 'US',
  openedAt: new Date('2024-01-01Z'),
  expectedVersion: 0,
  note: 'KYC vendor case 4711',
  operator: 'op-alice',
  context: { sourceIp: '10.1.2.3', deviceId: 'cert:abc', correlationId: 'corr-1' },
  ...over,
});

async function refusal(p: Promise<unknown>): Promise<Error & { code?: string }> {
  return p.then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: Error & { code?: string }) => e,
  );
}

describe('upsertCustomerProfile', () => {
  it('creates version 1, audited first with the operator, device, source IP and correlation id', async () => {
    const { customers, gate, deps } = setup();
    const saved = await upsertCustomerProfile(deps, cmd());
    expect(saved).toMatchObject({ customerAccount: 'acct-1', kycStatus: 'verified', jurisdiction: 'US', version: 1, updatedBy: 'op-alice', updatedAt: NOW });
    expect(gate.records).toHaveLength(1);
    expect(gate.records[0]).toMatchObject({ operatorId: 'op-alice', action: CUSTOMER_PROFILE_AUDIT_ACTION, target: 'acct-1', deviceId: 'cert:abc', sourceIp: '10.1.2.3', correlationId: 'corr-1', occurredAt: NOW, approvalIds: [] });
    expect(gate.records[0]!.requestDigest).toHaveLength(32);
    expect(gate.storedAtRecordTime).toEqual([0]); // nothing stored when audit was asked
    expect(customers.audit).toEqual([{ actor: 'op-alice', action: 'customer.profile.recorded', subject: 'acct-1', detail: { kycStatus: 'verified', jurisdiction: 'US', openedAt: '2024-01-01T00:00:00.000Z', version: 1, note: 'KYC vendor case 4711' } }]);
  });

  it('changes version n to n + 1; the digest differs with the content', async () => {
    const { gate, deps } = setup();
    await upsertCustomerProfile(deps, cmd());
    const changed = await upsertCustomerProfile(deps, cmd({ kycStatus: 'rejected', expectedVersion: 1 }));
    expect(changed).toMatchObject({ kycStatus: 'rejected', version: 2 });
    expect(Buffer.from(gate.records[0]!.requestDigest!).equals(Buffer.from(gate.records[1]!.requestDigest!))).toBe(false);
  });

  it('a stale expected version is a conflict: nothing audited, nothing stored', async () => {
    const { customers, gate, deps } = setup();
    await upsertCustomerProfile(deps, cmd());
    await upsertCustomerProfile(deps, cmd({ jurisdiction: 'JP', expectedVersion: 1, operator: 'op-bob' }));
    // op-alice still holds version 1
    const err = await refusal(upsertCustomerProfile(deps, cmd({ kycStatus: 'pending', expectedVersion: 1 })));
    expect(err).toBeInstanceOf(RiskError);
    expect(err.code).toBe('PROFILE_VERSION_CONFLICT');
    expect(err.message).toContain('is at version 2, not 1');
    expect(customers.rows.get('acct-1')).toMatchObject({ kycStatus: 'verified', jurisdiction: 'JP', version: 2, updatedBy: 'op-bob' });
    expect(gate.records).toHaveLength(2);
    // creating again is a conflict too
    expect((await refusal(upsertCustomerProfile(deps, cmd()))).code).toBe('PROFILE_VERSION_CONFLICT');
  });

  it('a concurrent change between the check and the write is a conflict, not an overwrite', async () => {
    const { customers, deps } = setup();
    await upsertCustomerProfile(deps, cmd());
    customers.beforeSave = () => void customers.rows.set('acct-1', { ...customers.rows.get('acct-1')!, kycStatus: 'rejected', version: 2, updatedBy: 'op-bob' });
    const err = await refusal(upsertCustomerProfile(deps, cmd({ kycStatus: 'pending', expectedVersion: 1 })));
    expect(err.code).toBe('PROFILE_VERSION_CONFLICT');
    expect(customers.rows.get('acct-1')).toMatchObject({ kycStatus: 'rejected', version: 2, updatedBy: 'op-bob' });
  });

  it('fails closed when audit does not record: AUDIT_UNAVAILABLE, nothing stored', async () => {
    const { customers, gate, deps } = setup({ failAudit: true });
    const err = await refusal(upsertCustomerProfile(deps, cmd()));
    expect(err).toBeInstanceOf(AuditUnavailableError);
    expect(err.code).toBe('AUDIT_UNAVAILABLE');
    expect(gate.storedAtRecordTime).toEqual([0]);
    expect(customers.rows.size).toBe(0);
    expect(customers.audit).toEqual([]);
  });

  it.each<[string, Partial<UpsertCustomerProfile>, string, string]>([
    ['bad jurisdiction', { jurisdiction: 'usa' }, 'INVALID_ARGUMENT', 'jurisdiction'],
    ['bad KYC status', { kycStatus: 'ok' }, 'INVALID_ARGUMENT', 'kyc_status'],
    ['bad account', { customerAccount: 'a b' }, 'INVALID_ARGUMENT', 'customer_account'],
    ['negative version', { expectedVersion: -1 }, 'INVALID_ARGUMENT', 'expected_version'],
    ['long note', { note: 'x'.repeat(1001) }, 'INVALID_ARGUMENT', 'note'],
    ['no operator', { operator: '' }, 'OPERATOR_UNAUTHENTICATED', 'operator'],
  ])('refuses %s before auditing or storing anything', async (_what, over, code, field) => {
    const { customers, gate, deps } = setup();
    const err = await refusal(upsertCustomerProfile(deps, cmd(over)));
    expect(err.code).toBe(code);
    expect(err.message).toContain(field);
    expect(gate.records).toEqual([]);
    expect(gate.storedAtRecordTime).toEqual([]);
    expect(customers.rows.size).toBe(0);
  });

  it('without a gate (dev composition) the upsert is applied', async () => {
    const { customers, deps } = setup({ noGate: true });
    await upsertCustomerProfile(deps, cmd({ context: undefined }));
    expect(customers.rows.get('acct-1')?.version).toBe(1);
  });
});

describe('getCustomerProfile / listCustomerProfiles', () => {
  it('get: the profile, PROFILE_NOT_FOUND, or INVALID_ARGUMENT for a malformed account', async () => {
    const { deps } = setup();
    await upsertCustomerProfile(deps, cmd());
    expect((await getCustomerProfile(deps, 'acct-1')).version).toBe(1);
    expect((await refusal(getCustomerProfile(deps, 'acct-2'))).code).toBe('PROFILE_NOT_FOUND');
    expect((await refusal(getCustomerProfile(deps, ''))).code).toBe('INVALID_ARGUMENT');
  });

  it('pages in account order; every profile exactly once', async () => {
    const { deps } = setup();
    for (const id of ['c-3', 'c-1', 'c-5', 'c-2', 'c-4']) await upsertCustomerProfile(deps, cmd({ customerAccount: id }));
    const seen: string[] = [];
    let token = '';
    for (let i = 0; i < 10; i++) {
      const page = await listCustomerProfiles(deps, { pageSize: 2, pageToken: token });
      seen.push(...page.profiles.map((p) => p.customerAccount));
      token = page.nextPageToken;
      if (!token) break;
    }
    expect(seen).toEqual(['c-1', 'c-2', 'c-3', 'c-4', 'c-5']);
    expect((await refusal(listCustomerProfiles(deps, { pageSize: 501, pageToken: '' }))).message).toContain('page_size');
    expect((await refusal(listCustomerProfiles(deps, { pageSize: 0, pageToken: Buffer.from(' bad').toString('base64url') }))).message).toContain('page_token');
  });
});
