// `custody policy backtest --bundle <candidate.tar.gz>` — replays the stored decision inputs of
// the policy database against a candidate bundle and prints the outcomes that would change, with
// the reason codes on each side (docs/policies.md; the policy service's own backtest:
// backtestDatabase of services/policy/src/cli/backtest.ts, loaded from the built @custody/policy,
// nothing reimplemented). The database URL is read from CUSTODY_DB_URL only (a password on a
// command line shows in `ps`); a role with SELECT is enough.
import { accessSync, constants } from 'node:fs';
import { integerOption, requiredOption, stringOption } from '../args.js';
import { CliError, ExitCode, UsageError, type CommandSpec } from '../types.js';

export interface BacktestSide {
  readonly outcome: string;
  readonly reasons: readonly string[];
  readonly quorum: number;
}

/** The parts of the policy service's BacktestReport the CLI reads. */
export interface BacktestReportLike {
  readonly candidateDigest: string;
  readonly replayed: number;
  readonly unchanged: number;
  readonly transitions: Readonly<Record<string, number>>;
  readonly changes: readonly {
    readonly evaluation: { readonly decisionId: string; readonly withdrawalId: string; readonly bundleDigest: string; readonly evaluatedAt: Date };
    readonly before: BacktestSide;
    readonly after: BacktestSide;
  }[];
}

export type BacktestDatabase = (o: { url: string; schema?: string | undefined; bundle: string; limit: number; since?: Date | undefined; onProgress?: (done: number, total: number) => void }) => Promise<BacktestReportLike>;

/** Loads backtestDatabase from the built policy service (dist/index.js → dist/cli/backtest.js). */
export async function loadPolicyBacktest(): Promise<BacktestDatabase> {
  let url: URL;
  try {
    url = new URL('./cli/backtest.js', import.meta.resolve('@custody/policy'));
  } catch {
    throw new CliError(ExitCode.FAILED, 'the policy service is not installed in this workspace', 'BACKTEST_MISSING');
  }
  let mod: { backtestDatabase?: unknown };
  try {
    mod = (await import(url.href)) as { backtestDatabase?: unknown };
  } catch (err) {
    throw new CliError(ExitCode.FAILED, `cannot load the policy backtest (${url.pathname}; build it with \`npm run build\`): ${(err as Error).message}`, 'BACKTEST_MISSING');
  }
  if (typeof mod.backtestDatabase !== 'function') throw new CliError(ExitCode.FAILED, `${url.pathname} exports no backtestDatabase`, 'BACKTEST_MISSING');
  return mod.backtestDatabase as BacktestDatabase;
}

export interface BacktestJson {
  readonly candidateDigest: string;
  readonly replayed: number;
  readonly unchanged: number;
  readonly changed: number;
  readonly transitions: Readonly<Record<string, number>>;
  readonly changes: readonly { withdrawalId: string; decisionId: string; evaluatedAt: string; evaluatedBy: string; before: BacktestSide; after: BacktestSide }[];
}

export function backtestToJson(r: BacktestReportLike): BacktestJson {
  return {
    candidateDigest: r.candidateDigest,
    replayed: r.replayed,
    unchanged: r.unchanged,
    changed: r.changes.length,
    transitions: Object.fromEntries(Object.entries(r.transitions).sort(([a], [b]) => a.localeCompare(b))),
    changes: r.changes.map((c) => ({
      withdrawalId: c.evaluation.withdrawalId,
      decisionId: c.evaluation.decisionId,
      evaluatedAt: new Date(c.evaluation.evaluatedAt).toISOString(),
      evaluatedBy: c.evaluation.bundleDigest,
      before: { outcome: c.before.outcome, reasons: [...c.before.reasons], quorum: c.before.quorum },
      after: { outcome: c.after.outcome, reasons: [...c.after.reasons], quorum: c.after.quorum },
    })),
  };
}

const side = (s: BacktestSide): string => `${s.outcome} [${s.reasons.join(', ')}]${s.quorum > 0 ? ` quorum ${s.quorum}` : ''}`;

export function formatBacktestReport(j: BacktestJson): string {
  const lines = [`candidate bundle ${j.candidateDigest}`, `replayed ${j.replayed} stored decision inputs: ${j.unchanged} unchanged, ${j.changed} changed`];
  for (const [k, n] of Object.entries(j.transitions)) lines.push(`  ${k}: ${n}`);
  for (const c of j.changes) lines.push(`- withdrawal ${c.withdrawalId} (decision ${c.decisionId}, ${c.evaluatedAt}, bundle ${c.evaluatedBy.slice(0, 12)}): ${side(c.before)} -> ${side(c.after)}`);
  return lines.join('\n');
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', '28P01', '28000', '3D000', '57P03']);

/** A failure of the backtest → exit code: unreadable bundle 1, database unreachable 3, else 1. */
export function backtestFailure(err: unknown): CliError {
  const e = err as { name?: string; code?: unknown; message?: string };
  if (e?.code === 'POLICY_BUNDLE_INVALID' || e?.name === 'PolicyBundleError') return new CliError(ExitCode.FAILED, `the candidate bundle is not a policy bundle: ${e.message ?? ''}`, 'BUNDLE_INVALID');
  if (typeof e?.code === 'string' && UNREACHABLE_CODES.has(e.code)) return new CliError(ExitCode.UNREACHABLE, `cannot reach the policy database: ${e.code}`, 'UNREACHABLE');
  return new CliError(ExitCode.FAILED, `backtest failed: ${e?.message ?? String(err)}`, 'BACKTEST_FAILED');
}

export function policyBacktestCommand(load: () => Promise<BacktestDatabase> = loadPolicyBacktest): CommandSpec {
  return {
    name: 'backtest',
    summary: 'replay the stored decision inputs against a candidate bundle; print the outcomes that change and why',
    options: {
      bundle: { type: 'string', placeholder: 'file', description: 'the candidate bundle archive (bundle.tar.gz, as scripts/policy-test.sh build writes it)' },
      limit: { type: 'string', placeholder: 'n', description: 'the newest n stored evaluations (1-1000000, default 10000)' },
      since: { type: 'string', placeholder: 'time', description: 'only evaluations from this ISO 8601 time on' },
      schema: { type: 'string', placeholder: 'name', description: 'the policy schema (default $CUSTODY_DB_SCHEMA)' },
    },
    details: [
      'Environment: CUSTODY_DB_URL (required: the policy database, a role with SELECT), CUSTODY_DB_SCHEMA.',
      'Each input is replayed verbatim (its recorded time too), so a difference comes from the bundle alone.',
      'Exit 0 nothing changes, 1 outcomes change (listed) or the bundle is refused, 2 usage, 3 database unreachable.',
    ].join('\n'),
    run: async (ctx) => {
      const bundle = requiredOption(ctx.values, 'bundle');
      try {
        accessSync(bundle, constants.R_OK);
      } catch (err) {
        throw new UsageError(`cannot read --bundle ${bundle}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
      const limit = integerOption(ctx.values, 'limit', 1, 1_000_000, 10_000);
      const sinceText = stringOption(ctx.values, 'since');
      const since = sinceText === undefined ? undefined : new Date(sinceText);
      if (since && (Number.isNaN(since.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(sinceText ?? ''))) throw new UsageError('--since must be an ISO 8601 time, e.g. 2026-11-01T00:00:00Z');
      const url = ctx.io.env['CUSTODY_DB_URL'];
      if (!url) throw new UsageError('set CUSTODY_DB_URL to the policy database (a role with SELECT is enough)');
      const schema = stringOption(ctx.values, 'schema') ?? ctx.io.env['CUSTODY_DB_SCHEMA'];
      const run = await load();
      ctx.io.err(`custody policy backtest: replaying up to ${limit} stored decision inputs against ${bundle}`);
      let report: BacktestReportLike;
      try {
        report = await run({ url, schema, bundle, limit, since, onProgress: (done, total) => ctx.io.err(`custody policy backtest: ${done}/${total} replayed`) });
      } catch (err) {
        throw backtestFailure(err);
      }
      const j = backtestToJson(report);
      ctx.io.out(ctx.json ? JSON.stringify({ ok: j.changed === 0, ...j }) : formatBacktestReport(j));
      return j.changed === 0 ? ExitCode.OK : ExitCode.FAILED;
    },
  };
}
