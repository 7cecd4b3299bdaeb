// `custody audit verify` — runs the audit service's own verifier (runVerify of
// services/audit/src/cli/verify.ts, docs/audit.md "Verification"), nothing reimplemented.
// The database URL comes from CUSTODY_DB_URL only (a password on the command line would
// show in `ps`); the verifier needs SELECT only.
import { stringOption } from '../args.js';
import { CliError, ExitCode, UsageError, type CommandGroup, type CommandSpec, type Io } from '../types.js';

/** The audit verifier's exported entry point (services/audit/src/cli/verify.ts). */
export type RunVerify = (argv: readonly string[], env?: NodeJS.ProcessEnv) => Promise<{ exitCode: 0 | 1 | 2; output: string }>;

/**
 * Loads runVerify from the built audit service. `@custody/audit` exports only its entry point,
 * so the verifier module is found beside it (dist/index.js → dist/cli/verify.js).
 */
export async function loadAuditVerifier(): Promise<RunVerify> {
  let url: URL;
  try {
    url = new URL('./cli/verify.js', import.meta.resolve('@custody/audit'));
  } catch {
    throw new CliError(ExitCode.FAILED, 'the audit service is not installed in this workspace', 'AUDIT_VERIFIER_MISSING');
  }
  let mod: { runVerify?: unknown };
  try {
    mod = (await import(url.href)) as { runVerify?: unknown };
  } catch (err) {
    throw new CliError(ExitCode.FAILED, `cannot load the audit verifier (${url.pathname}; build it with \`npm run build\`): ${(err as Error).message}`, 'AUDIT_VERIFIER_MISSING');
  }
  if (typeof mod.runVerify !== 'function') throw new CliError(ExitCode.FAILED, `${url.pathname} exports no runVerify`, 'AUDIT_VERIFIER_MISSING');
  return mod.runVerify as RunVerify;
}

const TRUSTED_KEY = /^[!-~]{1,128}:[0-9a-fA-F]{64}$/;

/** The verifier's environment: the caller's, plus --schema and --trusted-key. */
export function verifierEnv(env: NodeJS.ProcessEnv, schema: string | undefined, trustedKeys: readonly string[]): NodeJS.ProcessEnv {
  if (!env['CUSTODY_DB_URL']) throw new UsageError('set CUSTODY_DB_URL to the audit database (a role with SELECT on the audit schema)');
  for (const k of trustedKeys) if (!TRUSTED_KEY.test(k)) throw new UsageError(`--trusted-key must be <key-id>:<64 hex digits>`);
  const inherited = (env['CUSTODY_AUDIT_TRUSTED_KEYS'] ?? '').split(',').filter((s) => s.trim() !== '');
  return {
    ...env,
    ...(schema !== undefined ? { CUSTODY_AUDIT_DB_SCHEMA: schema } : {}),
    ...(trustedKeys.length > 0 ? { CUSTODY_AUDIT_TRUSTED_KEYS: [...inherited, ...trustedKeys].join(',') } : {}),
  };
}

/** Prints "still verifying" on stderr every `everyMs` until stopped (long chains). */
export function startProgress(io: Io, everyMs: number): () => void {
  const started = Date.now();
  const timer = setInterval(() => io.err(`custody audit verify: still walking the chain (${Math.round((Date.now() - started) / 1000)} s)`), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}

export function auditVerifyCommand(load: () => Promise<RunVerify> = loadAuditVerifier, progressEveryMs = 5_000): CommandSpec {
  return {
    name: 'verify',
    summary: 'walk the whole audit hash chain and its signed checkpoints; name the first broken record',
    options: {
      schema: { type: 'string', placeholder: 'name', description: 'the audit schema (default $CUSTODY_AUDIT_DB_SCHEMA or "audit")' },
      'trusted-key': { type: 'string', multiple: true, placeholder: 'id:hex', description: 'a checkpoint public key to trust, added to $CUSTODY_AUDIT_TRUSTED_KEYS' },
    },
    details: [
      'Environment: CUSTODY_DB_URL (required), CUSTODY_AUDIT_DB_SCHEMA, CUSTODY_AUDIT_TRUSTED_KEYS=<id>:<hex>,...',
      'Exit 0 intact, 1 broken (the first broken record is printed), 2 settings refused, 3 cannot verify (database unreachable or unreadable).',
    ].join('\n'),
    run: async (ctx) => {
      const trusted = (ctx.values['trusted-key'] as string[] | undefined) ?? [];
      const env = verifierEnv(ctx.io.env, stringOption(ctx.values, 'schema'), trusted);
      const runVerify = await load();
      ctx.io.err(`custody audit verify: verifying the audit chain (schema ${env['CUSTODY_AUDIT_DB_SCHEMA'] ?? 'audit'}, ${trusted.length + (ctx.io.env['CUSTODY_AUDIT_TRUSTED_KEYS'] ? 1 : 0) > 0 ? 'with' : 'without'} trusted checkpoint keys)`);
      const stop = startProgress(ctx.io, progressEveryMs);
      let outcome: Awaited<ReturnType<RunVerify>>;
      try {
        outcome = await runVerify(ctx.json ? ['--json'] : [], env);
      } finally {
        stop();
      }
      // The verifier's exit 2 covers both: settings it refuses (its config error) and a database it cannot read.
      if (outcome.exitCode === 2 && /^cannot verify: (invalid configuration|.*trusted key)/i.test(outcome.output)) throw new CliError(ExitCode.USAGE, outcome.output, 'VERIFY_SETTINGS_INVALID');
      if (outcome.exitCode === 2) throw new CliError(ExitCode.UNREACHABLE, outcome.output, 'CANNOT_VERIFY');
      ctx.io.out(outcome.output);
      return outcome.exitCode === 0 ? ExitCode.OK : ExitCode.FAILED;
    },
  };
}

export const auditGroup: CommandGroup = {
  name: 'audit',
  summary: 'the tamper-evident audit log: verify the hash chain',
  commands: [auditVerifyCommand()],
};
