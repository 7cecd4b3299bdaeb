import { describe, expect, it } from '@jest/globals';
import { runCli } from '../cli.js';
import type { ProcessResult, RunProcess } from '../process.js';
import { ExitCode, type CommandGroup, type Io } from '../types.js';
import { controlsReportCommand, parseControlsSummary } from './report.js';

function fakeIo(): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env: {}, interactive: false, ask: () => Promise.resolve('') };
}

const LINE = 'controls: 53 proven, 0 failing, 104 unproven of 157 → docs/controls.md\n';

function groupWith(result: Partial<ProcessResult>, calls: { command: string; args: readonly string[]; cwd: string }[] = []): CommandGroup {
  const run: RunProcess = (command, args, options) => {
    calls.push({ command, args, cwd: options.cwd });
    return Promise.resolve({ status: 0, signal: null, stdout: '', stderr: '', ...result });
  };
  return { name: 'controls', summary: '', commands: [controlsReportCommand(run, '/repo')] };
}

describe('custody controls report (scripts/controls-report.mjs)', () => {
  it('runs the script with node in the repository; prints its summary, or the figures as JSON', async () => {
    const calls: { command: string; args: readonly string[]; cwd: string }[] = [];
    const io = fakeIo();
    expect(await runCli(['controls', 'report', '--check'], io, [groupWith({ stdout: LINE }, calls)])).toBe(ExitCode.OK);
    expect(calls).toEqual([{ command: process.execPath, args: ['/repo/scripts/controls-report.mjs', '--check'], cwd: '/repo' }]);
    expect(io.stdout).toEqual([LINE.trimEnd()]);
    const j = fakeIo();
    expect(await runCli(['controls', 'report', '--json'], j, [groupWith({ stdout: LINE })])).toBe(ExitCode.OK);
    expect(JSON.parse(j.stdout[0] ?? '')).toEqual({ ok: true, proven: 53, failing: 0, unproven: 104, total: 157, output: 'docs/controls.md' });
  });

  it('--check failing → 1; no test results (script exit 2) → 1 with its message; a crash → 1', async () => {
    expect(await runCli(['controls', 'report', '--check'], fakeIo(), [groupWith({ status: 1, stdout: LINE.replace('0 failing', '2 failing') })])).toBe(ExitCode.FAILED);
    const missing = fakeIo();
    expect(await runCli(['controls', 'report'], missing, [groupWith({ status: 2, stderr: 'controls-report: no test results at .local/jest-results.json: run `npm test` first\n' })])).toBe(ExitCode.FAILED);
    expect(missing.stderr.at(-1)).toBe('custody: controls report: no test results at .local/jest-results.json: run `npm test` first');
    expect(await runCli(['controls', 'report'], fakeIo(), [groupWith({ status: null, signal: 'SIGKILL' })])).toBe(ExitCode.FAILED);
    expect(parseControlsSummary('nothing')).toBeUndefined();
  });
});
