// Verification CLI: walks the whole chain, checks every record hash, link and payload
// digest and every checkpoint signature (against the trusted keys given, never keys read
// from the database), and reports the first broken record.
//
//   CUSTODY_DB_URL=postgres://audit_reader:...@host/db CUSTODY_AUDIT_TRUSTED_KEYS=<id>:<hex> \
//     node services/audit/dist/cli/verify.js [--json]
// Exit status: 0 intact, 1 broken (first broken record on stdout), 2 cannot verify.
import { pathToFileURL } from 'node:url';
import { createServiceDataSource } from '@custody/platform';
import { verifyChain } from '../application/verification.js';
import type { VerificationReport } from '../domain/verify.js';
import { PostgresAuditStore } from '../adapters/persistence/postgres-audit-store.js';
import { AUDIT_ENTITIES } from '../adapters/persistence/schema.js';
import { loadVerifyConfig, parseTrustedKeys } from '../config.js';

export interface VerifyOutcome {
  readonly exitCode: 0 | 1 | 2;
  readonly output: string;
  readonly report?: VerificationReport;
}

export function formatReport(report: VerificationReport, json: boolean): string {
  if (json) {
    return JSON.stringify({
      ok: report.ok,
      recordsChecked: report.recordsChecked,
      checkpointsChecked: report.checkpointsChecked,
      lastGoodSequence: report.lastGoodSequence.toString(),
      ...(report.firstBreak ? { firstBreak: { sequence: report.firstBreak.sequence.toString(), kind: report.firstBreak.kind, detail: report.firstBreak.detail } } : {}),
    });
  }
  if (report.ok) return `audit chain intact: ${report.recordsChecked} records, ${report.checkpointsChecked} signed checkpoints verified (last sequence ${report.lastGoodSequence})`;
  const b = report.firstBreak;
  return `audit chain BROKEN at record ${b?.sequence} (${b?.kind}): ${b?.detail}; records 1..${report.lastGoodSequence} verified`;
}

/** `env` defaults to the process environment (read in config.ts). */
export async function runVerify(argv: readonly string[], env?: NodeJS.ProcessEnv): Promise<VerifyOutcome> {
  const json = argv.includes('--json');
  let config: ReturnType<typeof loadVerifyConfig>;
  let trustedKeys: Map<string, Uint8Array>;
  try {
    config = loadVerifyConfig(env);
    trustedKeys = parseTrustedKeys(config.trustedKeys);
  } catch (err) {
    return { exitCode: 2, output: `cannot verify: ${(err as Error).message}` };
  }
  const dataSource = createServiceDataSource({ service: 'audit-verify', schema: config.schema, url: config.databaseUrl, entities: AUDIT_ENTITIES, poolSize: 1 });
  try {
    await dataSource.initialize();
    const report = await verifyChain(new PostgresAuditStore(dataSource), trustedKeys);
    return { exitCode: report.ok ? 0 : 1, output: formatReport(report, json), report };
  } catch (err) {
    return { exitCode: 2, output: `cannot verify: ${(err as Error).message}` };
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outcome = await runVerify(process.argv.slice(2));
  (outcome.exitCode === 2 ? process.stderr : process.stdout).write(`${outcome.output}\n`);
  process.exitCode = outcome.exitCode;
}
