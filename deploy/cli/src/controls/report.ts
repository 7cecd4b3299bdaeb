// `custody controls report` — scripts/controls-report.mjs (the same as `npm run controls`):
// reads the results of `npm test` and writes docs/controls.md.
import { join } from 'node:path';
import { repositoryRoot } from '../paths.js';
import { runProcess, type RunProcess } from '../process.js';
import { CliError, ExitCode, type CommandGroup, type CommandSpec } from '../types.js';

export interface ControlsSummary {
  readonly proven: number;
  readonly failing: number;
  readonly unproven: number;
  readonly total: number;
  readonly output: string;
}

/** The script's last line: `controls: 12 proven, 0 failing, 40 unproven of 52 → docs/controls.md`. */
export function parseControlsSummary(stdout: string): ControlsSummary | undefined {
  const m = /controls: (\d+) proven, (\d+) failing, (\d+) unproven of (\d+) → (\S+)/.exec(stdout);
  if (!m) return undefined;
  return { proven: Number(m[1]), failing: Number(m[2]), unproven: Number(m[3]), total: Number(m[4]), output: m[5] ?? '' };
}

export function controlsReportCommand(run: RunProcess = runProcess, root: string = repositoryRoot()): CommandSpec {
  return {
    name: 'report',
    summary: 'write docs/controls.md: every ISO/TR 23576 control with the tests that prove it (after `npm test`)',
    options: {
      check: { type: 'boolean', description: 'exit 1 when a test naming a control failed, or a test names an unknown control' },
    },
    details: 'Reads .local/jest-results.json (and .local/opa-results.json) written by `npm test`; CUSTODY_CONTROLS_MD overrides the catalogue.',
    run: async (ctx) => {
      const r = await run(process.execPath, [join(root, 'scripts/controls-report.mjs'), ...(ctx.values['check'] === true ? ['--check'] : [])], { cwd: root, env: ctx.io.env, capture: true });
      if (r.startError) throw new CliError(ExitCode.FAILED, `cannot run the controls report: ${r.startError.code ?? r.startError.message}`, 'TOOL_FAILED');
      const message = r.stderr.trim().replace(/^controls-report: /, '');
      if (r.status === 2) throw new CliError(ExitCode.FAILED, `controls report: ${message}`, 'CONTROLS_INPUT_MISSING');
      const summary = parseControlsSummary(r.stdout);
      if ((r.status !== 0 && r.status !== 1) || !summary) throw new CliError(ExitCode.FAILED, `controls report failed (exit ${r.status ?? r.signal}): ${message}`, 'TOOL_FAILED');
      ctx.io.out(ctx.json ? JSON.stringify({ ok: r.status === 0, ...summary }) : r.stdout.trimEnd());
      if (r.status === 1) ctx.io.err('custody controls report: a test naming a control failed, or a test names an unknown control (--check)');
      return r.status === 0 ? ExitCode.OK : ExitCode.FAILED;
    },
  };
}

export const controlsGroup: CommandGroup = {
  name: 'controls',
  summary: 'controls evidence for the auditor: report',
  commands: [controlsReportCommand()],
};
