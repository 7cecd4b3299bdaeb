import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { ImportEntryOutcome, InternalList, ListState, OfacListFormat, type ImportInternalEntriesRequest, type ImportInternalEntriesResponse } from '@custody/contracts';
import { runCli } from '../cli.js';
import { ExitCode, type Io } from '../types.js';
import type { ScreeningListApi } from './client.js';
import { listGroupWith, type ConnectScreeningLists } from './commands.js';
import { formatOf, parseCsv, parseJson, splitCsvLine } from './parse.js';

function fakeIo(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, interactive: false, ask: () => Promise.resolve('') };
}
const dir = mkdtempSync(join(tmpdir(), 'custody-list-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const EVM = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96';

describe('custody list import: reading CSV and JSON list files', () => {
  it('CSV: header names the columns in any order; quotes, comments, blank lines; line numbers are the file\'s', () => {
    const p = parseCsv(['# exported 2026-11-24', 'address,chain,reason,list,expires_at', `${EVM},ethereum-mainnet,"fraud, report ""42""",block,2027-01-01T00:00:00Z`, '', `bc1qxyz,bitcoin-mainnet,scam,allow,`].join('\n'), undefined);
    expect(p.rejected).toEqual([]);
    expect(p.entries).toEqual([
      { line: 3, list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'fraud, report "42"', expiresAt: new Date('2027-01-01T00:00:00Z') },
      { line: 5, list: 'allow', chain: 'bitcoin-mainnet', address: 'bc1qxyz', reason: 'scam' },
    ]);
  });
  it('CSV: a bad row is a local MALFORMED_LINE rejection naming the problem; the other rows are kept; --list fills a missing list', () => {
    const p = parseCsv(['chain,address,reason,expires_at', `ethereum-mainnet,${EVM},ok reason,`, 'ethereum-mainnet,0x1,too,many,fields', 'ethereum-mainnet,,no address,', `ethereum-mainnet,${EVM},x,tomorrow`, '"unterminated,x,y,'].join('\n'), 'block');
    expect(p.entries.map((e) => [e.line, e.list])).toEqual([[2, 'block']]);
    expect(p.rejected.map((r) => [r.line, r.reasonCode])).toEqual([
      [3, 'MALFORMED_LINE'],
      [4, 'MALFORMED_LINE'],
      [5, 'MALFORMED_LINE'],
      [6, 'MALFORMED_LINE'],
    ]);
    expect(p.rejected.map((r) => r.message)).toEqual(['expected 4 fields, got 5', 'address is empty', expect.stringMatching(/expires_at must be an ISO 8601/), 'unbalanced quotes']);
    expect(parseCsv(`chain,address,reason\nethereum-mainnet,${EVM},r r r`, undefined).rejected[0]?.message).toMatch(/no list/);
  });
  it('CSV: no header, unknown or missing columns are usage errors (nothing sent)', () => {
    expect(() => parseCsv('\n# only a comment\n', 'block')).toThrow(/no header/);
    expect(() => parseCsv('chain,address,reason,colour\n', 'block')).toThrow(/unknown CSV column\(s\): colour/);
    expect(() => parseCsv('chain,reason\n', 'block')).toThrow(/address column/);
    expect(() => parseCsv('chain,address,reason\n', 'block')).toThrow(/no entries/);
    expect(splitCsvLine('a,"b",c')).toEqual(['a', 'b', 'c']);
    expect(splitCsvLine('a,b"c')).toBeUndefined();
  });
  it('JSON: an array (line = item) or JSON lines (line = file line); unknown fields and non-objects rejected per line', () => {
    const arr = parseJson(JSON.stringify([{ list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'r1', expiresAt: '2027-01-01' }, { chain: 'x', address: 'y', reason: 'z', colour: 'red' }, 7]), undefined);
    expect(arr.entries).toEqual([{ line: 1, list: 'block', chain: 'ethereum-mainnet', address: EVM, reason: 'r1', expiresAt: new Date('2027-01-01') }]);
    expect(arr.rejected.map((r) => [r.line, r.message])).toEqual([
      [2, 'unknown field(s): colour'],
      [3, 'not a JSON object'],
    ]);
    const lines = parseJson(`{"chain":"ethereum-mainnet","address":"${EVM}","reason":"r"}\n\n{bad\n`, 'allow');
    expect(lines.entries.map((e) => [e.line, e.list])).toEqual([[1, 'allow']]);
    expect(lines.rejected).toEqual([{ line: 3, reasonCode: 'MALFORMED_LINE', message: 'not valid JSON' }]);
    expect(() => parseJson('[1,', 'block')).toThrow(/not valid JSON/);
  });
  it('format from --format or the file name', () => {
    expect(formatOf('a.CSV', undefined)).toBe('csv');
    expect(formatOf('a.jsonl', undefined)).toBe('json');
    expect(formatOf('a.txt', 'json')).toBe('json');
    expect(() => formatOf('a.txt', undefined)).toThrow(/--format/);
    expect(() => formatOf('a.csv', 'xml')).toThrow(/csv or json/);
  });
});

function fake(answer: (req: ImportInternalEntriesRequest) => ImportInternalEntriesResponse = (req) => ({
  results: req.entries.map((e) =>
    e.address === 'bad'
      ? { line: e.line, outcome: ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_REJECTED, entryId: '', addressKey: '', reasonCode: 'INVALID_ADDRESS', message: 'not an EVM address' }
      : { line: e.line, outcome: req.dryRun ? ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_WOULD_ADD : ImportEntryOutcome.IMPORT_ENTRY_OUTCOME_ADDED, entryId: req.dryRun ? '' : `id-${e.line}`, addressKey: `evm:${e.address}`, reasonCode: '', message: '' },
  ),
  added: 0,
  alreadyActive: 0,
  rejected: 0,
})) {
  const sent: ImportInternalEntriesRequest[] = [];
  const api: ScreeningListApi = {
    importEntries: (req) => {
      sent.push(req);
      return Promise.resolve(answer(req));
    },
    importOfac: (req) => Promise.resolve({ version: 'v2', added: 2, removed: 1, total: 9, importedAt: undefined, changed: true, previousVersion: 'v1', format: req.format || OfacListFormat.OFAC_LIST_FORMAT_SDN_CSV, warnings: ['kept as exact: x'] }),
    status: () => Promise.resolve({ source: 'ofac_sdn', version: '', state: ListState.LIST_STATE_MISSING, stale: true, total: 0, format: OfacListFormat.OFAC_LIST_FORMAT_UNSPECIFIED, importedAt: undefined, checkedAt: undefined, age: undefined, maxAge: { seconds: '86400', nanos: 0 }, publishedAt: undefined }),
    close: () => undefined,
  };
  const connect: ConnectScreeningLists = () => Promise.resolve(api);
  return { connect, sent };
}
const SERVER = ['--server', '127.0.0.1:50060', '--insecure-loopback'];
const run = async (f: ReturnType<typeof fake>, args: string[]) => {
  const io = fakeIo();
  const code = await runCli(['list', ...args], io, [listGroupWith(f.connect)]);
  return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
};

describe('custody list import: batches, progress, per-line report, exit codes', () => {
  const csv = ['list,chain,address,reason', ...['a1', 'a2', 'bad', 'a4', 'a5'].map((a) => `block,ethereum-mainnet,${a},reason ${a}`), 'grey,ethereum-mainnet,a7,r'].join('\n');
  it('sends the readable lines in batches (progress on stderr), merges local and server rejections by line; exit 1 when a line was rejected', async () => {
    const f = fake();
    const r = await run(f, ['import', file('l.csv', csv), ...SERVER, '--batch-size', '2', '--yes']);
    expect(r.code).toBe(ExitCode.FAILED);
    expect(f.sent.map((s) => s.entries.map((e) => e.line))).toEqual([[2, 3], [4, 5], [6]]);
    expect(f.sent[0]?.entries[0]).toMatchObject({ list: InternalList.INTERNAL_LIST_BLOCK, chain: 'ethereum-mainnet', address: 'a1', reason: 'reason a1' });
    expect(r.err).toMatch(/imported 2\/5 entries[\s\S]*imported 4\/5 entries[\s\S]*imported 5\/5 entries/);
    expect(r.out).toBe(['line 4: rejected INVALID_ADDRESS: not an EVM address', 'line 7: rejected MALFORMED_LINE: list must be block or allow, not "grey"', '4 added, 0 already active, 2 rejected (of 6 lines)'].join('\n'));
  });
  it('--json: one document with every line; all accepted → exit 0', async () => {
    const f = fake();
    const ok = ['chain,address,reason', 'ethereum-mainnet,a1,r1 r', 'ethereum-mainnet,a2,r2 r'].join('\n');
    const r = await run(f, ['import', file('ok.csv', ok), ...SERVER, '--list', 'allow', '--yes', '--json']);
    expect(r.code).toBe(ExitCode.OK);
    expect(f.sent[0]?.entries.map((e) => e.list)).toEqual([InternalList.INTERNAL_LIST_ALLOW, InternalList.INTERNAL_LIST_ALLOW]);
    expect(JSON.parse(r.out)).toEqual({
      ok: true,
      dryRun: false,
      lines: 2,
      added: 2,
      alreadyActive: 0,
      wouldAdd: 0,
      rejected: 0,
      results: [
        { line: 2, outcome: 'added', entryId: 'id-2', addressKey: 'evm:a1', reasonCode: null, message: null },
        { line: 3, outcome: 'added', entryId: 'id-3', addressKey: 'evm:a2', reasonCode: null, message: null },
      ],
    });
  });
  it('--dry-run needs no --yes and says nothing was stored; a real import without --yes off a terminal sends nothing (exit 2)', async () => {
    const f = fake();
    const path = file('d.csv', ['list,chain,address,reason', 'block,ethereum-mainnet,a1,r1 r'].join('\n'));
    expect((await run(f, ['import', path, ...SERVER])).code).toBe(ExitCode.USAGE);
    expect(f.sent).toHaveLength(0);
    const r = await run(f, ['import', path, ...SERVER, '--dry-run']);
    expect(r.code).toBe(ExitCode.OK);
    expect(f.sent[0]?.dryRun).toBe(true);
    expect(r.out).toBe('dry run: 1 would be added, 0 already active, 0 rejected (of 1 lines); nothing was stored');
  });
  it('an answer with a missing result or an unknown outcome is refused (MALFORMED_ANSWER, exit 1)', async () => {
    const short = fake((req) => ({ results: [], added: 0, alreadyActive: 0, rejected: 0, ...{ entries: req.entries.length } }));
    const path = file('m.csv', ['list,chain,address,reason', 'block,ethereum-mainnet,a1,r1 r'].join('\n'));
    const r = await run(short, ['import', path, ...SERVER, '--yes', '--json']);
    expect(r.code).toBe(ExitCode.FAILED);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, reason: 'MALFORMED_ANSWER' });
    const odd = fake((req) => ({ results: req.entries.map((e) => ({ line: e.line, outcome: 99 as ImportEntryOutcome, entryId: '', addressKey: '', reasonCode: '', message: '' })), added: 0, alreadyActive: 0, rejected: 0 }));
    expect((await run(odd, ['import', path, ...SERVER, '--yes'])).err).toMatch(/unknown outcome/);
  });
  it('a missing file or server is a usage error', async () => {
    expect((await run(fake(), ['import', join(dir, 'nope.csv'), ...SERVER, '--yes'])).err).toMatch(/cannot read .*nope.csv: ENOENT/);
    expect((await run(fake(), ['import', file('s.csv', 'chain,address,reason\nx,y,zzz'), '--list', 'block', '--yes'])).err).toMatch(/CUSTODY_RISK_SERVER/);
  });
});

describe('custody list import-ofac and status', () => {
  it('import-ofac sends the file as is with the format hint and note; prints the version diff and warnings', async () => {
    const f = fake();
    const r = await run(f, ['import-ofac', file('sdn.csv', 'x'), ...SERVER, '--format', 'sdn-csv', '--note', 'daily', '--yes']);
    expect(r.code).toBe(ExitCode.OK);
    expect(r.out).toBe('imported: version v2 (sdn-csv), 9 addresses, +2 -1\nwarning: kept as exact: x');
    expect((await run(f, ['import-ofac', file('sdn2.csv', 'x'), ...SERVER, '--format', 'pdf', '--yes'])).code).toBe(ExitCode.USAGE);
  });
  it('status: a missing list is exit 1 (screening fails closed)', async () => {
    const r = await run(fake(), ['status', ...SERVER, '--json']);
    expect(r.code).toBe(ExitCode.FAILED);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, state: 'missing', version: null, maxAgeSeconds: 86400 });
  });
});
