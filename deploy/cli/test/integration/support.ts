// Plumbing for the CLI's integration tests: build deploy/cli (dist/main.js) and run it as its own
// process, as an operator would.
import { execFile, spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from '@jest/globals';

const execFileAsync = promisify(execFile);
export const root = resolve(import.meta.dirname, '../../../..');
export const cliMain = join(root, 'deploy/cli/dist/main.js');

/** scripts/build.sh deploy/cli: the tests run the built CLI. */
export async function buildCli(): Promise<void> {
  await execFileAsync('bash', [join(root, 'scripts/build.sh'), 'deploy/cli'], { cwd: root });
}

export interface Cli {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The exit code, with the output shown when it is not the expected one. */
export const expectExit = (r: Cli, code: number): void => expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code });

/** Runs `node deploy/cli/dist/main.js <args>` from the repo root; its exit code and output (killed after `timeoutMs`). */
export function cli(args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 60_000): Promise<Cli> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [cliMain, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}
