#!/usr/bin/env node
// `npm run up`: the seven services as separate processes over real Kafka and PostgreSQL
// (docs/distributed.md). Idempotent: processes of ours that are running are kept (pid files
// under .local/distributed/), missing ones are started. `npm run down` stops them.
//
//   node scripts/up.mjs [--no-build] [--no-infra]
//     --no-build   skip `bash scripts/build.sh` (dist/ is already fresh)
//     --no-infra   skip `bash scripts/infra/up.sh` (Kafka and PostgreSQL are already up)
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ANVIL_URL,
  assertPortsFree,
  DIR,
  PORTS,
  ROOT,
  SERVICES,
  createTopics,
  file,
  kafkaPrincipals,
  forgetLostChain,
  infraEnv,
  log,
  materials,
  provisionDatabases,
  rpc,
  run,
  serviceEnv,
  serviceMarker,
  ownPid,
  policyDataDir,
  policySourceDigest,
  startAnvil,
  startService,
  stopProcess,
  waitHealthy,
} from './distributed/lib.mjs';
import { ensureAllowList, ensureCustomerProfiles, ensureHotKey, ensureIntegrator, fundHotWallet, publishOpeningBalances } from './distributed/seed.mjs';

const args = new Set(process.argv.slice(2));

async function main() {
  if (!args.has('--no-infra')) run('bash', ['scripts/infra/up.sh']);
  const infra = infraEnv();
  for (const v of ['CUSTODY_PG_ADMIN_URL', 'KAFKA_BROKERS', 'KAFKA_SASL_BROKERS', 'KAFKA_SASL_CA_FILE']) if (!infra[v]) throw new Error(`${v} missing from .local/infra.env: run bash scripts/infra/up.sh`);
  if (!args.has('--no-build')) {
    log('building (scripts/build.sh)');
    run('bash', ['scripts/build.sh']);
  }

  // The policy bundle (opa build, as npm start does), built once: policy accepts its first
  // bundle as the bootstrap one; any later bundle needs the admin quorum (or `down --purge`).
  const m = materials();
  const bundleFile = join(DIR, 'policy', 'bundle.tar.gz');
  const sourceFile = join(DIR, 'policy', 'bundle.source.sha256');
  const source = policySourceDigest();
  if (existsSync(bundleFile)) {
    const builtFrom = existsSync(sourceFile) ? readFileSync(sourceFile, 'utf8').trim() : 'unknown';
    if (builtFrom !== source) {
      throw new Error(
        `the policy bundle in ${join(DIR, 'policy')} was built from other rules or data than ${policyDataDir()} now holds; ` +
          'policy accepts a new bundle only with its admin quorum (docs/policies.md): `npm run down -- --purge` starts the deployment over',
      );
    }
  } else {
    const opa = process.env.OPA_BIN ?? infra.OPA_BIN;
    if (!opa || !existsSync(opa)) throw new Error('no opa CLI (OPA_BIN in .local/infra.env; bash scripts/infra/opa.sh): the policy service cannot start without its bundle');
    run('bash', ['scripts/policy-test.sh', 'build', join(DIR, 'policy')], { env: { ...process.env, OPA_BIN: opa, POLICY_DATA_DIR: policyDataDir() }, stdio: ['ignore', 'ignore', 'inherit'] });
    if (!existsSync(bundleFile)) throw new Error(`opa build wrote no ${bundleFile}`);
    writeFileSync(sourceFile, `${source}\n`);
  }

  const anvil = await startAnvil();
  log(`anvil ${ANVIL_URL} ${anvil.started ? `started (pid ${anvil.pid}${anvil.fresh ? ', new chain' : ', state restored'})` : `already running (pid ${anvil.pid})`}`);
  const genesisHash = (await rpc('eth_getBlockByNumber', ['0x0', false])).hash.toLowerCase();

  const brokers = infra.KAFKA_BROKERS.split(',');
  const urls = await provisionDatabases(infra.CUSTODY_PG_ADMIN_URL, m);
  log(`database custody_distributed: schema + dist_<svc>_owner/_app roles for ${Object.keys(urls).join(', ')} (risk provisions its own)`);
  if (anvil.fresh) {
    // A new chain: the chain-adapter's rows of an old one would mislead it.
    await stopProcess('chain-adapter', serviceMarker('chain-adapter'));
    await forgetLostChain(urls['chain-adapter'].owner);
  }
  const topics = await createTopics(brokers);
  log(`kafka ${brokers.join(',')}: topics ensured (${JSON.stringify(topics).slice(0, 80)})`);
  const principals = await kafkaPrincipals();
  log(`kafka ${infra.KAFKA_SASL_BROKERS} (SASL_SSL): one SCRAM principal per service, ACLs from helm/custody/files/flows.yaml (${Object.values(principals).map((p) => `${p.user} ${p.acls.length}`).join(', ')})`);

  const ctx = { m, urls, infra, genesisHash, bundleFile, hotAddress: undefined };
  const started = {};
  const launch = async (svc) => {
    if (ownPid(svc, serviceMarker(svc)) === undefined) await assertPortsFree(svc);
    const r = startService(svc, serviceEnv(svc, ctx));
    started[svc] = r;
    log(`${svc.padEnd(13)} ${r.started ? 'started' : 'already running'} (pid ${r.pid})`);
  };
  // 1. Everything the chain-adapter and intake do not depend on.
  const first = SERVICES.filter((s) => s !== 'chain-adapter' && s !== 'intake');
  for (const s of first) await launch(s);
  await Promise.all(first.map((s) => waitHealthy(s)));

  // 2. The hot key (signer's KeyAdminService); funded with the opening balances (step 4).
  const hot = await ensureHotKey(m);
  log(`hot wallet ${hot.keyId} at ${hot.address}${hot.generated ? ' (generated: 2 custodians signed)' : ''}${hot.activated ? ', activated 24 h' : ''}`);
  ctx.hotAddress = hot.address;

  // 3. chain-adapter (custody address known now) and intake.
  for (const s of ['chain-adapter', 'intake']) await launch(s);
  await Promise.all(['chain-adapter', 'intake'].map((s) => waitHealthy(s)));

  // 4. Integrator, allow list, opening balances.
  const integrator = await ensureIntegrator(m);
  const allow = await ensureAllowList();
  const profiles = await ensureCustomerProfiles();
  // Opening balances booked to the hot wallet, and the same coins put on it: books = chain.
  const opened = await publishOpeningBalances(brokers, hot.address, urls.ledger.owner);
  const funding = await fundHotWallet(hot.address, opened.amount);
  log(`integrator ${integrator.clientId} ${integrator.registered ? 'registered' : 'already registered'}; ${allow.added} allow-list entries and ${profiles.recorded} customer profiles added; ${opened.published} opening-balance deposits published${funding.funded ? `, hot wallet funded with them (${opened.amount} wei)` : ''}`);

  const state = {
    pids: Object.fromEntries(SERVICES.map((s) => [s, ownPid(s, serviceMarker(s)) ?? null])),
    ports: PORTS,
    anvil: { url: ANVIL_URL, pid: anvil.pid },
    hotWallet: { keyId: hot.keyId, address: hot.address },
    integrator: { clientId: integrator.clientId, keyId: m.integrator.keyId, seedFile: m.integrator.key.seedFile, cert: m.tls.path('integrator.crt'), key: m.tls.path('integrator.key'), ca: m.tls.path('ca.crt') },
    approvers: Object.fromEntries(['op-alice', 'op-bob'].map((id) => [id, { keyId: m.operators[id].keyId, seedFile: m.operators[id].key.seedFile, authenticatorFile: m.operators[id].authenticator.file }])),
    kafkaBrokers: brokers,
    database: 'custody_distributed',
  };
  writeFileSync(file('state.json'), `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });

  const rel = (p) => p.replace(`${ROOT}/`, '');
  process.stdout.write(
    [
      '',
      'Custody policy engine — distributed (one process per service)',
      `  kafka           ${brokers.join(',')} (topics + .dlq, 3 partitions); services on ${infra.KAFKA_SASL_BROKERS} (SASL_SSL, SCRAM user custody-<svc>, flows.yaml ACLs)`,
      `  postgresql      database custody_distributed on ${new URL(infra.CUSTODY_PG_ADMIN_URL).host}: schema + owner/app roles per service`,
      `  dev chain       ${ANVIL_URL} (anvil, chain id 31337, 1 s blocks; FINAL at 2 confirmations)`,
      `  state           ${rel(DIR)}/ (secrets 0600, <svc>.pid, <svc>.log, state.json)`,
      '',
      ...SERVICES.map((s) => `  ${s.padEnd(14)} pid ${String(state.pids[s]).padEnd(8)} ${describe(s)}  log ${rel(file(`${s}.log`))}`),
      '',
      `  integrator      ${integrator.clientId} (key ${rel(m.integrator.key.seedFile)}, client certificate ${rel(m.tls.path('integrator.crt'))})`,
      `  hot wallet      ${hot.address}`,
      '  stop            npm run down',
      '',
    ].join('\n'),
  );
}

function describe(svc) {
  switch (svc) {
    case 'intake':
      return `CustodyGateway 127.0.0.1:${PORTS.intake} (mTLS + signed calls), IntakeAdmin 127.0.0.1:${PORTS.intakeAdmin}`;
    case 'policy':
      return `ApprovalService 127.0.0.1:${PORTS.policy}`;
    case 'ledger':
      return `LedgerService 127.0.0.1:${PORTS.ledger}`;
    case 'audit':
      return `AuditService 127.0.0.1:${PORTS.audit}`;
    case 'signer':
      return `KeyAdminService 127.0.0.1:${PORTS.signerAdmin}`;
    case 'chain-adapter':
      return `ChainQueryService 127.0.0.1:${PORTS.chainAdapter}`;
    case 'risk':
      return `Case/ScreeningList 127.0.0.1:${PORTS.risk} (mTLS)`;
    default:
      return '';
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`npm run up: ${error instanceof Error ? error.message : String(error)}\n(processes already started keep running: npm run down stops them)\n`);
    process.exit(1);
  },
);
