// Plumbing for the policy service's integration tests (copied from intake's): a throw-away
// database provisioned like production (owner runs migrations, app role serves), prefixed
// Kafka topics, the compiled bundle (and a candidate with different data), operators with
// Ed25519 keys, a clock the test can move.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import pg from 'pg';
import { ALL_TOPICS } from '@custody/contracts';
import { createKafkaClient, ensureTopics, withDeadLetterTopics } from '@custody/event-bus';
import { assertMigrationsMatchEntities, createLogger, createServiceDataSource, errorReason, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { operatorDirectory } from '../../src/adapters/operators/operator-file.js';
import { POLICY_ENTITIES, POLICY_MIGRATIONS, type OperatorDirectory } from '../../src/index.js';

const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../../../', import.meta.url));

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

export const rand = (): string => randomBytes(5).toString('hex');
export const quietLogger = () => createLogger({ service: 'policy-test', level: 'warn' });

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let polls = 0; polls < 100_000; polls++) {
    if (await condition()) return;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what()}`);
}

export interface TestDatabase {
  readonly schema: string;
  readonly appUrl: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** CREATE DATABASE policy_test_<rand>, provision schema + roles, run the migrations as owner. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const name = `policy_test_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const service = `policy_t${suffix}`;
  const ownerPassword = `owner-${rand()}-${rand()}`;
  const appPassword = `app-${rand()}-${rand()}`;
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword, appPassword });
  const urlFor = (user: string, password: string): string => {
    const u = new URL(dbUrl.toString());
    u.username = user;
    u.password = password;
    return u.toString();
  };
  const owner = createServiceDataSource({ service, url: urlFor(roles.ownerRole, ownerPassword), entities: POLICY_ENTITIES, migrations: POLICY_MIGRATIONS });
  await owner.initialize();
  try {
    await runMigrations(owner);
    await assertMigrationsMatchEntities(owner);
  } finally {
    await owner.destroy();
  }
  const client = new pg.Client({ connectionString: dbUrl.toString() });
  await client.connect();
  await client.query(`SET search_path = "${roles.schema}"`);
  return {
    schema: roles.schema,
    appUrl: urlFor(roles.appRole, appPassword),
    query: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    drop: async () => {
      await client.end();
      const a = new pg.Client({ connectionString: adminUrl });
      await a.connect();
      try {
        await a.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
        await a.query(`DROP ROLE IF EXISTS "${roles.ownerRole}"`);
        await a.query(`DROP ROLE IF EXISTS "${roles.appRole}"`);
      } finally {
        await a.end();
      }
    },
  };
}

export async function createPrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 3 }))));
  } finally {
    await admin.disconnect();
  }
}

export async function deletePrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `policy-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

/** A clock the test can move. */
export class TestClock {
  constructor(public current: Date) {}
  now(): Date {
    return this.current;
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export interface TestOperator {
  readonly id: string;
  readonly roles: readonly string[];
  readonly keyId: string;
  readonly secret: Uint8Array;
}

export function newOperator(id: string, roles: readonly string[]): TestOperator {
  return { id, roles, keyId: `${id}-k1`, secret: ed25519.utils.randomSecretKey() };
}

export function directoryOf(ops: readonly TestOperator[]): OperatorDirectory {
  return operatorDirectory(ops.map((o) => ({ operatorId: o.id, roles: o.roles, keys: new Map([[o.keyId, ed25519.getPublicKey(o.secret)]]) })));
}

export interface Bundles {
  /** policies/ as shipped. */
  readonly current: Uint8Array;
  /** Same rules, BTC institutional single_max lowered to 100000000 (1 BTC). */
  readonly candidate: Uint8Array;
  cleanup(): Promise<void>;
}

/** Builds the shipped bundle with scripts/policy-test.sh and a candidate with changed data. */
export async function buildBundles(): Promise<Bundles> {
  const opa = process.env['OPA_BIN'] ?? resolve(root, '.local/bin/opa');
  const dir = await mkdtemp(join(tmpdir(), 'policy-svc-'));
  await run('bash', [resolve(root, 'scripts/policy-test.sh'), 'build', join(dir, 'current')], { cwd: root, env: { ...process.env, OPA_BIN: opa } });
  const data = join(dir, 'data');
  await cp(resolve(root, 'policies/data'), data, { recursive: true });
  const limits = JSON.parse(await readFile(join(data, 'limits.json'), 'utf8')) as { limits: { version: string; assets: { BTC: { tiers: { institutional: { single_max: string } } } } } };
  limits.limits.version = 'candidate-test';
  limits.limits.assets.BTC.tiers.institutional.single_max = '100000000';
  await writeFile(join(data, 'limits.json'), JSON.stringify(limits, null, 2));
  // scripts/policy-test.sh writes the Wasm SDK's capabilities to .local/policy/capabilities.json.
  await run(opa, ['build', '-t', 'wasm', '-e', 'custody/decision/decision', '--capabilities', resolve(root, '.local/policy/capabilities.json'), '--ignore', '*_test.rego', '-o', join(dir, 'candidate.tar.gz'), 'policies/custody', data], { cwd: root });
  return {
    current: new Uint8Array(await readFile(join(dir, 'current', 'bundle.tar.gz'))),
    candidate: new Uint8Array(await readFile(join(dir, 'candidate.tar.gz'))),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Promisified unary call. */
export function call<Req, Res>(fn: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req, md: Metadata): Promise<Res> {
  return new Promise((res, rej) => {
    fn(req, md, (err, r) => (err ? rej(err) : res(r)));
  });
}

export async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
}
