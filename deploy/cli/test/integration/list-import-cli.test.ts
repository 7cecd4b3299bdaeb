// The BUILT `custody list` (node deploy/cli/dist/main.js, a child process) against the REAL
// risk service: startRisk on real PostgreSQL (its own throw-away database and roles), its
// ScreeningListService on gRPC with mTLS requiring client certificates (made here with openssl)
// and the production authenticator (operator = the certificate's subject CN). The CLI imports a
// CSV block list in batches: valid lines added (audited under the operator), a bad address and
// an unreadable line reported per line (exit 1); importing the same file again adds nothing;
// a JSON file, a dry run, import-ofac and status; a client certificate of another CA → exit 3.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { mtlsOperator, parseRuleSet, parseTravelRuleConfig, startRisk, type RiskService } from '@custody/risk';
import { rand, requireEnv } from '@custody/testing';
import { buildCli, cli, expectExit, root } from './support.js';


const LAZARUS = '0x098B716B8Aaf21512996dC57EB0615e2383E2f96';
const TORNADO = '0x722122dF12D4e14e13Ac3b6895a86e84145b6967';
const SEGWIT = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';
const dbName = `cli_list_import_${rand()}`;
let dir: string;
let dbAdminUrl: string;
let bus: InProcessBus;
let risk: RiskService;
const f = (name: string): string => join(dir, name);
const server = (cert = 'carol') => ['--server', `127.0.0.1:${risk.grpcPort}`, '--cert', f(`${cert}.crt`), '--key', f(`${cert}.key`), '--ca', f('ca.crt')];

interface Report {
  ok: boolean;
  added: number;
  alreadyActive: number;
  wouldAdd: number;
  rejected: number;
  results: { line: number; outcome: string; entryId: string | null; addressKey: string | null; reasonCode: string | null; message: string | null }[];
}
const entryRows = async (): Promise<{ list: string; address_key: string; created_by: string }[]> =>
  (await risk.dataSource.query(`SELECT "list", "address_key", "created_by" FROM "risk_internal_entry" ORDER BY "created_at", "address_key"`)) as { list: string; address_key: string; created_by: string }[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'custody-list-cli-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) => {
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    ssl('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  };
  const leaf = (name: string, issuer: string, ext: string) => {
    ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(f(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('carol', 'ca', 'extendedKeyUsage=clientAuth\n');
  leaf('mallory', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  await buildCli();

  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const u = new URL(adminUrl);
  u.pathname = `/${dbName}`;
  dbAdminUrl = u.toString();
  bus = new InProcessBus();
  risk = await startRisk({
    bus,
    database: { adminUrl: dbAdminUrl, ownerPassword: `owner-${rand()}`, appPassword: `app-${rand()}` },
    logger: createLogger({ service: 'risk-cli-test', level: 'error' }),
    settings: {
      ruleSet: parseRuleSet({ version: 'cli-it', reviewAtScore: 50, blockAtScore: 101, rules: [] }),
      travelRule: parseTravelRuleConfig({ defaultJurisdiction: 'US', thresholds: { US: { ETH: (10n ** 18n).toString() } } }),
      providerThresholds: { reviewAtScore: 60, blockAtScore: 90 },
      providerTimeoutMs: 300,
      listMaxAgeSeconds: 86_400,
    },
    grpc: {
      host: '127.0.0.1',
      port: 0,
      credentials: { kind: 'tls', certChain: readFileSync(f('server.crt')), privateKey: readFileSync(f('server.key')), clientCa: readFileSync(f('ca.crt')), requireClientCertificate: true },
      authenticate: mtlsOperator,
    },
    consumerGroup: `risk-cli-${rand()}`,
  });
  if (risk.grpcPort === undefined) throw new Error('risk gRPC did not start');
}, 180_000);

afterAll(async () => {
  await risk?.stop();
  await bus?.close();
  const c = new pg.Client({ connectionString: requireEnv('CUSTODY_PG_ADMIN_URL') });
  await c.connect();
  await c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`).finally(() => c.end());
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('custody list (built CLI) against the real risk ScreeningListService, mTLS operator, PostgreSQL', () => {
  const csv = [
    '# block list export',
    'list,chain,address,reason,expires_at',
    `block,ethereum-mainnet,${LAZARUS},"fraud report 4711, confirmed",`,
    `block,ethereum-mainnet,0xnot-an-address,typo in the export,`,
    `allow,bitcoin-mainnet,${SEGWIT},own cold wallet,2099-01-01T00:00:00Z`,
    `grey,ethereum-mainnet,${TORNADO},unknown list,`,
    `block,ethereum-mainnet,${LAZARUS.toLowerCase()},same address again,`,
  ].join('\n');

  it('import: valid lines added under the certificate\'s operator, a bad address and an unreadable line reported per line; exit 1; progress per batch on stderr', async () => {
    const path = f('block.csv');
    writeFileSync(path, csv);
    const r = await cli(['list', 'import', path, ...server(), '--batch-size', '2', '--yes', '--json']);
    expectExit(r, 1);
    const rep = JSON.parse(r.stdout) as Report;
    expect(rep.results.map((x) => [x.line, x.outcome, x.reasonCode])).toEqual([
      [3, 'added', null],
      [4, 'rejected', 'INVALID_ADDRESS'],
      [5, 'added', null],
      [6, 'rejected', 'MALFORMED_LINE'],
      [7, 'already_active', null],
    ]);
    expect(rep.results[4]?.entryId).toBe(rep.results[0]?.entryId);
    expect(rep).toMatchObject({ ok: false, added: 2, alreadyActive: 1, rejected: 2 });
    expect(r.stderr).toMatch(/imported 2\/4 entries[\s\S]*imported 4\/4 entries/);
    expect(await entryRows()).toEqual([
      { list: 'block', address_key: `evm:${LAZARUS.toLowerCase()}`, created_by: 'carol' },
      { list: 'allow', address_key: `bitcoin:${SEGWIT}`, created_by: 'carol' },
    ]);
    const audited = (await risk.dataSource.query(`SELECT "actor", "action" FROM "risk_audit_log" WHERE "action" LIKE 'internal_list.%' ORDER BY "at"`)) as { actor: string; action: string }[];
    expect(audited).toEqual([
      { actor: 'carol', action: 'internal_list.block.added' },
      { actor: 'carol', action: 'internal_list.allow.added' },
    ]);
  });

  it('importing the same file again adds nothing twice: every valid line already active (text report), nothing stored', async () => {
    const r = await cli(['list', 'import', f('block.csv'), ...server(), '--yes']);
    expectExit(r, 1);
    expect(r.stdout).toMatch(/^line 4: rejected INVALID_ADDRESS: .+\nline 6: rejected MALFORMED_LINE: list must be block or allow, not "grey"\n0 added, 3 already active, 2 rejected \(of 5 lines\)\n$/);
    expect(await entryRows()).toHaveLength(2);
  });

  it('a JSON file: a dry run reports what would be added and stores nothing; the real import adds it (exit 0)', async () => {
    const path = f('more.json');
    writeFileSync(path, JSON.stringify([{ list: 'block', chain: 'ethereum-mainnet', address: TORNADO, reason: 'mixer' }]));
    const dry = await cli(['list', 'import', path, ...server(), '--dry-run', '--json']);
    expectExit(dry, 0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ ok: true, dryRun: true, wouldAdd: 1, added: 0 });
    expect(await entryRows()).toHaveLength(2);
    const real = await cli(['list', 'import', path, ...server(), '--yes']);
    expectExit(real, 0);
    expect(real.stdout).toBe('1 added, 0 already active, 0 rejected (of 1 lines)\n');
    expect((await entryRows()).map((e) => e.address_key)).toContain(`evm:${TORNADO.toLowerCase()}`);
  });

  it('status: MISSING before any OFAC import (exit 1); import-ofac of the repository\'s SDN fixture; status FRESH (exit 0)', async () => {
    const before = await cli(['list', 'status', ...server(), '--json']);
    expectExit(before, 1);
    expect(JSON.parse(before.stdout)).toMatchObject({ ok: false, state: 'missing' });
    const fixture = join(root, 'services/risk/test/fixtures/sdn_advanced.xml');
    const imported = await cli(['list', 'import-ofac', fixture, ...server(), '--note', 'cli integration test', '--yes', '--json']);
    expectExit(imported, 0);
    const doc = JSON.parse(imported.stdout) as { changed: boolean; total: number; format: string; version: string };
    expect(doc).toMatchObject({ changed: true, format: 'sdn-advanced-xml' });
    expect(doc.total).toBeGreaterThan(0);
    const after = await cli(['list', 'status', ...server()]);
    expectExit(after, 0);
    expect(after.stdout).toBe(`ofac_sdn: FRESH, version ${doc.version}, ${doc.total} addresses, ${after.stdout.match(/checked \S+/)?.[0]} (max age 86400 s)\n`);
  });

  it('a client certificate from another CA does not get through the TLS handshake: exit 3, nothing stored', async () => {
    writeFileSync(f('one.csv'), `list,chain,address,reason\nblock,ethereum-mainnet,${LAZARUS},x y z`);
    const r = await cli(['list', 'import', f('one.csv'), ...server('mallory'), '--yes', '--json']);
    expectExit(r, 3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'UNREACHABLE' });
  });
});
