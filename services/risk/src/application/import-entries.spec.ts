// Unit tests of the batched internal-list import against an in-memory InternalListStore.
import { describe, expect, it } from '@jest/globals';
import { importInternalEntries, type ImportEntryInput } from './import-entries.js';
import { isActive } from './list-admin.js';
import type { AuditEntry, InternalListEntryRecord, InternalListPageQuery, InternalListStore } from './ports.js';

class FakeInternal implements InternalListStore {
  rows: InternalListEntryRecord[] = [];
  audit: AuditEntry[] = [];
  /** Like the store's unique key on unremoved (list, address key): an expired holder is retired first. */
  async add(entry: InternalListEntryRecord, audit: AuditEntry) {
    for (const [i, r] of this.rows.entries()) {
      if (r.list === entry.list && r.addressKey === entry.addressKey && !r.removedAt && r.expiresAt && r.expiresAt.getTime() <= entry.createdAt.getTime()) this.rows[i] = { ...r, removedAt: r.expiresAt, removedBy: 'system:expired' };
    }
    const holder = this.rows.find((r) => r.list === entry.list && r.addressKey === entry.addressKey && !r.removedAt);
    if (holder) return holder.id;
    this.rows.push(entry);
    this.audit.push(audit);
    return entry.id;
  }
  async remove(id: string, by: string, at: Date) {
    const i = this.rows.findIndex((r) => r.id === id && !r.removedAt);
    if (i < 0) return false;
    this.rows[i] = { ...this.rows[i]!, removedAt: at, removedBy: by };
    return true;
  }
  async entry(id: string) {
    return this.rows.find((r) => r.id === id);
  }
  async page(limit: number, q: InternalListPageQuery) {
    return this.rows
      .filter((r) => (!q.list || r.list === q.list) && (q.includeInactive || isActive(r, q.at)))
      .filter((r) => !q.after || r.createdAt.getTime() > q.after.at.getTime() || (r.createdAt.getTime() === q.after.at.getTime() && r.id > q.after.id))
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || a.id.localeCompare(b.id))
      .slice(0, limit);
  }
}

const NOW = Date.parse('2026-11-24T10:00:00Z');
const setup = () => {
  const internal = new FakeInternal();
  return { internal, deps: { internal, clock: { now: () => new Date(NOW) } } };
};
const EVM = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96';
const entry = (line: number, over: Partial<ImportEntryInput> = {}): ImportEntryInput => ({ line, list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'fraud report 42', ...over });

describe('importInternalEntries: per-line results, idempotent, a bad line does not stop the others', () => {
  it('adds valid lines (audited), rejects bad ones with their reason code, and reports a repeat in the file as ALREADY_ACTIVE', async () => {
    const { deps, internal } = setup();
    const r = await importInternalEntries(deps, {
      operator: 'carol',
      dryRun: false,
      entries: [
        entry(2),
        entry(3, { address: '0xnothex' }),
        entry(4, { address: EVM.toLowerCase() }), // same key as line 2
        entry(5, { reason: 'x' }),
        entry(6, { list: undefined }),
        entry(7, { expiresAt: new Date(NOW - 1) }),
        entry(8, { list: 'allow' }), // another list: its own entry
        entry(9, { chain: 'bitcoin-mainnet', address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' }),
      ],
    });
    expect(r.results.map((x) => [x.line, x.outcome, x.reasonCode])).toEqual([
      [2, 'added', ''],
      [3, 'rejected', 'INVALID_ADDRESS'],
      [4, 'already_active', ''],
      [5, 'rejected', 'INVALID_ARGUMENT'],
      [6, 'rejected', 'INVALID_ARGUMENT'],
      [7, 'rejected', 'INVALID_ARGUMENT'],
      [8, 'added', ''],
      [9, 'added', ''],
    ]);
    expect({ added: r.added, alreadyActive: r.alreadyActive, rejected: r.rejected }).toEqual({ added: 3, alreadyActive: 1, rejected: 4 });
    expect(r.results[2]?.entryId).toBe(r.results[0]?.entryId);
    expect(r.results[1]?.message).not.toBe('');
    expect(internal.rows).toHaveLength(3);
    expect(internal.audit.map((a) => [a.actor, a.action])).toEqual([
      ['carol', 'internal_list.block.added'],
      ['carol', 'internal_list.allow.added'],
      ['carol', 'internal_list.block.added'],
    ]);
  });

  it('re-sending the same file adds nothing (every line ALREADY_ACTIVE with the stored id); a removed entry is added again', async () => {
    const { deps, internal } = setup();
    const file = [entry(1), entry(2, { chain: 'bitcoin-mainnet', address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' })];
    const first = await importInternalEntries(deps, { operator: 'carol', dryRun: false, entries: file });
    const again = await importInternalEntries(deps, { operator: 'dave', dryRun: false, entries: file });
    expect(again.results.map((x) => x.outcome)).toEqual(['already_active', 'already_active']);
    expect(again.results.map((x) => x.entryId)).toEqual(first.results.map((x) => x.entryId));
    expect(internal.rows).toHaveLength(2);
    await internal.remove(first.results[0]!.entryId, 'carol', new Date(NOW));
    const third = await importInternalEntries(deps, { operator: 'dave', dryRun: false, entries: file });
    expect(third.results.map((x) => x.outcome)).toEqual(['added', 'already_active']);
  });

  it('dry run: the same outcomes as a real import would give (WOULD_ADD for ADDED), nothing stored or audited', async () => {
    const { deps, internal } = setup();
    const file = [entry(1), entry(2, { address: 'nope' }), entry(3)];
    const dry = await importInternalEntries(deps, { operator: 'carol', dryRun: true, entries: file });
    expect(dry.results.map((x) => x.outcome)).toEqual(['would_add', 'rejected', 'already_active']);
    expect(internal.rows).toHaveLength(0);
    expect(internal.audit).toHaveLength(0);
    const real = await importInternalEntries(deps, { operator: 'carol', dryRun: false, entries: file });
    expect(real.results.map((x) => x.outcome)).toEqual(['added', 'rejected', 'already_active']);
  });

  it('refuses an empty request, more than 1000 entries, and no operator', async () => {
    const { deps } = setup();
    await expect(importInternalEntries(deps, { operator: 'carol', dryRun: false, entries: [] })).rejects.toThrow(/1 to 1000/);
    await expect(importInternalEntries(deps, { operator: 'carol', dryRun: false, entries: Array.from({ length: 1001 }, (_, i) => entry(i)) })).rejects.toThrow(/1 to 1000/);
    await expect(importInternalEntries(deps, { operator: '', dryRun: false, entries: [entry(1)] })).rejects.toThrow(/authentication/);
  });
});
