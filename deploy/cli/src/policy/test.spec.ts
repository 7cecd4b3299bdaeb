import { describe, expect, it } from '@jest/globals';
import { runCli } from '../cli.js';
import type { ProcessResult, RunProcess } from '../process.js';
import { ExitCode, type CommandGroup, type Io } from '../types.js';
import { opaBinary, opaTestArgs, policyTestCommand } from './test.js';

function fakeIo(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, interactive: false, ask: () => Promise.resolve('') };
}

function groupWith(result: Partial<ProcessResult>, calls: { command: string; args: readonly string[]; capture: boolean }[] = []): CommandGroup {
  const run: RunProcess = (command, args, options) => {
    calls.push({ command, args, capture: options.capture });
    return Promise.resolve({ status: 0, signal: null, stdout: '', stderr: '', ...result });
  };
  return { name: 'policy', summary: '', commands: [policyTestCommand(run, '/nonexistent-repo')] };
}

describe('custody policy test (opa test)', () => {
  it('runs OPA_BIN on the two policy roots (never policies/ whole: the acceptance cases are not data), output passed through', async () => {
    const calls: { command: string; args: readonly string[]; capture: boolean }[] = [];
    expect(await runCli(['policy', 'test', '-v', '-r', 'test_c_9_3', '--json'], fakeIo({ OPA_BIN: '/opt/opa' }), [groupWith({}, calls)])).toBe(ExitCode.OK);
    expect(calls).toEqual([{ command: '/opt/opa', args: ['test', 'policies/custody', 'policies/data', '-v', '-r', 'test_c_9_3', '--format=json'], capture: false }]);
    expect(opaTestArgs({ json: false, verbose: false })).toEqual(['test', 'policies/custody', 'policies/data']);
  });

  it('without OPA_BIN: the repository\'s .local/bin/opa if built, else opa on PATH', () => {
    expect(opaBinary({}, '/nonexistent-repo')).toBe('opa');
    expect(opaBinary({ OPA_BIN: '/x/opa' }, '/nonexistent-repo')).toBe('/x/opa');
  });

  it("opa's exit code is the result; opa missing → 1 naming OPA_BIN", async () => {
    expect(await runCli(['policy', 'test'], fakeIo(), [groupWith({ status: 2 })])).toBe(2);
    expect(await runCli(['policy', 'test'], fakeIo(), [groupWith({ status: 1 })])).toBe(1);
    const missing = fakeIo();
    expect(await runCli(['policy', 'test'], missing, [groupWith({ status: null, startError: Object.assign(new Error('spawn opa ENOENT'), { code: 'ENOENT' }) })])).toBe(ExitCode.FAILED);
    expect(missing.stderr.at(-1)).toContain('cannot run opa: ENOENT (set OPA_BIN');
  });
});
