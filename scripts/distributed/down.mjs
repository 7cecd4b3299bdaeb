#!/usr/bin/env node
// `npm run down`: stops exactly the processes `npm run up` started (pid files under
// .local/distributed/, each checked to still be that process — pids are reused): the seven
// services together (SIGTERM to each one's process group, SIGKILL after 10 s), then the dev
// chain (anvil dumps its state on SIGTERM). Kafka and PostgreSQL (scripts/infra) are left
// running: up did not start them (`npm run infra:down` stops those). Data stays: database
// custody_distributed, the anvil state file, the policy bundle, the secrets.
//
//   npm run down -- --purge   also drops database custody_distributed and forgets the chain
//                             state and the policy bundle (the next up starts from nothing;
//                             secrets and certificates are kept)
//   npm run down -- --purge-if-stale
//                             purges only when the policy bundle was built from other
//                             rules/data than now (policy would refuse the new bundle
//                             without its admin quorum; the tests use this)
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { DATABASE, SERVICES, file, infraEnv, policySourceDigest, serviceMarker, stopProcess } from './lib.mjs';

const results = await Promise.all(SERVICES.map((svc) => stopProcess(svc, serviceMarker(svc))));
results.push(await stopProcess('anvil', 'anvil'));
let failed = 0;
for (const r of results) {
  if (r.pid === undefined) process.stdout.write(`[down] ${r.name.padEnd(13)} not running\n`);
  else process.stdout.write(`[down] ${r.name.padEnd(13)} pid ${r.pid} ${r.stopped ? 'stopped' : 'STILL RUNNING'}\n`);
  if (!r.stopped) failed++;
}
const stale = () => {
  const source = file('policy/bundle.source.sha256');
  if (!existsSync(file('policy/bundle.tar.gz'))) return false;
  return !existsSync(source) || readFileSync(source, 'utf8').trim() !== policySourceDigest();
};
const purge = process.argv.includes('--purge') || (process.argv.includes('--purge-if-stale') && stale());
if (purge && failed === 0) {
  const admin = infraEnv().CUSTODY_PG_ADMIN_URL;
  if (admin) {
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
    } finally {
      await client.end();
    }
  }
  for (const name of ['anvil-state.json', 'policy', 'state.json']) rmSync(file(name), { recursive: true, force: true });
  process.stdout.write(`[down] purged: database ${DATABASE}, chain state, policy bundle\n`);
}
process.exit(failed ? 1 : 0);
