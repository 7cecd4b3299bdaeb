// Plumbing for the signer's integration tests (same shape as intake's): a throw-away
// database provisioned like production, prefixed Kafka topics, the SoftHSM2 token facts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ALL_TOPICS } from '@custody/contracts';
import { createKafkaClient, ensureTopics, withDeadLetterTopics } from '@custody/event-bus';
import { assertMigrationsMatchEntities, createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { SIGNER_ENTITIES, SIGNER_MIGRATIONS } from '../../src/index.js';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

export const rand = (): string => randomBytes(5).toString('hex');
export const quietLogger = () => createLogger({ service: 'signer-test', level: 'warn' });

export function pkcs11Options(): { modulePath: string; tokenLabel: string; pin: string } {
  return { modulePath: requireEnv('PKCS11_MODULE'), tokenLabel: requireEnv('PKCS11_TOKEN_LABEL'), pin: requireEnv('PKCS11_PIN') };
}

export async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let polls = 0; polls < 100_000; polls++) {
    if (await condition()) return;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what()}`);
}

export interface TestDatabase {
  readonly schema: string;
  readonly appUrl: string;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** CREATE DATABASE signer_test_<rand>, provision schema + roles, run the migrations as owner. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const name = `signer_test_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const service = `signer_t${suffix}`;
  const ownerPassword = `owner-${rand()}-${rand()}`;
  const appPassword = `app-${rand()}-${rand()}`;
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword, appPassword });
  const urlFor = (user: string, password: string): string => {
    const u = new URL(dbUrl.toString());
    u.username = user;
    u.password = password;
    return u.toString();
  };
  const owner = createServiceDataSource({ service, url: urlFor(roles.ownerRole, ownerPassword), entities: SIGNER_ENTITIES, migrations: SIGNER_MIGRATIONS });
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
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `signer-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 3 }))));
  } finally {
    await admin.disconnect();
  }
}

export async function deletePrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `signer-test-admin-${rand()}`, logLevel: 'nothing' });
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
  offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}
