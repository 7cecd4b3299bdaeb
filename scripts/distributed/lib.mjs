// The distributed local deployment (`npm run up` / `npm run down`, docs/distributed.md):
// each of the seven services as its own `node services/<svc>/dist/main.js` process, with its
// own schema and roles in the database `custody_distributed`, over the real Kafka and
// PostgreSQL of scripts/infra, and a dev chain (anvil, 1 s blocks) of its own.
//
// State under .local/distributed/ (mode 0700): secrets (0600), TLS material, config files,
// <svc>.pid and <svc>.log per process, anvil.pid/anvil.log/anvil-state.json.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, sign, X509Certificate } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const DIR = resolve(ROOT, process.env.CUSTODY_DIST_DIR ?? '.local/distributed');
export const DATABASE = 'custody_distributed';
// Below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768–60999 by default): a fixed
// listening port inside it can be taken at any moment by some outgoing connection's local port.
const BASE = Number(process.env.CUSTODY_DIST_PORT_BASE ?? 24100);

/** Ports (127.0.0.1). grpc = the port health is checked on. */
export const PORTS = Object.freeze({
  intake: BASE + 1,
  intakeAdmin: BASE + 2,
  policy: BASE + 3,
  ledger: BASE + 4,
  audit: BASE + 5,
  signerAdmin: BASE + 6,
  chainAdapter: BASE + 7,
  risk: BASE + 8,
  /** the signer's health server (CUSTODY_GRPC_PORT; its own default 50058 would collide with any other signer on the machine) */
  signerHealth: BASE + 9,
  anvil: BASE + 10,
  metrics: { policy: BASE + 103, ledger: BASE + 104, signer: BASE + 106, chainAdapter: BASE + 107, risk: BASE + 108, intake: BASE + 101 },
});

/** Start order: dependencies first (policy calls ledger and audit; chain-adapter needs the hot key's address). */
export const SERVICES = Object.freeze(['audit', 'ledger', 'risk', 'policy', 'signer', 'chain-adapter', 'intake']);

export const ETH = 10n ** 18n;
export const CHAIN = 'ethereum-mainnet';
export const ASSET = 'ETH';
export const HOT_WALLET = 'eth-hot-01';
export const HOT_KEY = `${HOT_WALLET}-k1`;
export const CLIENT_ID = 'demo-exchange';
export const CONFIRMATIONS = 2;
const MAX_FEE_PER_GAS = 100_000_000_000n;
/**
 * The customers of the shipped policy data (policies/data/*.json), as in the embedded demo.
 * Their opening balances are the hot wallet's coins (seed.mjs): together 25 ETH, between the
 * treasury's ETH floor (5) and target (30) of policies/data/treasury.json, under the 50 ETH hot
 * cap — more would make policy sweep the excess to the cold wallet (and, past the grace period,
 * pause hot withdrawals). distributed.test.ts deposits above the cap on purpose to prove the sweep.
 */
export const ACCOUNTS = Object.freeze([
  { id: 'acct-retail-1', tier: 'retail', openedAt: '2024-03-15T09:30:00Z', opening: 5n * ETH, destination: '0x1111111111111111111111111111111111111111' },
  { id: 'acct-inst-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z', opening: 20n * ETH, destination: '0x2222222222222222222222222222222222222222' },
]);
/** Approvers (policy ApprovalService; their approvals travel in tx.prepared to the signer) and key custodians (signer admin quorum). */
const OPERATORS = Object.freeze([
  { id: 'op-alice', role: 'compliance' },
  { id: 'op-bob', role: 'treasury' },
  { id: 'op-carol', role: 'key_custodian' },
  { id: 'op-dave', role: 'security_officer' },
]);
/** Intake's and risk's operator (client certificate CN, intake admin signature). */
const ADMIN_OPERATOR = 'op-admin';

/**
 * The policy data the distributed bundle is built from: policies/data, or the directory in
 * CUSTODY_DIST_POLICY_DATA (the tests' copy without the daily freeze: client.ts testEnv).
 */
export const policyDataDir = () => resolve(ROOT, process.env.CUSTODY_DIST_POLICY_DATA ?? 'policies/data');

/**
 * SHA-256 over what a bundle is built from: the Rego rules (policies/custody, tests excluded)
 * and the data directory (names and contents, sorted). Recorded next to the bundle, so up
 * can tell that the bundle policy runs was built from other sources.
 */
export function policySourceDigest(dataDir = policyDataDir()) {
  const hash = createHash('sha256');
  const walk = (dir) => readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
  const rules = walk(join(ROOT, 'policies/custody')).filter((f) => f.endsWith('.rego') && !f.endsWith('_test.rego'));
  const data = walk(dataDir).filter((f) => f.endsWith('.json'));
  for (const [root, files] of [[join(ROOT, 'policies/custody'), rules], [dataDir, data]]) {
    for (const f of files) hash.update(`${relative(root, f)}\0`).update(readFileSync(f)).update('\0');
  }
  return hash.digest('hex');
}

export const log = (msg) => process.stdout.write(`[up] ${msg}\n`);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const file = (name) => join(DIR, name);

// ---------------------------------------------------------------------------------------
// Infra facts and small helpers

export function infraEnv() {
  const env = {};
  const path = join(ROOT, '.local/infra.env');
  if (!existsSync(path)) return env;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]] = m[2];
  }
  return env;
}

export function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'], ...options });
  if (r.status !== 0) throw new Error(`\`${cmd} ${args.join(' ')}\` failed (exit ${r.status ?? r.signal})`);
  return r;
}

function writeSecret(name, content) {
  writeFileSync(file(name), content, { mode: 0o600 });
  chmodSync(file(name), 0o600);
}

/** A value generated once into .local/distributed/<name> (0600) and reused. */
function secret(name, make) {
  const path = file(name);
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const value = make();
  writeSecret(name, `${value}\n`);
  return value;
}

const hex32 = () => randomBytes(32).toString('hex');

/** An Ed25519 key from a 32-byte seed kept in .local/distributed/keys/<name>.seed. */
export function ed25519(name) {
  mkdirSync(file('keys'), { recursive: true, mode: 0o700 });
  const seed = Buffer.from(secret(`keys/${name}.seed`, hex32), 'hex');
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
  const publicKey = new Uint8Array(Buffer.from(String(createPublicKey(privateKey).export({ format: 'jwk' }).x), 'base64url'));
  return { publicKey, publicHex: Buffer.from(publicKey).toString('hex'), sign: (bytes) => sign(null, bytes, privateKey), seedFile: file(`keys/${name}.seed`) };
}

/** The approvers' operator console as a WebAuthn relying party (policy checks every assertion against it). */
export const APPROVAL_CONSOLE = Object.freeze({ rpId: 'localhost', origin: 'http://localhost' });

/**
 * A software FIDO2 authenticator of an approver, created once into
 * .local/distributed/keys/<name>.authenticator.json (0600) in the format of
 * `custody approvals enrol-authenticator` (the CLI's --authenticator-file advances its counter),
 * and the device entry the policy's operators file registers for it (C-8.2.2.5-e).
 */
export function softwareAuthenticator(name) {
  mkdirSync(file('keys'), { recursive: true, mode: 0o700 });
  const rel = `keys/${name}.authenticator.json`;
  if (!existsSync(file(rel))) {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const doc = { credentialId: randomBytes(32).toString('base64url'), keyType: 'es256', privateKey: String(privateKey.export({ format: 'pem', type: 'pkcs8' })), ...APPROVAL_CONSOLE, signCount: 0 };
    writeSecret(rel, `${JSON.stringify(doc, null, 2)}\n`);
  }
  const doc = JSON.parse(readFileSync(file(rel), 'utf8'));
  const jwk = createPublicKey(createPrivateKey(doc.privateKey)).export({ format: 'jwk' });
  const publicKey = Buffer.concat([Buffer.from([4]), Buffer.from(String(jwk.x), 'base64url'), Buffer.from(String(jwk.y), 'base64url')]).toString('hex');
  return { file: file(rel), device: { id: doc.credentialId, keyType: 'es256', publicKey, kind: 'software', registeredAt: '2026-01-01T00:00:00Z' } };
}

export function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid of a process we started (pid file), if it is still that process (pids are reused). */
export function ownPid(name, marker) {
  const path = file(`${name}.pid`);
  if (!existsSync(path)) return undefined;
  const pid = Number(readFileSync(path, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return undefined;
  try {
    if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) return undefined;
  } catch {
    return undefined;
  }
  return pid;
}

export const serviceMarker = (svc) => `services/${svc}/dist/main.js`;

// ---------------------------------------------------------------------------------------
// TLS (openssl): a local CA, the servers' certificate (127.0.0.1/localhost), client
// certificates for the operator (intake admin, risk) and the integrator (intake gateway).

function tls() {
  const d = file('tls');
  mkdirSync(d, { recursive: true, mode: 0o700 });
  const p = (n) => join(d, n);
  if (!existsSync(p('ca.crt'))) {
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p('ca.key')], { stdio: 'ignore' });
    run('openssl', ['req', '-x509', '-new', '-key', p('ca.key'), '-subj', '/CN=custody-distributed-local-ca', '-days', '90', '-out', p('ca.crt'), '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], { stdio: 'ignore' });
  }
  const leaf = (name, cn, ext) => {
    if (existsSync(p(`${name}.crt`))) return;
    writeFileSync(p(`${name}.ext`), ext);
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', p(`${name}.key`)], { stdio: 'ignore' });
    run('openssl', ['req', '-new', '-key', p(`${name}.key`), '-subj', `/CN=${cn}`, '-out', p(`${name}.csr`)], { stdio: 'ignore' });
    run('openssl', ['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial', '-days', '90', '-out', p(`${name}.crt`), '-extfile', p(`${name}.ext`)], { stdio: 'ignore' });
  };
  leaf('server', 'custody-distributed-server', 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n');
  leaf('operator', ADMIN_OPERATOR, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  leaf('integrator', CLIENT_ID, 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  for (const n of ['ca.key', 'server.key', 'operator.key', 'integrator.key']) chmodSync(p(n), 0o600);
  const pin = (name) => new X509Certificate(readFileSync(p(`${name}.crt`))).fingerprint256.replace(/:/g, '').toLowerCase();
  return { dir: d, path: p, operatorPin: pin('operator'), integratorPin: pin('integrator') };
}

/** gRPC client option: the servers' certificate names localhost (and IP 127.0.0.1). */
export const TLS_NAME = Object.freeze({ 'grpc.ssl_target_name_override': 'localhost' });

/** Client credentials material for a TLS server of this deployment. */
export function clientTls(who) {
  const d = file('tls');
  return { ca: readFileSync(join(d, 'ca.crt')), key: readFileSync(join(d, `${who}.key`)), cert: readFileSync(join(d, `${who}.crt`)) };
}

// ---------------------------------------------------------------------------------------
// Secrets, keys and config files

export function materials() {
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  chmodSync(DIR, 0o700);
  const t = tls();
  const db = {};
  for (const svc of SERVICES) db[svc] = { owner: secret(`db-${svc}-owner.password`, () => randomBytes(24).toString('base64url')), app: secret(`db-${svc}-app.password`, () => randomBytes(24).toString('base64url')) };
  const signerMaster = secret('signer-master.key', hex32);
  const decision = ed25519('policy-decision');
  const auditKey = ed25519('audit-checkpoint');
  const operators = Object.fromEntries(OPERATORS.map((o) => [o.id, { ...o, keyId: `${o.id}-dist`, key: ed25519(o.id), ...(o.role === 'compliance' || o.role === 'treasury' ? { authenticator: softwareAuthenticator(o.id) } : {}) }]));
  const admin = { id: ADMIN_OPERATOR, keyId: `${ADMIN_OPERATOR}-dist`, key: ed25519(ADMIN_OPERATOR) };
  const integrator = { clientId: CLIENT_ID, keyId: 'k1', key: ed25519('integrator') };

  const cfg = (name, value) => {
    writeFileSync(file(name), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    return file(name);
  };
  const files = {
    signerOperators: cfg('signer-operators.json', Object.values(operators).map((o) => ({ operatorId: o.id, roles: [o.role], keys: { [o.keyId]: o.key.publicHex } }))),
    signerAssets: cfg('signer-assets.json', [
      { asset: ASSET, chain: CHAIN, kind: 'evm', chainId: '31337', maxFee: String(MAX_FEE_PER_GAS * 21_000n), tierCaps: { hot: String(50n * ETH), warm: String(1_000n * ETH), cold: String(100_000n * ETH) } },
    ]),
    // Votes need an assertion of the approver's registered authenticator (software ones here; docs/policies.md "Approver devices").
    policyOperators: cfg('policy-operators.json', {
      approvalDevices: { required: true, rpId: APPROVAL_CONSOLE.rpId, origins: [APPROVAL_CONSOLE.origin], allowedKinds: ['software'] },
      operators: Object.values(operators).filter((o) => o.authenticator).map((o) => ({ id: o.id, roles: [o.role], keys: { [o.keyId]: o.key.publicHex }, devices: [o.authenticator.device] })),
    }),
    policyFacts: cfg('policy-facts.json', {
      accounts: Object.fromEntries(ACCOUNTS.map((a) => [a.id, { tier: a.tier, opened_at: a.openedAt }])),
      source_wallets: { [ASSET]: { id: HOT_WALLET, tier: 'hot' } },
    }),
    intakeOperators: cfg('intake-operators.json', [{ operatorId: admin.id, keyId: admin.keyId, publicKey: admin.key.publicHex, certificateSha256: [t.operatorPin] }]),
    // Intake's API carries no travel-rule data yet: under the default rule's EU jurisdiction
    // (no de minimis) every withdrawal goes to review. The demo customers are US customers
    // (FATF R.16 de minimis placeholder), as the embedded default records them.
    riskTravelRule: cfg('risk-travel-rule.json', {
      defaultJurisdiction: 'US',
      thresholds: { EU: { '*': '0' }, US: { ETH: '300000000000000000', BTC: '1000000', '*': '0' }, JP: { '*': '0' } },
    }),
  };
  return { tls: t, db, signerMaster, decision, auditKey, operators, admin, integrator, files };
}

// ---------------------------------------------------------------------------------------
// Dev chain: anvil from node_modules, 1 s blocks, state file so the chain-adapter's rows
// and the chain stay in step across `down`/`up`.

const ANVIL_BIN = join(ROOT, 'node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');
export const ANVIL_URL = `http://127.0.0.1:${PORTS.anvil}`;
let rpcId = 0;
export async function rpc(method, params = []) {
  const res = await fetch(ANVIL_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method, params }), signal: AbortSignal.timeout(5_000) });
  const body = await res.json();
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

export async function startAnvil() {
  const stateFile = file('anvil-state.json');
  const running = ownPid('anvil', 'anvil');
  if (running) return { fresh: false, pid: running, started: false };
  if (!existsSync(ANVIL_BIN)) throw new Error(`anvil not found at ${ANVIL_BIN}: run npm install (package @foundry-rs/anvil)`);
  const fresh = !existsSync(stateFile);
  const out = openSync(file('anvil.log'), 'a');
  const child = spawn(ANVIL_BIN, ['--host', '127.0.0.1', '--port', String(PORTS.anvil), '--chain-id', '31337', '--block-time', '1', '--state', stateFile, '--state-interval', '5', '--silent'], {
    cwd: ROOT,
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  child.unref();
  writeFileSync(file('anvil.pid'), `${child.pid}\n`);
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      await rpc('eth_chainId');
      break;
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`anvil did not answer on ${ANVIL_URL} within 20 s (see ${file('anvil.log')}): ${error.message}`);
      await sleep(100);
    }
  }
  return { fresh, pid: child.pid, started: true };
}

// ---------------------------------------------------------------------------------------
// Databases: one database, one schema + owner/app roles per service (roles `dist_<svc>_*`,
// so the embedded default's `<svc>_*` roles on the same server keep their passwords), the
// migrations run as the owner; the process connects as the app role. risk provisions and
// migrates its own schema at start (its config takes the admin URL).

export function dbUrl(adminUrl, role, password) {
  const u = new URL(adminUrl);
  u.username = role;
  u.password = password;
  u.pathname = `/${DATABASE}`;
  return u.toString();
}

export function databaseAdminUrl(adminUrl) {
  const u = new URL(adminUrl);
  u.pathname = `/${DATABASE}`;
  return u.toString();
}

const MIGRATIONS = {
  audit: ['@custody/audit', 'AUDIT_MIGRATIONS'],
  ledger: ['@custody/ledger', 'LEDGER_MIGRATIONS'],
  policy: ['@custody/policy', 'POLICY_MIGRATIONS'],
  signer: ['@custody/signer', 'SIGNER_MIGRATIONS'],
  'chain-adapter': ['@custody/chain-adapter', 'CHAIN_ADAPTER_MIGRATIONS'],
  intake: ['@custody/intake', 'INTAKE_MIGRATIONS'],
};

export const roleService = (svc) => `dist-${svc}`;
export const schemaOf = (svc) => svc.replace(/-/g, '_');

export async function provisionDatabases(adminUrl, m) {
  const { default: pg } = await import('pg');
  const { provisionServiceDatabase, createServiceDataSource, runMigrations, serviceRoleNames } = await import('@custody/platform');
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${DATABASE}"`);
  } finally {
    await client.end();
  }
  const admin = databaseAdminUrl(adminUrl);
  const urls = {};
  for (const svc of SERVICES) {
    if (svc === 'risk') continue;
    const roles = await provisionServiceDatabase(admin, { service: roleService(svc), schema: schemaOf(svc), ownerPassword: m.db[svc].owner, appPassword: m.db[svc].app });
    const [pkg, name] = MIGRATIONS[svc];
    const migrations = (await import(pkg))[name];
    const owner = createServiceDataSource({ url: dbUrl(adminUrl, roles.ownerRole, m.db[svc].owner), service: svc, schema: roles.schema, entities: [], migrations: [...migrations] });
    await owner.initialize();
    try {
      await runMigrations(owner);
    } finally {
      await owner.destroy();
    }
    const { appRole, ownerRole } = serviceRoleNames(roleService(svc));
    urls[svc] = { app: dbUrl(adminUrl, appRole, m.db[svc].app), owner: dbUrl(adminUrl, ownerRole, m.db[svc].owner), schema: roles.schema };
  }
  return urls;
}

/** A lost chain (no state file): the chain-adapter's rows of the old one would mislead it (embedded's forgetLostChain). */
export async function forgetLostChain(ownerUrl) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: ownerUrl });
  await client.connect();
  try {
    const s = '"chain_adapter"';
    await client.query(`TRUNCATE ${s}."tx_attempt", ${s}."withdrawal_tx", ${s}."wallet_nonce", ${s}."chain_block", ${s}."deposit", ${s}."chain_incident"`);
  } finally {
    await client.end();
  }
}

export async function createTopics(brokers) {
  const { ALL_TOPICS } = await import('@custody/contracts');
  const { createKafkaClient, ensureTopics, withDeadLetterTopics } = await import('@custody/event-bus');
  const admin = createKafkaClient({ brokers, clientId: 'custody-distributed-up', logLevel: 'nothing' }).admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((topic) => ({ topic, partitions: 3 }))));
  } finally {
    await admin.disconnect();
  }
}

/**
 * One Kafka principal per service on the broker's SASL_SSL listener: SCRAM-SHA-512 user
 * custody-<svc> (password generated into kafka-<svc>.password, 0600) with exactly the ACLs
 * helm/custody/files/flows.yaml grants it (scripts/infra/kafka-principals.mjs). Idempotent.
 */
export async function kafkaPrincipals() {
  const { ensureServicePrincipals } = await import('../infra/kafka-principals.mjs');
  return ensureServicePrincipals({ secretsDir: DIR });
}

/** A service's Kafka client: its own principal over SASL_SSL (read by kafkaSecurityFromEnv, libs/event-bus). */
const kafkaClientEnv = (svc, infra) => ({
  KAFKA_BROKERS: infra.KAFKA_SASL_BROKERS,
  CUSTODY_KAFKA_SECURITY: 'scram-sha-512',
  CUSTODY_KAFKA_CA_FILE: infra.KAFKA_SASL_CA_FILE,
  CUSTODY_KAFKA_USERNAME: `custody-${svc}`,
  CUSTODY_KAFKA_PASSWORD_FILE: file(`kafka-${svc}.password`),
});

// ---------------------------------------------------------------------------------------
// Process environments (read each service's config.ts for the variables)

export function serviceEnv(svc, ctx) {
  const { m, urls, infra, genesisHash, hotAddress, bundleFile } = ctx;
  const t = m.tls;
  const base = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', CUSTODY_LOG_LEVEL: process.env.CUSTODY_LOG_LEVEL ?? 'info', ...kafkaClientEnv(svc, infra), CUSTODY_GRPC_HOST: '127.0.0.1' };
  const insecure = { CUSTODY_GRPC_TLS: 'insecure' };
  const mtls = { CUSTODY_GRPC_TLS: 'mtls', CUSTODY_GRPC_TLS_CERT_FILE: t.path('server.crt'), CUSTODY_GRPC_TLS_KEY_FILE: t.path('server.key'), CUSTODY_GRPC_TLS_CLIENT_CA_FILE: t.path('ca.crt') };
  switch (svc) {
    case 'audit':
      return { ...base, ...insecure, CUSTODY_DB_URL: urls.audit.app, CUSTODY_GRPC_PORT: String(PORTS.audit), CUSTODY_AUDIT_KEY_ID: 'dist-audit-k1', CUSTODY_AUDIT_KEY_FILE: m.auditKey.seedFile, CUSTODY_AUDIT_CHECKPOINT_INTERVAL: '30s' };
    case 'ledger':
      // Intake names chains "<network>-mainnet"; the ledger's defaults know "ethereum" / "bitcoin".
      // Reconciliation with the dev chain through the chain-adapter's ChainQueryService
      // (`custody reconcile`; the job itself runs every 60 s).
      return {
        ...base,
        ...insecure,
        CUSTODY_DB_URL: urls.ledger.app,
        CUSTODY_GRPC_PORT: String(PORTS.ledger),
        CUSTODY_METRICS_PORT: String(PORTS.metrics.ledger),
        CUSTODY_LEDGER_FEE_ASSETS: `${CHAIN}=${ASSET}`,
        CUSTODY_LEDGER_RECONCILE_TARGETS: `${ASSET}=${CHAIN}@127.0.0.1:${PORTS.chainAdapter}`,
      };
    case 'risk':
      return {
        ...base,
        CUSTODY_PG_ADMIN_URL: databaseAdminUrl(infra.CUSTODY_PG_ADMIN_URL),
        CUSTODY_RISK_DB_OWNER_PASSWORD: m.db.risk.owner,
        CUSTODY_RISK_DB_APP_PASSWORD: m.db.risk.app,
        CUSTODY_GRPC_PORT: String(PORTS.risk),
        CUSTODY_METRICS_PORT: String(PORTS.metrics.risk),
        CUSTODY_TLS_CERT_FILE: t.path('server.crt'),
        CUSTODY_TLS_KEY_FILE: t.path('server.key'),
        CUSTODY_TLS_CLIENT_CA_FILE: t.path('ca.crt'),
        CUSTODY_RISK_OFAC_FILE: join(ROOT, 'deploy/embedded/demo/sdn_advanced.xml'),
        CUSTODY_RISK_TRAVEL_RULE_FILE: m.files.riskTravelRule,
        // CustomerProfileService upserts are recorded by audit first (fail closed).
        CUSTODY_RISK_AUDIT_GRPC_ADDRESS: `127.0.0.1:${PORTS.audit}`,
        CUSTODY_RISK_AUDIT_GRPC_TLS: 'insecure',
        // A custodian's rule set instead of the defaults (the fault-injection test drops the
        // behaviour rules that hold rapid, repeated withdrawals of one customer for review).
        ...(process.env.CUSTODY_DIST_RISK_RULES_FILE ? { CUSTODY_RISK_RULES_FILE: resolve(process.env.CUSTODY_DIST_RISK_RULES_FILE) } : {}),
      };
    case 'policy':
      return {
        ...base,
        ...insecure,
        CUSTODY_DB_URL: urls.policy.app,
        CUSTODY_GRPC_PORT: String(PORTS.policy),
        CUSTODY_METRICS_PORT: String(PORTS.metrics.policy),
        CUSTODY_POLICY_BUNDLE_FILE: bundleFile,
        CUSTODY_POLICY_DECISION_KEY_ID: 'dist-policy-k1',
        CUSTODY_POLICY_DECISION_KEY_FILE: m.decision.seedFile,
        CUSTODY_POLICY_OPERATORS_FILE: m.files.policyOperators,
        CUSTODY_POLICY_FACTS_FILE: m.files.policyFacts,
        CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: `127.0.0.1:${PORTS.ledger}`,
        CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: `127.0.0.1:${PORTS.audit}`,
        CUSTODY_POLICY_AUDIT_GRPC_TLS: 'insecure',
      };
    case 'signer':
      return {
        ...base,
        ...insecure,
        CUSTODY_DB_URL: urls.signer.app,
        CUSTODY_GRPC_PORT: String(PORTS.signerHealth),
        CUSTODY_METRICS_PORT: String(PORTS.metrics.signer),
        CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: `dist-policy-k1=${m.decision.publicHex}`,
        CUSTODY_SIGNER_OPERATORS_FILE: m.files.signerOperators,
        CUSTODY_SIGNER_ASSETS_FILE: m.files.signerAssets,
        CUSTODY_SIGNER_MASTER_KEY: m.signerMaster,
        CUSTODY_SIGNER_KEK_ID: 'dist-kek-1',
        CUSTODY_SIGNER_ADMIN_GRPC_PORT: String(PORTS.signerAdmin),
        // Key ceremonies are recorded by audit first (fail closed without it).
        CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS: `127.0.0.1:${PORTS.audit}`,
        CUSTODY_SIGNER_AUDIT_GRPC_TLS: 'insecure',
      };
    case 'chain-adapter':
      return {
        ...base,
        ...insecure,
        CUSTODY_DB_URL: urls['chain-adapter'].app,
        CUSTODY_GRPC_PORT: String(PORTS.chainAdapter),
        CUSTODY_METRICS_PORT: String(PORTS.metrics.chainAdapter),
        CUSTODY_CHAIN_RPC_URL: ANVIL_URL,
        CUSTODY_CHAIN_NAME: CHAIN,
        CUSTODY_CHAIN_ASSET: ASSET,
        CUSTODY_CHAIN_ID: '31337',
        CUSTODY_CHAIN_GENESIS_HASH: genesisHash,
        CUSTODY_CHAIN_CONFIRMATIONS: String(CONFIRMATIONS),
        CUSTODY_CHAIN_MAX_FEE_PER_GAS: String(MAX_FEE_PER_GAS),
        CUSTODY_CHAIN_MAX_PRIORITY_FEE_PER_GAS: '2000000000',
        CUSTODY_CHAIN_POLL_INTERVAL: '500ms',
        ...(hotAddress ? { CUSTODY_CHAIN_CUSTODY_ADDRESSES: hotAddress } : {}),
      };
    case 'intake':
      return {
        ...base,
        ...mtls,
        CUSTODY_DB_URL: urls.intake.app,
        CUSTODY_GRPC_PORT: String(PORTS.intake),
        CUSTODY_METRICS_PORT: String(PORTS.metrics.intake),
        CUSTODY_INTAKE_ADMIN_PORT: String(PORTS.intakeAdmin),
        CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE: t.path('ca.crt'),
        CUSTODY_INTAKE_OPERATORS_FILE: m.files.intakeOperators,
        // Operator actions are recorded by audit first (fail closed without it).
        CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS: `127.0.0.1:${PORTS.audit}`,
        CUSTODY_INTAKE_AUDIT_GRPC_TLS: 'insecure',
      };
    default:
      throw new Error(`unknown service ${svc}`);
  }
}

/** The port each service's gRPC health is checked on, and whether it needs a client certificate. */
export function healthTarget(svc) {
  switch (svc) {
    case 'audit':
      return { port: PORTS.audit };
    case 'ledger':
      return { port: PORTS.ledger };
    case 'risk':
      return { port: PORTS.risk, tls: true };
    case 'policy':
      return { port: PORTS.policy };
    case 'signer':
      return { port: PORTS.signerAdmin };
    case 'chain-adapter':
      return { port: PORTS.chainAdapter };
    case 'intake':
      return { port: PORTS.intake, tls: true };
    default:
      throw new Error(`unknown service ${svc}`);
  }
}

// ---------------------------------------------------------------------------------------
// Processes

/** Starts `node services/<svc>/dist/main.js` detached (own process group), unless ours is running. */
/** The 127.0.0.1 ports a service listens on (gRPC, admin gRPC, metrics). */
export function portsOf(svc) {
  const key = { 'chain-adapter': 'chainAdapter' }[svc] ?? svc;
  const grpc = svc === 'signer' ? [PORTS.signerAdmin, PORTS.signerHealth] : svc === 'intake' ? [PORTS.intake, PORTS.intakeAdmin] : [PORTS[key]];
  return [...grpc, PORTS.metrics[key]].filter((p) => p !== undefined);
}

/** Refuses to start a service whose port another process holds, naming the holder (`ss -ltnp`). */
export async function assertPortsFree(svc) {
  const net = await import('node:net');
  for (const port of portsOf(svc)) {
    const free = await new Promise((resolveFree) => {
      const probe = net.createServer();
      probe.once('error', () => resolveFree(false));
      probe.listen({ host: '127.0.0.1', port, exclusive: true }, () => probe.close(() => resolveFree(true)));
    });
    if (!free) {
      const ss = spawnSync('ss', ['-Htanp', `( sport = :${port} )`], { encoding: 'utf8' });
      const holder = (ss.stdout ?? '').trim() || '(ss shows no holder)';
      throw new Error(`${svc}: 127.0.0.1:${port} is taken by another process — not starting it (CUSTODY_DIST_PORT_BASE moves all ports):\n${holder}`);
    }
  }
}

export function startService(svc, env) {
  const existing = ownPid(svc, serviceMarker(svc));
  if (existing) return { pid: existing, started: false };
  const out = openSync(file(`${svc}.log`), 'a');
  const child = spawn(process.execPath, [serviceMarker(svc)], { cwd: ROOT, env, detached: true, stdio: ['ignore', out, out] });
  closeSync(out);
  child.unref();
  writeFileSync(file(`${svc}.pid`), `${child.pid}\n`);
  return { pid: child.pid, started: true };
}

/** gRPC health (grpc.health.v1.Health/Check, service "") answers SERVING. */
export async function healthy(svc) {
  const grpc = await import('@grpc/grpc-js');
  const target = healthTarget(svc);
  const creds = target.tls ? (() => {
    const c = clientTls('operator');
    return grpc.credentials.createSsl(c.ca, c.key, c.cert);
  })() : grpc.credentials.createInsecure();
  const client = new grpc.Client(`127.0.0.1:${target.port}`, creds, TLS_NAME);
  try {
    const res = await new Promise((resolveCall, reject) => {
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', () => Buffer.alloc(0), (b) => b, {}, { deadline: Date.now() + 2_000 }, (err, value) => (err ? reject(err) : resolveCall(value)));
    });
    return Buffer.compare(res, Buffer.from([0x08, 0x01])) === 0;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

export async function waitHealthy(svc, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 1_000; i++) {
    if (await healthy(svc)) return;
    const pid = ownPid(svc, serviceMarker(svc));
    if (pid === undefined) throw new Error(`${svc} exited at start: see ${file(`${svc}.log`)}\n${tail(file(`${svc}.log`))}`);
    if (Date.now() > deadline) throw new Error(`${svc} is not healthy after ${timeoutMs / 1000} s: see ${file(`${svc}.log`)}\n${tail(file(`${svc}.log`))}`);
    await sleep(250);
  }
}

export function tail(path, lines = 15) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * Stops one process we started: SIGTERM to its process group, SIGKILL after `graceMs`.
 * Returns true when it is gone (or was not running). The pid file is removed.
 */
export async function stopProcess(name, marker, graceMs = 10_000) {
  const pid = ownPid(name, marker);
  rmSync(file(`${name}.pid`), { force: true });
  if (pid === undefined) return { name, pid: undefined, stopped: true };
  const signal = (sig) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* gone */
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
  if (pidAlive(pid)) {
    signal('SIGKILL');
    for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
  }
  return { name, pid, stopped: !pidAlive(pid) };
}

export { randomUUID };
