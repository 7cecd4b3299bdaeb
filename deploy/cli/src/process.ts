// Running a tool of the repository as a child process (controls report, opa).
import { spawn } from 'node:child_process';

export interface ProcessResult {
  /** Exit status; null when killed by a signal or not started. */
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Captured output (empty when it was passed through). */
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the program could not be started (e.g. ENOENT). */
  readonly startError?: NodeJS.ErrnoException;
}

export type RunProcess = (command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; capture: boolean }) => Promise<ProcessResult>;

/** Spawns without a shell; `capture` collects stdout/stderr, otherwise they pass through. */
export const runProcess: RunProcess = (command, args, options) =>
  new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd: options.cwd, env: options.env, stdio: options.capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ status: null, signal: null, stdout, stderr, startError: err }));
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
