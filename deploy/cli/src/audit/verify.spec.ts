import { describe, expect, it } from '@jest/globals';
import { runCli } from '../cli.js';
import { ExitCode, UsageError, type CommandGroup, type Io } from '../types.js';
import { auditVerifyCommand, verifierEnv, type RunVerify } from './verify.js';

function fakeIo(env: NodeJS.ProcessEnv): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, interactive: false, ask: () => Promise.resolve('') };
}

const KEY = `audit-k1:${'cd'.repeat(32)}`;
const DB = { CUSTODY_DB_URL: 'postgres://reader@127.0.0.1:5432/custody' };

function groupWith(outcome: Awaited<ReturnType<RunVerify>>, calls: { argv: readonly string[]; env?: NodeJS.ProcessEnv }[]): CommandGroup {
  const runVerify: RunVerify = (argv, env) => {
    calls.push({ argv, ...(env ? { env } : {}) });
    return Promise.resolve(outcome);
  };
  return { name: 'audit', summary: '', commands: [auditVerifyCommand(() => Promise.resolve(runVerify), 60_000)] };
}

describe('custody audit verify (the audit service\'s runVerify)', () => {
  it('passes --json and the environment, with --schema and --trusted-key added; intact → 0 with the verifier\'s output', async () => {
    const calls: { argv: readonly string[]; env?: NodeJS.ProcessEnv }[] = [];
    const io = fakeIo({ ...DB, CUSTODY_AUDIT_TRUSTED_KEYS: `old-k:${'ef'.repeat(32)}` });
    const code = await runCli(['audit', 'verify', '--json', '--schema', 'audit2', '--trusted-key', KEY], io, [groupWith({ exitCode: 0, output: '{"ok":true}' }, calls)]);
    expect(code).toBe(ExitCode.OK);
    expect(calls[0]?.argv).toEqual(['--json']);
    expect(calls[0]?.env).toMatchObject({ ...DB, CUSTODY_AUDIT_DB_SCHEMA: 'audit2', CUSTODY_AUDIT_TRUSTED_KEYS: `old-k:${'ef'.repeat(32)},${KEY}` });
    expect(io.stdout).toEqual(['{"ok":true}']);
    expect(io.stderr[0]).toContain('verifying the audit chain (schema audit2, with trusted checkpoint keys)');
  });

  it('broken chain → 1 with the first broken record; cannot verify → 3; settings the verifier refuses → 2', async () => {
    const broken = fakeIo(DB);
    const text = 'audit chain BROKEN at record 33 (RECORD_MISSING): record 33 is missing; records 1..32 verified';
    expect(await runCli(['audit', 'verify'], broken, [groupWith({ exitCode: 1, output: text }, [])])).toBe(ExitCode.FAILED);
    expect(broken.stdout).toEqual([text]);
    const down = fakeIo(DB);
    expect(await runCli(['audit', 'verify'], down, [groupWith({ exitCode: 2, output: 'cannot verify: connect ECONNREFUSED' }, [])])).toBe(ExitCode.UNREACHABLE);
    expect(down.stderr.at(-1)).toBe('custody: cannot verify: connect ECONNREFUSED');
    const refused = fakeIo(DB);
    expect(await runCli(['audit', 'verify'], refused, [groupWith({ exitCode: 2, output: 'cannot verify: invalid configuration (1 problem): CUSTODY_DB_URL: ...' }, [])])).toBe(ExitCode.USAGE);
  });

  it('needs CUSTODY_DB_URL and well-formed trusted keys (usage errors, verifier not called)', async () => {
    const calls: { argv: readonly string[] }[] = [];
    expect(await runCli(['audit', 'verify'], fakeIo({}), [groupWith({ exitCode: 0, output: '' }, calls)])).toBe(ExitCode.USAGE);
    expect(await runCli(['audit', 'verify', '--trusted-key', 'k1:zz'], fakeIo(DB), [groupWith({ exitCode: 0, output: '' }, calls)])).toBe(ExitCode.USAGE);
    expect(calls).toEqual([]);
    expect(() => verifierEnv({}, undefined, [])).toThrow(UsageError);
    expect(verifierEnv(DB, undefined, [])).toEqual(DB);
  });
});
