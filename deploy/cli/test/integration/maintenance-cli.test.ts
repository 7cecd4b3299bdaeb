// The BUILT `custody maintenance` (node deploy/cli/dist/main.js, a child process) against the
// REAL intake: startIntake on real PostgreSQL (a throw-away database with intake's migrations),
// its IntakeAdminService on its own port with mTLS requiring operator certificates (made here
// with openssl) pinned to operators with Ed25519 keys. The CLI signs every call with intake's
// own canonical encoding: it schedules a window (announced_by = the signing operator, from
// authentication), lists it, is refused inside the minimum notice, cancels it, lists it as
// cancelled; a key that is not the operator's is BAD_SIGNATURE; a stopped intake is exit 3.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { INTAKE_ENTITIES, INTAKE_MIGRATIONS, startIntake, type IntakeHandle } from '@custody/intake';
import { createTestDatabase, type TestDatabase } from '@custody/testing';
import { buildCli, cli, expectExit } from './support.js';


const seeds = { alice: randomBytes(32), bob: randomBytes(32), wrong: randomBytes(32) };
let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let intake: IntakeHandle;
let stopped = false;
const f = (name: string): string => join(dir, name);
const fingerprint = (certPem: Buffer): string => createHash('sha256').update(Buffer.from(certPem.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')).digest('hex');
const conn = (who: 'alice' | 'bob', keyFile: string = f(`${who}.seed`)) => [
  '--server',
  `127.0.0.1:${intake.adminPort}`,
  '--cert',
  f(`op-${who}.crt`),
  '--key',
  f(`op-${who}.key`),
  '--ca',
  f('ca.crt'),
  '--operator',
  who,
  '--key-id',
  `${who}-k1`,
  '--key-file',
  keyFile,
];
const iso = (msFromNow: number): string => new Date(Date.now() + msFromNow).toISOString();

interface NoticeJson {
  maintenanceId: string;
  state: string;
  assets: string[];
  announcedBy: string | null;
  cancelledBy: string | null;
  startsAt: string;
  endsAt: string;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'custody-maintenance-cli-'));
  for (const who of ['alice', 'bob', 'wrong'] as const) writeFileSync(f(`${who}.seed`), seeds[who].toString('hex'), { mode: 0o600 });
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  key('ca');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  const leaf = (name: string, ext: string) => {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(f(`${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  for (const c of ['op-alice', 'op-bob']) leaf(c, 'extendedKeyUsage=clientAuth\n');
  await buildCli();

  db = await createTestDatabase({ service: 'intake', entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS });
  bus = new InProcessBus();
  const server = { certChain: readFileSync(f('server.crt')), privateKey: readFileSync(f('server.key')) };
  const tls = { kind: 'tls' as const, ...server, clientCa: readFileSync(f('ca.crt')), requireClientCertificate: true };
  intake = await startIntake({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: createLogger({ service: 'intake-cli-test', level: 'warn' }),
    grpc: { host: '127.0.0.1', port: 0, credentials: tls },
    admin: {
      host: '127.0.0.1',
      port: 0,
      credentials: tls,
      operators: (['alice', 'bob'] as const).map((who) => ({
        operatorId: who,
        keyId: `${who}-k1`,
        publicKey: ed25519.getPublicKey(new Uint8Array(seeds[who])),
        certificateSha256: [fingerprint(readFileSync(f(`op-${who}.crt`)))],
      })),
    },
    timestampWindowMs: 60_000,
    maintenanceMinNoticeMs: 3_600_000,
    outboxPollIntervalMs: 50,
  });
  if (intake.adminPort === undefined) throw new Error('the IntakeAdminService server did not start');
}, 180_000);

afterAll(async () => {
  if (!stopped) await intake?.stop();
  await bus?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('custody maintenance (built CLI) against the real intake IntakeAdminService and PostgreSQL', () => {
  let windowId = '';

  it('schedule: exit 0, the window is stored with announced_by = the signing operator; list shows it upcoming; no key material printed', async () => {
    const r = await cli(['maintenance', 'schedule', ...conn('alice'), '--asset', 'ETH', '--starts-at', iso(2 * 3_600_000), '--duration', '90m', '--suspend-withdrawals', '--description', 'Ethereum node upgrade', '--yes', '--json']);
    expectExit(r, 0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; notice: NoticeJson };
    expect(doc).toMatchObject({ ok: true, notice: { assets: ['ETH'], announcedBy: 'alice' } });
    windowId = doc.notice.maintenanceId;
    expect(new Date(doc.notice.endsAt).getTime() - new Date(doc.notice.startsAt).getTime()).toBe(90 * 60_000);
    const [row] = await db.admin<{ announced_by: string; withdrawals_suspended: boolean }>(`SELECT announced_by, withdrawals_suspended FROM maintenance_window WHERE id = $1`, [windowId]);
    expect(row).toEqual({ announced_by: 'alice', withdrawals_suspended: true });
    expect(`${r.stdout}${r.stderr}`).not.toContain(seeds.alice.toString('hex'));

    const listed = await cli(['maintenance', 'list', ...conn('bob'), '--json']);
    expectExit(listed, 0);
    expect((JSON.parse(listed.stdout) as { notices: NoticeJson[] }).notices).toEqual([expect.objectContaining({ maintenanceId: windowId, state: 'upcoming', announcedBy: 'alice', cancelledBy: null })]);
    const table = await cli(['maintenance', 'list', ...conn('bob')]);
    expect(table.stdout).toMatch(new RegExp(`${windowId}\\s+upcoming\\s+\\S+\\s+\\S+\\s+ETH\\s+withdrawals suspended\\s+alice`));
  });

  it('a window inside the minimum notice is refused by intake: exit 1 MAINTENANCE_NOTICE_TOO_SHORT, nothing stored', async () => {
    const r = await cli(['maintenance', 'schedule', ...conn('alice'), '--everything', '--starts-at', iso(10 * 60_000), '--duration', '1h', '--delay-deposits', '--description', 'too soon', '--yes', '--json']);
    expectExit(r, 1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, exitCode: 1, reason: 'MAINTENANCE_NOTICE_TOO_SHORT' });
    const [n] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM maintenance_window`);
    expect(n?.n).toBe('1');
  });

  it('a key that is not the operator\'s registered key: exit 1 BAD_SIGNATURE', async () => {
    const r = await cli(['maintenance', 'list', ...conn('alice', f('wrong.seed')), '--json']);
    expectExit(r, 1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'BAD_SIGNATURE' });
  });

  it('cancel (as bob): exit 0; gone from the default list, shown with --include-cancelled as cancelled by bob; cancelling again → exit 1 MAINTENANCE_ALREADY_CANCELLED', async () => {
    const r = await cli(['maintenance', 'cancel', windowId, ...conn('bob'), '--reason', 'upgrade postponed', '--yes']);
    expectExit(r, 0);
    expect(r.stdout).toMatch(new RegExp(`^cancelled ${windowId} at \\S+ \\(by bob\\)`));
    const byDefault = await cli(['maintenance', 'list', ...conn('alice'), '--json']);
    expect((JSON.parse(byDefault.stdout) as { notices: NoticeJson[] }).notices).toEqual([]);
    const all = await cli(['maintenance', 'list', ...conn('alice'), '--include-cancelled', '--json']);
    expect((JSON.parse(all.stdout) as { notices: NoticeJson[] }).notices).toEqual([expect.objectContaining({ maintenanceId: windowId, state: 'cancelled', announcedBy: 'alice', cancelledBy: 'bob' })]);
    const again = await cli(['maintenance', 'cancel', windowId, ...conn('bob'), '--yes', '--json']);
    expectExit(again, 1);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: false, reason: 'MAINTENANCE_ALREADY_CANCELLED' });
  });

  it('usage errors send nothing (exit 2); a stopped intake is unreachable (exit 3)', async () => {
    const noYes = await cli(['maintenance', 'schedule', ...conn('alice'), '--asset', 'ETH', '--starts-at', iso(2 * 3_600_000), '--duration', '1h', '--suspend-withdrawals', '--description', 'x']);
    expectExit(noYes, 2);
    const [n] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM maintenance_window`);
    expect(n?.n).toBe('1');
    const help = await cli(['maintenance', 'schedule', '--help']);
    expectExit(help, 0);
    expect(help.stdout).toMatch(/--starts-at <time>/);
    await intake.stop();
    stopped = true;
    const r = await cli(['maintenance', 'list', ...conn('alice'), '--json']);
    expectExit(r, 3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'UNREACHABLE' });
  });
});
