// The BUILT `custody policy sign-bundle` / `activate` (child processes) against the REAL policy
// service (startPolicy on real PostgreSQL, the compiled bundle of policies/, staged activations
// picked up every 100 ms): two admins sign a candidate bundle's digest offline with the CLI, the
// CLI stages the activation in the policy database and waits for the running service's verdict.
// One admin's signature → refused by the service (exit 1), the active bundle stays; both →
// activated (exit 0), the service now runs the candidate. Unreachable database → exit 3.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { InProcessBus } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
// The composition layer may start a service (as deploy/embedded does).
// eslint-disable-next-line @nx/enforce-module-boundaries
import { POLICY_ENTITIES, POLICY_MIGRATIONS, bundleActivationBytes, localDecisionSigner, parseBundleArchive, startPolicy, type Operator, type PolicyHandle, type WithdrawalFactsProvider } from '@custody/policy';
import { createTestDatabase, type TestDatabase } from '@custody/testing';
import { cli as runCli, root, type Cli } from './support.js';

const run = promisify(execFile);

const cli = (args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<Cli> => runCli(args, env, 90_000);

const expectExit = (r: Cli, code: number): void => expect({ code: r.code, stdout: r.stdout, stderr: r.stderr }).toMatchObject({ code });

const seeds = { 'admin-1': randomBytes(32), 'admin-2': randomBytes(32) };
const operators: Operator[] = (['admin-1', 'admin-2'] as const).map((id) => ({ operatorId: id, roles: ['policy_admin'], keys: new Map([[`${id}-k1`, ed25519.getPublicKey(new Uint8Array(seeds[id]))]]) }));
const facts: WithdrawalFactsProvider = {
  factsFor: (r) => Promise.resolve({ account: { id: 'acct-1', tier: 'institutional', openedAt: '2023-01-01T00:00:00Z' }, sourceWallet: { id: 'btc-hot-01', tier: 'hot' as const }, ledgerHold: { id: `hold-${r.withdrawalId}`, amount: r.amount } }),
};

let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let policy: PolicyHandle;
let current: string;
let candidate: string;
const env = (): NodeJS.ProcessEnv => ({ ...process.env, CUSTODY_DB_URL: db.appUrl, CUSTODY_DB_SCHEMA: db.schema });
const signAs = async (admin: 'admin-1' | 'admin-2'): Promise<string> => {
  const r = await cli(['policy', 'sign-bundle', '--bundle', candidate, '--admin', admin, '--key-id', `${admin}-k1`, '--key-file', join(dir, `${admin}.seed`)]);
  expectExit(r, 0);
  return r.stdout.trim();
};

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custody-activate-cli-'));
  for (const id of ['admin-1', 'admin-2'] as const) await writeFile(join(dir, `${id}.seed`), seeds[id].toString('hex'), { mode: 0o600 });
  const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
  const [, , database] = await Promise.all([
    run('bash', [join(root, 'scripts/build.sh'), 'deploy/cli'], { cwd: root }),
    run('bash', [join(root, 'scripts/policy-test.sh'), 'build', join(dir, 'bundle')], { cwd: root, env: { ...process.env, OPA_BIN: opa } }),
    createTestDatabase({ service: 'policy', entities: POLICY_ENTITIES, migrations: POLICY_MIGRATIONS }),
  ]);
  db = database;
  current = join(dir, 'bundle', 'bundle.tar.gz');
  const data = join(dir, 'candidate-data');
  await run('cp', ['-r', resolve(root, 'policies/data'), data]);
  const limits = JSON.parse(await readFile(join(data, 'limits.json'), 'utf8')) as { limits: { version: string } };
  limits.limits.version = 'candidate-activate-cli-test';
  await writeFile(join(data, 'limits.json'), JSON.stringify(limits, null, 2));
  candidate = join(dir, 'candidate.tar.gz');
  await run(opa, ['build', '-t', 'wasm', '-e', 'custody/decision/decision', '--capabilities', resolve(root, '.local/policy/capabilities.json'), '--ignore', '*_test.rego', '-o', candidate, 'policies/custody', data], { cwd: root });
  bus = new InProcessBus();
  policy = await startPolicy({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: createLogger({ service: 'activate-cli-test-policy', level: 'error' }),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    bootstrapBundle: new Uint8Array(await readFile(current)),
    signer: localDecisionSigner('activate-cli-k1', ed25519.utils.randomSecretKey()),
    operators: { operators: new Map(operators.map((o) => [o.operatorId, o])) },
    facts,
    outboxPollIntervalMs: 50,
    bundlePollIntervalMs: 100,
  });
}, 240_000);

afterAll(async () => {
  await policy?.stop();
  await bus?.close();
  await db?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe('C-9.3.2-a custody policy sign-bundle / activate (built CLI) against the running policy service: the admin quorum decides', () => {
  it('sign-bundle: admin:key-id:signature over the service\'s bundleActivationBytes of the digest; the key never printed', async () => {
    const arg = await signAs('admin-1');
    const [admin, keyId, sig] = arg.split(':');
    expect([admin, keyId]).toEqual(['admin-1', 'admin-1-k1']);
    const digest = parseBundleArchive(new Uint8Array(await readFile(candidate))).digest;
    expect(ed25519.verify(Buffer.from(sig ?? '', 'hex'), bundleActivationBytes(digest, 'admin-1'), ed25519.getPublicKey(new Uint8Array(seeds['admin-1'])))).toBe(true);
    expect(arg).not.toContain(seeds['admin-1'].toString('hex'));
  });

  it('one admin\'s signature: staged, refused by the service (exit 1 ACTIVATION_REFUSED), the active bundle stays', async () => {
    const before = policy.bundles.activeDigest;
    const r = await cli(['policy', 'activate', '--bundle', candidate, '--signature', await signAs('admin-1'), '--wait', '30', '--yes', '--json'], env());
    expectExit(r, 1);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, reason: 'ACTIVATION_REFUSED' });
    expect(policy.bundles.activeDigest).toBe(before);
  });

  it('two admins: activated by the running service (exit 0); it now runs the candidate', async () => {
    const digest = parseBundleArchive(new Uint8Array(await readFile(candidate))).digest;
    const r = await cli(['policy', 'activate', '--bundle', candidate, '--signature', await signAs('admin-1'), '--signature', await signAs('admin-2'), '--wait', '30', '--yes', '--json'], env());
    expectExit(r, 0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, digest, state: 'activated' });
    expect(policy.bundles.activeDigest).toBe(digest);
  });

  it('usage errors stage nothing (exit 2); an unreachable database is exit 3', async () => {
    const [row] = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM bundle_activation_request');
    expectExit(await cli(['policy', 'activate', '--bundle', candidate, '--yes'], env()), 2);
    expectExit(await cli(['policy', 'activate', '--bundle', candidate, '--signature', 'admin-1:k:zz', '--yes'], env()), 2);
    expectExit(await cli(['policy', 'activate', '--bundle', candidate, '--signature', await signAs('admin-1')], env()), 2);
    const [after] = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM bundle_activation_request');
    expect(after?.n).toBe(row?.n);
    const down = await cli(['policy', 'activate', '--bundle', candidate, '--signature', await signAs('admin-1'), '--yes', '--json'], { ...process.env, CUSTODY_DB_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expectExit(down, 3);
  });
});
