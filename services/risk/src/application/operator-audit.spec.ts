// Unit tests: risk's list and case admin use cases record the operator action through the audit
// gate (a fake of the platform port) after validation and before anything changes; a gate that
// does not record → AUDIT_UNAVAILABLE and nothing changed; requests that change nothing are not
// recorded; the digest covers the request.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { isDomainError, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import { parseOfac } from '../adapters/lists/ofac.js';
import { addInternalEntry } from './admin.js';
import { resolveCase } from './cases.js';
import { importInternalEntries } from './import-entries.js';
import { importListContent, isActive, type ListAdminDeps } from './list-admin.js';
import type { AuditEntry, ComplianceCase, InternalListEntryRecord, InternalListPageQuery, InternalListStore, RiskTx, RiskUnitOfWork } from './ports.js';

const NOW = new Date('2026-11-24T10:00:00Z');
const clock = { now: () => NOW };
const EVM = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96';
const CTX = { sourceIp: '10.1.2.3', deviceId: 'cert:ab', correlationId: 'corr-9' };

class Gate implements OperatorAuditGate {
  readonly records: OperatorActionRecord[] = [];
  down = false;
  constructor(private readonly log: string[]) {}
  async record(a: OperatorActionRecord) {
    this.log.push(`audit:${a.action}`);
    if (this.down) throw new Error('audit unreachable');
    this.records.push(a);
    return { sequence: 1n, recordHash: new Uint8Array(32) };
  }
}

class Internal implements InternalListStore {
  rows: InternalListEntryRecord[] = [];
  constructor(private readonly log: string[]) {}
  async add(entry: InternalListEntryRecord, _audit: AuditEntry) {
    this.log.push('store:add');
    const holder = this.rows.find((r) => r.list === entry.list && r.addressKey === entry.addressKey && !r.removedAt);
    if (holder) return holder.id;
    this.rows.push(entry);
    return entry.id;
  }
  async remove() {
    return false;
  }
  async entry(id: string) {
    return this.rows.find((r) => r.id === id);
  }
  async page(limit: number, q: InternalListPageQuery) {
    return this.rows.filter((r) => (!q.list || r.list === q.list) && isActive(r, q.at)).slice(0, limit);
  }
}

const code = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: unknown) => {
      if (isDomainError(e)) return e.code;
      throw e;
    },
  );

describe('AddInternalEntry and ImportInternalEntries are recorded by the operator audit gate first', () => {
  it('AddInternalEntry: validated, audited (operator, target list:key, call facts, digest), then stored; audit down → AUDIT_UNAVAILABLE, nothing stored', async () => {
    const log: string[] = [];
    const gate = new Gate(log);
    const internal = new Internal(log);
    const deps = { internal, clock, audit: gate };
    expect(await code(addInternalEntry(deps, { list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'x', by: 'carol', context: CTX }))).toBe('INVALID_ARGUMENT');
    expect(log).toEqual([]);
    gate.down = true;
    expect(await code(addInternalEntry(deps, { list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'fraud 1', by: 'carol', context: CTX }))).toBe('AUDIT_UNAVAILABLE');
    expect(internal.rows).toEqual([]);
    gate.down = false;
    await addInternalEntry(deps, { list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'fraud 1', by: 'carol', context: CTX });
    expect(log).toEqual(['audit:risk.internal_list.add', 'audit:risk.internal_list.add', 'store:add']);
    expect(gate.records[0]).toMatchObject({ operatorId: 'carol', action: 'risk.internal_list.add', target: `block:evm:${EVM.toLowerCase()}`, sourceIp: '10.1.2.3', deviceId: 'cert:ab', correlationId: 'corr-9', occurredAt: NOW });
    expect(gate.records[0]?.requestDigest).toHaveLength(32);
    expect(await code(addInternalEntry(deps, { list: 'block', chain: 'ethereum-mainnet', address: EVM.toLowerCase(), reason: 'again', by: 'carol' }))).toBe('ENTRY_ALREADY_ACTIVE');
    expect(internal.rows).toHaveLength(1);
  });

  it('ImportInternalEntries: one record for the request before any entry is stored; audit down → nothing added; dry runs and files of known/bad lines are not recorded', async () => {
    const log: string[] = [];
    const gate = new Gate(log);
    const internal = new Internal(log);
    const deps = { internal, clock, audit: gate };
    const entries = [EVM, '0x722122dF12D4e14e13Ac3b6895a86e84145b6967', 'bad'].map((address, i) => ({ line: i + 1, list: 'block' as const, chain: 'ethereum-mainnet', address, reason: 'file 11' }));
    gate.down = true;
    expect(await code(importInternalEntries(deps, { entries, dryRun: false, operator: 'carol' }))).toBe('AUDIT_UNAVAILABLE');
    expect(internal.rows).toEqual([]);
    gate.down = false;
    const r = await importInternalEntries(deps, { entries, dryRun: false, operator: 'carol', context: CTX });
    expect([r.added, r.alreadyActive, r.rejected]).toEqual([2, 0, 1]);
    expect(log).toEqual(['audit:risk.internal_list.import', 'audit:risk.internal_list.import', 'store:add', 'store:add']);
    expect(gate.records).toHaveLength(1);
    expect(gate.records[0]).toMatchObject({ action: 'risk.internal_list.import', target: 'internal_list:block', operatorId: 'carol' });
    // Nothing to change → nothing recorded.
    expect((await importInternalEntries(deps, { entries, dryRun: false, operator: 'carol' })).alreadyActive).toBe(2);
    expect((await importInternalEntries(deps, { entries: [{ ...entries[0]!, address: '0x' + 'a'.repeat(40) }], dryRun: true, operator: 'carol' })).results[0]?.outcome).toBe('would_add');
    expect(gate.records).toHaveLength(1);
  });

  it('the request digest covers the request: another reason → another digest', async () => {
    const digests: string[] = [];
    for (const reason of ['fraud 1', 'fraud 2']) {
      const gate = new Gate([]);
      await addInternalEntry({ internal: new Internal([]), clock, audit: gate }, { list: 'block', chain: 'ethereum-mainnet', address: EVM, reason, by: 'carol' });
      digests.push(Buffer.from(gate.records[0]?.requestDigest ?? []).toString('hex'));
    }
    expect(new Set(digests).size).toBe(2);
  });
});

describe('ImportOfacList is recorded by the operator audit gate after parsing, before the version is stored', () => {
  it('audit down → AUDIT_UNAVAILABLE, no version; a file that does not parse is refused before audit', async () => {
    const log: string[] = [];
    const gate = new Gate(log);
    const saved: string[] = [];
    const lists = {
      current: async () => undefined,
      currentRecord: async () => undefined,
      entries: async () => [],
      entryKeys: async () => new Set<string>(),
      saveVersion: async (rec: { version: string }) => void saved.push(rec.version),
      confirmCurrent: async () => undefined,
      history: async () => [],
    };
    const deps: ListAdminDeps = { lists, internal: new Internal(log), clock, parse: parseOfac, source: 'ofac_sdn', maxAgeSeconds: 3600, audit: gate };
    const content = new Uint8Array(readFileSync(new URL('../../test/fixtures/sdn.xml', import.meta.url)));
    expect(await code(importListContent(deps, { content: new TextEncoder().encode('not a list'), note: '', operator: 'carol' }))).toBe('INVALID_LIST');
    expect(log).toEqual([]);
    gate.down = true;
    expect(await code(importListContent(deps, { content, note: 'weekly', operator: 'carol' }))).toBe('AUDIT_UNAVAILABLE');
    expect(saved).toEqual([]);
    gate.down = false;
    await importListContent(deps, { content, note: 'weekly', operator: 'carol', context: CTX });
    expect(saved).toHaveLength(1);
    expect(gate.records[0]).toMatchObject({ action: 'risk.sanctions_list.import', target: 'ofac_sdn', operatorId: 'carol', sourceIp: '10.1.2.3' });
  });
});

describe('ResolveCase is recorded by the operator audit gate once the case is locked and open, before it changes', () => {
  const CASE_ID = '6f1c1f0e-4a55-4f3b-9b7e-0c4f5d6e7a8b';
  function world(status: 'OPEN' | 'RESOLVED' | undefined) {
    const log: string[] = [];
    const gate = new Gate(log);
    const c = status ? ({ id: CASE_ID, assessmentId: 'a-1', subjectKind: 'withdrawal', subjectId: 'w-1', customerAccount: 'c-1', score: 60, reasons: [], status, openedAt: NOW, correlationId: 'corr' } as unknown as ComplianceCase) : undefined;
    const tx = {
      caseForUpdate: async () => (log.push('tx:lock'), c),
      assessment: async () => undefined,
      resolveCase: async () => void log.push('tx:resolve'),
      saveAssessment: async () => void log.push('tx:assessment'),
      audit: async () => void log.push('tx:audit-log'),
      emitAssessed: async () => void log.push('tx:emit'),
    } as unknown as RiskTx;
    const uow = { run: async <T>(fn: (t: RiskTx) => Promise<T>) => fn(tx), once: async () => ({ status: 'duplicate' as const }) } as RiskUnitOfWork;
    return { log, gate, deps: { uow, cases: { listOpen: async () => [] }, clock, audit: gate } };
  }
  const cmd = { caseId: CASE_ID, resolution: 'CLEAR' as const, note: 'customer explained', operator: 'carol', correlationId: 'corr', context: CTX };

  it('an open case: audit, then the resolution; audit down → AUDIT_UNAVAILABLE and the resolution never runs', async () => {
    const up = world('OPEN');
    await resolveCase(up.deps, cmd);
    expect(up.log).toEqual(['tx:lock', 'audit:risk.case.resolve', 'tx:resolve', 'tx:assessment', 'tx:audit-log', 'tx:emit']);
    expect(up.gate.records[0]).toMatchObject({ action: 'risk.case.resolve', target: CASE_ID, operatorId: 'carol', correlationId: 'corr-9' });
    const down = world('OPEN');
    down.gate.down = true;
    expect(await code(resolveCase(down.deps, cmd))).toBe('AUDIT_UNAVAILABLE');
    expect(down.log).toEqual(['tx:lock', 'audit:risk.case.resolve']);
  });

  it('a missing or already resolved case is refused before audit', async () => {
    for (const [status, want] of [[undefined, 'CASE_NOT_FOUND'], ['RESOLVED', 'CASE_ALREADY_RESOLVED']] as const) {
      const w = world(status);
      expect(await code(resolveCase(w.deps, cmd))).toBe(want);
      expect(w.gate.records).toEqual([]);
      expect(w.log).toEqual(['tx:lock']);
    }
  });
});
