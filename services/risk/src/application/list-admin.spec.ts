// Unit tests of the ScreeningListService use cases against in-memory fakes of the ports.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parseOfac } from '../adapters/lists/ofac.js';
import { isDomainError } from '@custody/platform';
import { importListContent, isActive, listInternalEntries, listStatus, removeInternalEntryById, type ListAdminDeps } from './list-admin.js';
import type { AuditEntry, CurrentListRecord, InternalListEntryRecord, InternalListPageQuery, InternalListStore, ListImportRecord, ListStore } from './ports.js';
import type { ListEntry } from '../domain/lists.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../../test/fixtures/${name}`, import.meta.url));

class FakeLists implements ListStore {
  records: Array<CurrentListRecord & { current: boolean }> = [];
  entriesByVersion = new Map<string, ListEntry[]>();
  audit: AuditEntry[] = [];
  async current(source: string) {
    const r = await this.currentRecord(source);
    return r ? { version: r.version, checkedAt: r.checkedAt } : undefined;
  }
  async currentRecord(source: string) {
    return this.records.find((r) => r.source === source && r.current);
  }
  async entries(version: string) {
    return this.entriesByVersion.get(version) ?? [];
  }
  async entryKeys(version: string) {
    return new Set((this.entriesByVersion.get(version) ?? []).map((e) => e.key));
  }
  async saveVersion(record: ListImportRecord, entries: readonly ListEntry[], audit: AuditEntry) {
    for (const r of this.records) if (r.source === record.source) r.current = false;
    this.records.push({ ...record, checkedAt: record.importedAt, current: true });
    this.entriesByVersion.set(record.version, [...entries]);
    this.audit.push(audit);
  }
  async confirmCurrent(source: string, version: string, at: Date, audit: AuditEntry) {
    const i = this.records.findIndex((x) => x.source === source && x.version === version && x.current);
    if (i >= 0) this.records[i] = { ...this.records[i]!, checkedAt: at };
    this.audit.push(audit);
  }
  async history() {
    return this.records;
  }
}

class FakeInternal implements InternalListStore {
  rows: InternalListEntryRecord[] = [];
  async add(entry: InternalListEntryRecord) {
    const holder = this.rows.find((r) => r.list === entry.list && r.addressKey === entry.addressKey && !r.removedAt);
    if (holder) return holder.id;
    this.rows.push(entry);
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

function setup(nowMs = Date.parse('2026-11-24T10:00:00Z')) {
  const clock = { ms: nowMs, now: () => new Date(clock.ms) };
  const lists = new FakeLists();
  const internal = new FakeInternal();
  const deps: ListAdminDeps = { lists, internal, clock, parse: parseOfac, source: 'ofac_sdn', maxAgeSeconds: 3600 };
  return { deps, lists, internal, clock };
}

const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (isDomainError(e)) return e.code;
    throw e;
  }
  throw new Error('expected a domain error');
};

describe('C-8.3.4-b list import from operator content (unit)', () => {
  it('refuses empty, non-UTF-8, mis-announced and over-long-note imports and stores nothing', async () => {
    const { deps, lists } = setup();
    expect(await codeOf(importListContent(deps, { content: new Uint8Array(), note: '', operator: 'alice' }))).toBe('INVALID_LIST');
    expect(await codeOf(importListContent(deps, { content: Uint8Array.from([0xc3, 0x28]), note: '', operator: 'alice' }))).toBe('INVALID_LIST');
    expect(await codeOf(importListContent(deps, { content: fixture('SDN.CSV'), formatHint: 'sdn_xml', note: '', operator: 'alice' }))).toBe('INVALID_LIST');
    expect(await codeOf(importListContent(deps, { content: fixture('sdn.xml'), note: 'x'.repeat(1001), operator: 'alice' }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(importListContent(deps, { content: fixture('sdn.xml'), note: '', operator: '' }))).toBe('OPERATOR_UNAUTHENTICATED');
    expect(lists.records).toEqual([]);
    expect(lists.audit).toEqual([]);
  });

  it('imports each published format with the operator and note audited; identical content refreshes freshness', async () => {
    const { deps, lists, clock } = setup();
    const first = await importListContent(deps, { content: fixture('sdn.xml'), formatHint: 'sdn_xml', note: ' weekly ', operator: 'alice' });
    expect(first).toMatchObject({ changed: true, format: 'sdn_xml', importedAt: new Date(clock.ms) });
    expect(lists.audit[0]).toMatchObject({ actor: 'alice', action: 'list.imported', detail: { note: 'weekly' } });
    expect((await listStatus(deps)).state).toBe('fresh');
    clock.ms += 2 * 3600_000;
    const stale = await listStatus(deps);
    expect(stale).toMatchObject({ state: 'stale', ageMs: 2 * 3600_000 });
    const again = await importListContent(deps, { content: fixture('sdn.xml'), note: '', operator: 'bob' });
    expect(again).toMatchObject({ changed: false, version: first.version, importedAt: new Date(clock.ms) });
    expect(lists.audit[1]).toMatchObject({ actor: 'bob', action: 'list.confirmed' });
    expect(lists.audit[1]?.detail).not.toHaveProperty('note');
    expect(await listStatus(deps)).toMatchObject({ state: 'fresh', ageMs: 0 });
  });

  it('list status is missing before any import', async () => {
    expect(await listStatus(setup().deps)).toEqual({ state: 'missing', source: 'ofac_sdn', maxAgeSeconds: 3600 });
  });
});

describe('internal list administration (unit)', () => {
  const row = (i: number, over: Partial<InternalListEntryRecord> = {}): InternalListEntryRecord => ({
    id: `00000000-0000-4000-8000-00000000000${i}`,
    list: 'block',
    addressKey: `evm:0x${String(i).repeat(40)}`,
    reason: 'scam report',
    createdBy: 'carol',
    createdAt: new Date(Date.parse('2026-11-24T09:00:00Z') + i * 1000),
    ...over,
  });

  it('removal needs a UUID, a reason and an existing, not yet removed entry', async () => {
    const { deps, internal } = setup();
    internal.rows.push(row(1));
    expect(await codeOf(removeInternalEntryById(deps, 'nope', 'dave', 'reason'))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(removeInternalEntryById(deps, row(1).id, 'dave', ' '))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(removeInternalEntryById(deps, row(2).id, 'dave', 'reason'))).toBe('ENTRY_NOT_FOUND');
    const removed = await removeInternalEntryById(deps, row(1).id, 'dave', 'reason');
    expect(removed).toMatchObject({ removedBy: 'dave' });
    expect(isActive(removed, deps.clock.now())).toBe(false);
    expect(await codeOf(removeInternalEntryById(deps, row(1).id, 'dave', 'reason'))).toBe('ENTRY_ALREADY_REMOVED');
  });

  it('pages with a keyset token; expired entries are inactive', async () => {
    const { deps, internal, clock } = setup();
    internal.rows.push(row(1), row(2), row(3, { expiresAt: new Date(clock.ms - 1) }), row(4, { list: 'allow' }));
    const p1 = await listInternalEntries(deps, { pageSize: 1, pageToken: '', includeInactive: false, list: 'block' });
    expect(p1.entries.map((e) => e.id)).toEqual([row(1).id]);
    const p2 = await listInternalEntries(deps, { pageSize: 1, pageToken: p1.nextPageToken, includeInactive: false, list: 'block' });
    expect(p2).toEqual({ entries: [expect.objectContaining({ id: row(2).id })], nextPageToken: '' });
    const all = await listInternalEntries(deps, { pageSize: 0, pageToken: '', includeInactive: true });
    expect(all.entries).toHaveLength(4);
    expect(await codeOf(listInternalEntries(deps, { pageSize: 501, pageToken: '', includeInactive: false }))).toBe('INVALID_ARGUMENT');
    expect(await codeOf(listInternalEntries(deps, { pageSize: 1, pageToken: 'bad', includeInactive: false }))).toBe('INVALID_ARGUMENT');
  });
});
