import { describe, expect, it } from '@jest/globals';
import { runCli } from './cli.js';
import { COMMAND_GROUPS } from './commands.js';
import { CliError, ExitCode, type CommandGroup, type CommandContext, type Io } from './types.js';

function fakeIo(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, interactive: false, ask: () => Promise.resolve('') };
}

const seen: CommandContext[] = [];
const group: CommandGroup = {
  name: 'demo',
  summary: 'a demo group',
  commands: [
    {
      name: 'echo',
      summary: 'echoes its argument',
      positionals: ['<word>'],
      options: { loud: { type: 'boolean', description: 'shout' }, times: { type: 'string', placeholder: 'n', description: 'repeat' } },
      run: async (ctx) => {
        seen.push(ctx);
        ctx.io.out(String(ctx.positionals[0]));
        return ExitCode.OK;
      },
    },
    { name: 'refuse', summary: 'always refused', options: {}, run: () => Promise.reject(new CliError(ExitCode.FAILED, 'refused by the server: NOPE', 'NOPE')) },
    { name: 'crash', summary: 'a bug', options: {}, run: () => Promise.reject(new Error('boom')) },
  ],
};

describe('custody dispatch', () => {
  it('runs a command with its options and positionals', async () => {
    const io = fakeIo();
    expect(await runCli(['demo', 'echo', 'hi', '--loud', '--times', '3'], io, [group])).toBe(ExitCode.OK);
    expect(io.stdout).toEqual(['hi']);
    expect(seen.at(-1)).toMatchObject({ values: { loud: true, times: '3' }, positionals: ['hi'], json: false });
  });

  it('help: top level, group and command, exit 0 on stdout; no arguments is a usage error on stderr', async () => {
    const top = fakeIo();
    expect(await runCli(['--help'], top, [group])).toBe(0);
    expect(top.stdout[0]).toContain('demo  a demo group');
    const g = fakeIo();
    expect(await runCli(['demo', '--help'], g, [group])).toBe(0);
    expect(g.stdout[0]).toContain('echo    echoes its argument');
    const c = fakeIo();
    expect(await runCli(['demo', 'echo', '--help'], c, [group])).toBe(0);
    expect(c.stdout[0]).toContain('Usage: custody demo echo <word> [options]');
    expect(c.stdout[0]).toContain('--times <n>');
    expect(c.stdout[0]).toContain('--json');
    expect(c.stdout[0]).toContain('Exit codes: 0 ok, 1 refused or failed');
    const none = fakeIo();
    expect(await runCli([], none, [group])).toBe(ExitCode.USAGE);
    expect(none.stderr[0]).toContain('Usage: custody');
    expect(await runCli(['demo'], fakeIo(), [group])).toBe(ExitCode.USAGE);
  });

  it.each([
    [['nope', 'x'], 'unknown command group "nope"'],
    [['demo', 'nope'], 'unknown command "demo nope"'],
    [['demo', 'echo', 'hi', '--bogus'], "Unknown option '--bogus'"],
    [['demo', 'echo'], 'expected <word>, got 0 argument(s)'],
    [['demo', 'echo', 'a', 'b'], 'expected <word>, got 2 argument(s)'],
    [['demo', 'refuse', 'extra'], 'unexpected argument: extra'],
    [['demo', 'echo', 'hi', '--times'], "Option '--times <value>' argument missing"],
  ])('usage error %j → exit 2', async (argv, message) => {
    const io = fakeIo();
    expect(await runCli(argv, io, [group])).toBe(ExitCode.USAGE);
    expect(io.stderr.join('\n')).toContain(message);
    expect(io.stdout).toEqual([]);
  });

  it('a refusal exits 1 with its reason; with --json the error is one JSON document on stdout', async () => {
    const io = fakeIo();
    expect(await runCli(['demo', 'refuse'], io, [group])).toBe(ExitCode.FAILED);
    expect(io.stderr).toEqual(['custody: refused by the server: NOPE']);
    const j = fakeIo();
    expect(await runCli(['demo', 'refuse', '--json'], j, [group])).toBe(ExitCode.FAILED);
    expect(JSON.parse(j.stdout[0] ?? '')).toEqual({ ok: false, exitCode: 1, reason: 'NOPE', message: 'refused by the server: NOPE' });
  });

  it('an unexpected error exits 1 (never 0)', async () => {
    const io = fakeIo();
    expect(await runCli(['demo', 'crash'], io, [group])).toBe(ExitCode.FAILED);
    expect(io.stderr[0]).toContain('unexpected error: boom');
  });
});

describe('the command registry', () => {
  it('lists approvals, audit, controls, keys, list, maintenance, policy and reconcile', () => {
    expect(COMMAND_GROUPS.map((g) => g.name)).toEqual(['approvals', 'audit', 'controls', 'keys', 'list', 'maintenance', 'policy', 'reconcile']);
    expect(COMMAND_GROUPS.find((g) => g.name === 'maintenance')?.commands.map((c) => c.name)).toEqual(['list', 'schedule', 'cancel']);
    expect(COMMAND_GROUPS.find((g) => g.name === 'list')?.commands.map((c) => c.name)).toEqual(['import', 'import-ofac', 'status']);
    expect(COMMAND_GROUPS.find((g) => g.name === 'approvals')?.commands.map((c) => c.name)).toEqual(['list', 'show', 'approve', 'reject', 'enrol-authenticator']);
  });

  it('every command has a help text with --json, and no option collides with --help/--json', async () => {
    for (const g of COMMAND_GROUPS) {
      for (const c of g.commands) {
        expect(Object.keys(c.options)).not.toContain('json');
        expect(Object.keys(c.options)).not.toContain('help');
        const io = fakeIo();
        expect(await runCli([g.name, c.name, '--help'], io, COMMAND_GROUPS)).toBe(0);
        expect(io.stdout[0]).toContain(`Usage: custody ${g.name} ${c.name}`);
        expect(io.stdout[0]).toContain('--json');
      }
    }
  });
});
