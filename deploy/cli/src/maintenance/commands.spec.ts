import { createPublicKey, randomBytes, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { timestampFromDate, timestampToDate, type CancelMaintenanceRequest, type ListMaintenanceNoticesRequest, type MaintenanceNotice, type ScheduleMaintenanceRequest } from '@custody/contracts';
// The composition layer may use a service's exported API (as deploy/embedded does); the whole-graph
// rule is checked by scripts/workspace/boundaries.spec.ts.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { ADMIN_SERVICE_PATH, AuthHeaders, adminBodies, encodeSigningInput } from '@custody/intake';
import { runCli } from '../cli.js';
import { parseOperatorKey } from '../approvals/signing.js';
import { ExitCode, type Io } from '../types.js';
import type { MaintenanceAdminApi } from './client.js';
import { maintenanceGroupWith, parseDuration, parseTime, scheduleRequestOf, type ConnectMaintenance } from './commands.js';
import { formatNoticeTable, noticeToJson } from './format.js';
import { signAdminCall, type AdminOperator } from './signing.js';

function fakeIo(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, interactive: false, ask: () => Promise.resolve('') };
}

const dir = mkdtempSync(join(tmpdir(), 'custody-maintenance-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const seed = randomBytes(32);
const keyFile = join(dir, 'alice.seed');
writeFileSync(keyFile, seed.toString('hex'), { mode: 0o600 });

const ID = '5b0e6c1e-1d2f-4a3b-8c4d-5e6f7a8b9c0d';
const notice = (over: Partial<MaintenanceNotice> = {}): MaintenanceNotice => ({
  window: {
    maintenanceId: ID,
    chains: [],
    assets: ['ETH'],
    startsAt: timestampFromDate(new Date('2026-12-01T02:00:00Z')),
    endsAt: timestampFromDate(new Date('2026-12-01T04:00:00Z')),
    description: 'Ethereum node upgrade',
    withdrawalsSuspended: true,
    depositsDelayed: false,
  },
  announcedBy: 'alice',
  announcedAt: timestampFromDate(new Date('2026-11-24T10:00:00Z')),
  cancelledAt: undefined,
  cancelledBy: '',
  state: 'upcoming',
  ...over,
});

function fake(): { connect: ConnectMaintenance; calls: { op: AdminOperator; list?: ListMaintenanceNoticesRequest; schedule?: ScheduleMaintenanceRequest; cancel?: CancelMaintenanceRequest }[] } {
  const calls: { op: AdminOperator; list?: ListMaintenanceNoticesRequest; schedule?: ScheduleMaintenanceRequest; cancel?: CancelMaintenanceRequest }[] = [];
  const connect: ConnectMaintenance = (_a, _t, _ms, op) => {
    const api: MaintenanceAdminApi = {
      list: (req) => {
        calls.push({ op, list: req });
        return Promise.resolve({ notices: [notice(), notice({ window: { ...notice().window!, maintenanceId: 'other', assets: [], chains: ['bitcoin'] }, state: 'cancelled', cancelledBy: 'bob', cancelledAt: timestampFromDate(new Date('2026-11-25T00:00:00Z')) })], truncated: false });
      },
      schedule: (req) => {
        calls.push({ op, schedule: req });
        return Promise.resolve({ window: { maintenanceId: ID, ...req } });
      },
      cancel: (req) => {
        calls.push({ op, cancel: req });
        return Promise.resolve({ maintenanceId: req.maintenanceId, cancelledAt: timestampFromDate(new Date('2026-11-24T12:00:00Z')) });
      },
      close: () => undefined,
    };
    return Promise.resolve(api);
  };
  return { connect, calls };
}

const CONN = ['--server', '127.0.0.1:50052', '--insecure-loopback', '--operator', 'alice', '--key-id', 'alice-k1', '--key-file', keyFile];
const run = async (f: ReturnType<typeof fake>, args: string[]) => {
  const io = fakeIo();
  const code = await runCli(['maintenance', ...args], io, [maintenanceGroupWith(f.connect)]);
  return { code, io, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
};

describe('custody maintenance: the request signature is intake\'s own (encodeSigningInput over adminBodies)', () => {
  it('signs the method, operator, key id, timestamp, nonce and body; verifies with the operator\'s public key and fails for another body', () => {
    const key = parseOperatorKey(seed.toString('hex'));
    const op: AdminOperator = { operatorId: 'alice', keyId: 'alice-k1', key };
    const signing = { encodeSigningInput, headers: AuthHeaders, servicePath: ADMIN_SERVICE_PATH };
    const req = { includeEnded: true, includeCancelled: false, limit: 100 };
    const h = signAdminCall(signing, 'ListMaintenanceNotices', adminBodies.listMaintenanceNotices(req), op, 1_795_000_000_000, 'nonce-1');
    expect(h).toMatchObject({ 'x-custody-client-id': 'alice', 'x-custody-key-id': 'alice-k1', 'x-custody-timestamp': '1795000000000', 'x-custody-nonce': 'nonce-1' });
    const envelope = { method: '/custody.intake.v1.IntakeAdminService/ListMaintenanceNotices', clientId: 'alice', keyId: 'alice-k1', timestampMs: 1_795_000_000_000, nonce: 'nonce-1', body: adminBodies.listMaintenanceNotices(req) };
    const sig = Buffer.from(h['x-custody-signature'] ?? '', 'base64');
    expect(verify(null, encodeSigningInput(envelope), createPublicKey(key), sig)).toBe(true);
    expect(verify(null, encodeSigningInput({ ...envelope, body: adminBodies.listMaintenanceNotices({ ...req, includeCancelled: true }) }), createPublicKey(key), sig)).toBe(false);
    expect(JSON.stringify(h)).not.toContain(seed.toString('hex'));
    expect(signAdminCall(signing, 'ListMaintenanceNotices', [], op, 1)['x-custody-nonce']).not.toBe(signAdminCall(signing, 'ListMaintenanceNotices', [], op, 1)['x-custody-nonce']);
  });
});

describe('custody maintenance: schedule arguments', () => {
  const base = { 'starts-at': '2026-12-01T02:00:00Z', duration: '2h', asset: ['ETH'], 'suspend-withdrawals': true, description: 'upgrade' };
  it('builds the request: times with a zone, duration, scope, effects', () => {
    const r = scheduleRequestOf(base);
    expect(timestampToDate(r.startsAt!).toISOString()).toBe('2026-12-01T02:00:00.000Z');
    expect(timestampToDate(r.endsAt!).toISOString()).toBe('2026-12-01T04:00:00.000Z');
    expect(r).toMatchObject({ assets: ['ETH'], chains: [], withdrawalsSuspended: true, depositsDelayed: false, description: 'upgrade' });
    expect(timestampToDate(scheduleRequestOf({ ...base, duration: undefined, 'ends-at': '2026-12-01T05:30:00+02:00' }).endsAt!).toISOString()).toBe('2026-12-01T03:30:00.000Z');
    expect(scheduleRequestOf({ ...base, asset: undefined, everything: true })).toMatchObject({ assets: [], chains: [] });
  });
  it.each([
    ['a time without a zone', { 'starts-at': '2026-12-01T02:00:00' }, /with a zone/],
    ['a date only', { 'starts-at': '2026-12-01' }, /with a zone/],
    ['both --ends-at and --duration', { 'ends-at': '2026-12-01T05:00:00Z' }, /one of them/],
    ['an end before the start', { duration: undefined, 'ends-at': '2026-12-01T01:00:00Z' }, /after --starts-at/],
    ['no effect', { 'suspend-withdrawals': false }, /suspend-withdrawals and\/or/],
    ['no scope', { asset: undefined }, /--everything/],
    ['a scope and --everything', { everything: true }, /--everything/],
    ['a blank description', { description: '  ' }, /description/],
  ])('refuses %s (usage error)', (_n, over, message) => {
    expect(() => scheduleRequestOf({ ...base, ...over })).toThrow(message);
  });
  it('durations: m, h, d within 1 minute to 30 days', () => {
    expect(parseDuration('90m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    for (const bad of ['0m', '31d', '2', 'h', '1.5h', '-1h']) expect(() => parseDuration(bad)).toThrow(/--duration/);
    expect(() => parseTime('starts-at', 'tomorrow')).toThrow(/ISO 8601/);
  });
});

describe('custody maintenance: commands against a fake intake', () => {
  it('list --json: notices with ISO times, operators and states; --all asks for ended and cancelled; signed as the operator', async () => {
    const f = fake();
    const r = await run(f, ['list', ...CONN, '--all', '--json']);
    expect(r.code).toBe(ExitCode.OK);
    expect(f.calls[0]?.list).toEqual({ includeEnded: true, includeCancelled: true, limit: 100 });
    expect(f.calls[0]?.op).toMatchObject({ operatorId: 'alice', keyId: 'alice-k1' });
    const doc = JSON.parse(r.out) as { ok: boolean; notices: ReturnType<typeof noticeToJson>[]; truncated: boolean };
    expect(doc.ok).toBe(true);
    expect(doc.notices[0]).toEqual({
      maintenanceId: ID,
      state: 'upcoming',
      startsAt: '2026-12-01T02:00:00.000Z',
      endsAt: '2026-12-01T04:00:00.000Z',
      chains: [],
      assets: ['ETH'],
      withdrawalsSuspended: true,
      depositsDelayed: false,
      description: 'Ethereum node upgrade',
      announcedBy: 'alice',
      announcedAt: '2026-11-24T10:00:00.000Z',
      cancelledBy: null,
      cancelledAt: null,
    });
    expect(doc.notices[1]).toMatchObject({ state: 'cancelled', cancelledBy: 'bob', chains: ['bitcoin'] });
    expect(r.out).not.toContain(seed.toString('hex'));
  });
  it('list (table): one row per notice with scope, effect and who cancelled; default asks for current and upcoming only', async () => {
    const f = fake();
    const r = await run(f, ['list', ...CONN]);
    expect(r.code).toBe(ExitCode.OK);
    expect(f.calls[0]?.list).toEqual({ includeEnded: false, includeCancelled: false, limit: 100 });
    expect(r.out).toMatch(/^ID\s+STATE\s+STARTS/);
    expect(r.out).toMatch(new RegExp(`${ID}\\s+upcoming\\s+2026-12-01T02:00:00.000Z\\s+2026-12-01T04:00:00.000Z\\s+ETH\\s+withdrawals suspended\\s+alice`));
    expect(r.out).toMatch(/cancelled\s.*chain bitcoin.*alice \(cancelled by bob\)/);
    expect(formatNoticeTable([], false)).toBe('no maintenance notices');
    expect(formatNoticeTable([noticeToJson(notice())], true)).toMatch(/raise --limit/);
  });
  it('schedule --yes sends the parsed request and prints the id; without --yes and without a terminal nothing is sent (exit 2)', async () => {
    const f = fake();
    const args = ['schedule', ...CONN, '--asset', 'ETH', '--starts-at', '2026-12-01T02:00:00Z', '--duration', '2h', '--suspend-withdrawals', '--description', 'Ethereum node upgrade'];
    const refused = await run(f, args);
    expect(refused.code).toBe(ExitCode.USAGE);
    expect(f.calls).toHaveLength(0);
    const r = await run(f, [...args, '--yes', '--json']);
    expect(r.code).toBe(ExitCode.OK);
    expect(f.calls[0]?.schedule).toMatchObject({ assets: ['ETH'], withdrawalsSuspended: true, description: 'Ethereum node upgrade' });
    expect(JSON.parse(r.out)).toMatchObject({ ok: true, notice: { maintenanceId: ID, announcedBy: 'alice', startsAt: '2026-12-01T02:00:00.000Z', endsAt: '2026-12-01T04:00:00.000Z' } });
  });
  it('cancel: a malformed id, a missing operator key or a missing server is a usage error and sends nothing; --yes cancels', async () => {
    const f = fake();
    expect((await run(f, ['cancel', 'nope', ...CONN, '--yes'])).code).toBe(ExitCode.USAGE);
    expect((await run(f, ['cancel', ID, '--server', '127.0.0.1:50052', '--insecure-loopback', '--operator', 'alice', '--key-id', 'k', '--yes'])).code).toBe(ExitCode.USAGE);
    expect((await run(f, ['cancel', ID, ...CONN.slice(2), '--yes'])).err).toMatch(/CUSTODY_INTAKE_ADMIN_SERVER/);
    expect(f.calls).toHaveLength(0);
    const r = await run(f, ['cancel', ID, ...CONN, '--reason', 'postponed', '--yes']);
    expect(r.code).toBe(ExitCode.OK);
    expect(f.calls[0]?.cancel).toEqual({ maintenanceId: ID, reason: 'postponed' });
    expect(r.out).toBe(`cancelled ${ID} at 2026-11-24T12:00:00.000Z (by alice)`);
  });
  it('list --limit out of range → usage error', async () => {
    expect((await run(fake(), ['list', ...CONN, '--limit', '0'])).code).toBe(ExitCode.USAGE);
  });
});
