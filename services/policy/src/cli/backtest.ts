/**
 * What-if CLI: replays the stored decision inputs of a policy database against a
 * candidate bundle and prints the outcomes that would change, and why.
 *
 *   npm run policy:backtest -- --bundle <bundle.tar.gz> [--limit 10000] [--since 2025-06-01T00:00:00Z]
 *
 * Reads CUSTODY_DB_URL (a read-only role is enough) and optionally CUSTODY_DB_SCHEMA.
 * Exit code 0 when nothing changes, 3 when outcomes change, 1 on error.
 */
import { parseArgs } from 'node:util';
import { createServiceDataSource } from '@custody/platform';
import { readBundleArchive } from '../adapters/opa/bundle-archive.js';
import { WasmPolicyEvaluator } from '../adapters/opa/wasm-policy-evaluator.js';
import { POLICY_ENTITIES } from '../adapters/persistence/schema.js';
import { loadEvaluations } from '../adapters/persistence/postgres-store.js';
import { backtest, formatBacktest, type BacktestReport } from '../application/backtest.js';

export interface BacktestDatabaseOptions {
  readonly url: string;
  readonly schema?: string | undefined;
  /** Path of the candidate bundle archive (bundle.tar.gz). */
  readonly bundle: string;
  readonly limit: number;
  readonly since?: Date | undefined;
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
}

/** Replays the newest stored decision inputs of a policy database against the candidate bundle (the operator CLI's `custody policy backtest`). */
export async function backtestDatabase(o: BacktestDatabaseOptions): Promise<BacktestReport> {
  const candidate = await readBundleArchive(o.bundle);
  const dataSource = createServiceDataSource({ service: 'policy', url: o.url, ...(o.schema ? { schema: o.schema } : {}), entities: POLICY_ENTITIES, poolSize: 2 });
  await dataSource.initialize();
  try {
    const evaluations = await loadEvaluations(dataSource, { limit: o.limit, ...(o.since ? { since: o.since } : {}) });
    return await backtest(new WasmPolicyEvaluator(), candidate, evaluations, o.onProgress);
  } finally {
    await dataSource.destroy();
  }
}

export async function runBacktestCli(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ exitCode: number; output: string }> {
  const { values } = parseArgs({ args: [...argv], options: { bundle: { type: 'string' }, limit: { type: 'string', default: '10000' }, since: { type: 'string' } } });
  if (!values.bundle) return { exitCode: 1, output: 'usage: policy:backtest --bundle <bundle.tar.gz> [--limit N] [--since ISO-time]' };
  const url = env['CUSTODY_DB_URL'];
  if (!url) return { exitCode: 1, output: 'CUSTODY_DB_URL is not set' };
  const limit = Number(values.limit);
  if (!Number.isSafeInteger(limit) || limit < 1) return { exitCode: 1, output: '--limit must be a positive integer' };
  const since = values.since ? new Date(values.since) : undefined;
  if (since && Number.isNaN(since.getTime())) return { exitCode: 1, output: '--since is not a time' };
  const report = await backtestDatabase({ url, schema: env['CUSTODY_DB_SCHEMA'], bundle: values.bundle, limit, since });
  return { exitCode: report.changes.length > 0 ? 3 : 0, output: formatBacktest(report) };
}

const isMain = process.argv[1] !== undefined && import.meta.url === new URL(`file://${process.argv[1]}`).href;
if (isMain) {
  runBacktestCli(process.argv.slice(2), process.env).then(
    ({ exitCode, output }) => {
      process.stdout.write(`${output}\n`);
      process.exitCode = exitCode;
    },
    (err: unknown) => {
      process.stderr.write(`backtest failed: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
