import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../cli.js';
import { ExitCode, type CommandGroup, type Io } from '../types.js';
import { backtestFailure, policyBacktestCommand, type BacktestDatabase, type BacktestReportLike } from './backtest.js';

const dir = mkdtempSync(join(tmpdir(), 'custody-backtest-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const bundle = join(dir, 'candidate.tar.gz');
writeFileSync(bundle, 'not read by the fake');

function fakeIo(env: NodeJS.ProcessEnv = { CUSTODY_DB_URL: 'postgres://reader@db/custody' }): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, interactive: false, ask: () => Promise.resolve('') };
}

const changed: BacktestReportLike = {
  candidateDigest: 'cd'.repeat(32),
  replayed: 3,
  unchanged: 2,
  transitions: { 'require_approval -> deny': 1 },
  changes: [
    {
      evaluation: { decisionId: 'dec-1', withdrawalId: 'wd-1', bundleDigest: 'ab'.repeat(32), evaluatedAt: new Date('2026-11-24T10:00:00Z') },
      before: { outcome: 'require_approval', reasons: ['amount_requires_approval'], quorum: 2 },
      after: { outcome: 'deny', reasons: ['limit_single_exceeded'], quorum: 0 },
    },
  ],
};

const group = (run: BacktestDatabase): CommandGroup[] => [{ name: 'policy', summary: '', commands: [policyBacktestCommand(() => Promise.resolve(run))] }];

describe('custody policy backtest: the policy service\'s backtest, formatted, with exit codes', () => {
  it('changed outcomes: listed with the reasons on each side, exit 1; progress and the start line on stderr; the options reach the backtest', async () => {
    const seen: Parameters<BacktestDatabase>[0][] = [];
    const io = fakeIo({ CUSTODY_DB_URL: 'postgres://reader@db/custody', CUSTODY_DB_SCHEMA: 'policy' });
    const code = await runCli(['policy', 'backtest', '--bundle', bundle, '--limit', '50', '--since', '2026-11-01T00:00:00Z'], io, group(async (o) => {
      seen.push(o);
      o.onProgress?.(500, 1000);
      return changed;
    }));
    expect(code).toBe(ExitCode.FAILED);
    expect(seen[0]).toMatchObject({ url: 'postgres://reader@db/custody', schema: 'policy', bundle, limit: 50, since: new Date('2026-11-01T00:00:00Z') });
    expect(io.stdout.join('\n')).toBe(
      [
        `candidate bundle ${'cd'.repeat(32)}`,
        'replayed 3 stored decision inputs: 2 unchanged, 1 changed',
        '  require_approval -> deny: 1',
        `- withdrawal wd-1 (decision dec-1, 2026-11-24T10:00:00.000Z, bundle ${'ab'.repeat(6)}): require_approval [amount_requires_approval] quorum 2 -> deny [limit_single_exceeded]`,
      ].join('\n'),
    );
    expect(io.stderr.join('\n')).toMatch(/replaying up to 50[\s\S]*500\/1000 replayed/);
  });
  it('--json: one document; nothing changed → ok, exit 0', async () => {
    const io = fakeIo();
    const code = await runCli(['policy', 'backtest', '--bundle', bundle, '--json'], io, group(async () => ({ ...changed, unchanged: 3, changes: [], transitions: {} })));
    expect(code).toBe(ExitCode.OK);
    expect(JSON.parse(io.stdout.join(''))).toEqual({ ok: true, candidateDigest: 'cd'.repeat(32), replayed: 3, unchanged: 3, changed: 0, transitions: {}, changes: [] });
  });
  it('usage errors before anything runs: no --bundle, an unreadable bundle, no CUSTODY_DB_URL, a bad --since', async () => {
    let ran = false;
    const run: BacktestDatabase = async () => {
      ran = true;
      return changed;
    };
    expect(await runCli(['policy', 'backtest'], fakeIo(), group(run))).toBe(ExitCode.USAGE);
    const missing = fakeIo();
    expect(await runCli(['policy', 'backtest', '--bundle', join(dir, 'nope.tar.gz')], missing, group(run))).toBe(ExitCode.USAGE);
    expect(missing.stderr.join('')).toMatch(/cannot read --bundle .*ENOENT/);
    expect(await runCli(['policy', 'backtest', '--bundle', bundle], fakeIo({}), group(run))).toBe(ExitCode.USAGE);
    expect(await runCli(['policy', 'backtest', '--bundle', bundle, '--since', 'yesterday'], fakeIo(), group(run))).toBe(ExitCode.USAGE);
    expect(ran).toBe(false);
  });
  it('failures: a refused bundle → 1 BUNDLE_INVALID, an unreachable database → 3, anything else → 1', () => {
    expect(backtestFailure(Object.assign(new Error('not gzip'), { code: 'POLICY_BUNDLE_INVALID' }))).toMatchObject({ exitCode: 1, reason: 'BUNDLE_INVALID' });
    expect(backtestFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }))).toMatchObject({ exitCode: 3, reason: 'UNREACHABLE' });
    expect(backtestFailure(Object.assign(new Error('auth'), { code: '28P01' }))).toMatchObject({ exitCode: 3 });
    expect(backtestFailure(new Error('boom'))).toMatchObject({ exitCode: 1, reason: 'BACKTEST_FAILED' });
  });
});
