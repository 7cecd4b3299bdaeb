// `custody policy test` — `opa test` on the policy rules and data (docs/policies.md). The two
// roots are passed separately, never `policies/` as a whole: the acceptance cases in
// policies/acceptance are Jest inputs, and as data they would collide ("merge error").
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { stringOption } from '../args.js';
import { repositoryRoot } from '../paths.js';
import { runProcess, type RunProcess } from '../process.js';
import { activateCommand, signBundleCommand } from './activate.js';
import { policyBacktestCommand } from './backtest.js';
import { CliError, ExitCode, type CommandGroup, type CommandSpec, type ExitCode as Code } from '../types.js';

/** OPA_BIN, else the repository's .local/bin/opa (scripts/infra/opa.sh), else `opa` on PATH. */
export function opaBinary(env: NodeJS.ProcessEnv, root: string): string {
  if (env['OPA_BIN']) return env['OPA_BIN'];
  const local = join(root, '.local/bin/opa');
  return existsSync(local) ? local : 'opa';
}

export function opaTestArgs(o: { json: boolean; verbose: boolean; run?: string }): string[] {
  return ['test', 'policies/custody', 'policies/data', ...(o.verbose ? ['-v'] : []), ...(o.run !== undefined ? ['-r', o.run] : []), ...(o.json ? ['--format=json'] : [])];
}

export function policyTestCommand(run: RunProcess = runProcess, root: string = repositoryRoot()): CommandSpec {
  return {
    name: 'test',
    summary: 'run the Rego unit tests (opa test policies/custody policies/data); opa\'s exit code is the result',
    options: {
      verbose: { type: 'boolean', short: 'v', description: 'list every test' },
      run: { type: 'string', short: 'r', placeholder: 'regex', description: 'only the tests whose names match' },
    },
    details: 'opa: $OPA_BIN, else .local/bin/opa (scripts/infra/opa.sh), else opa on PATH. --json passes --format=json to opa.\nThe whole pipeline (fmt, strict check, coverage, bundle build): bash scripts/policy-test.sh',
    run: async (ctx) => {
      const opa = opaBinary(ctx.io.env, root);
      const runFilter = stringOption(ctx.values, 'run');
      const r = await run(opa, opaTestArgs({ json: ctx.json, verbose: ctx.values['verbose'] === true, ...(runFilter !== undefined ? { run: runFilter } : {}) }), { cwd: root, env: ctx.io.env, capture: false });
      if (r.startError) throw new CliError(ExitCode.FAILED, `cannot run ${opa}: ${r.startError.code ?? r.startError.message} (set OPA_BIN or run scripts/infra/opa.sh)`, 'OPA_NOT_FOUND');
      if (r.status === null) throw new CliError(ExitCode.FAILED, `opa test ended by ${r.signal ?? 'a signal'}`, 'TOOL_FAILED');
      return r.status as Code;
    },
  };
}

export const policyGroup: CommandGroup = {
  name: 'policy',
  summary: 'the Rego policies: test, backtest, sign-bundle, activate',
  commands: [policyTestCommand(), policyBacktestCommand(), signBundleCommand(), activateCommand()],
};
