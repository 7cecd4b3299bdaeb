// Plumbing for audit's integration tests: a throw-away database provisioned like production
// (owner runs migrations, app role serves), a superuser client for tampering, prefixed
// Kafka topics, and envelope factories.
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { ALL_TOPICS, Topics, WithdrawalRequested, WithdrawalStatus, WithdrawalStatusChanged, encodeEvent, topicVersion } from '@custody/contracts';
import { createEnvelope, createKafkaClient, ensureTopics, withDeadLetterTopics, type Envelope } from '@custody/event-bus';
import { assertMigrationsMatchEntities, createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, type OperatorAction } from '../../src/index.js';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

export const rand = (): string => randomBytes(5).toString('hex');
export const quietLogger = () => createLogger({ service: 'audit-test', level: 'warn' });

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
  readonly appRole: string;
  readonly appUrl: string;
  readonly ownerUrl: string;
  /** Runs a query as the superuser in the test database (search_path = the service schema). */
  admin<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a query as a given role's URL (one connection per call). */
  as<T = Record<string, unknown>>(url: string, sql: string, params?: unknown[]): Promise<T[]>;
  drop(): Promise<void>;
}

/** CREATE DATABASE audit_test_<rand>, provision schema + roles, run the migrations as owner. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const name = `audit_test_${suffix}`;
  const bootstrap = new pg.Client({ connectionString: adminUrl });
  await bootstrap.connect();
  await bootstrap.query(`CREATE DATABASE "${name}"`);
  await bootstrap.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const service = `audit_t${suffix}`;
  const ownerPassword = `owner-${rand()}-${rand()}`;
  const appPassword = `app-${rand()}-${rand()}`;
  const roles = await provisionServiceDatabase(dbUrl.toString(), { service, ownerPassword, appPassword });
  const urlFor = (user: string, password: string): string => {
    const u = new URL(dbUrl.toString());
    u.username = user;
    u.password = password;
    return u.toString();
  };
  const ownerUrl = urlFor(roles.ownerRole, ownerPassword);
  const owner = createServiceDataSource({ service, url: ownerUrl, entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS });
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
    appRole: roles.appRole,
    appUrl: urlFor(roles.appRole, appPassword),
    ownerUrl,
    admin: async <T>(sql: string, params: unknown[] = []) => (await client.query(sql, params)).rows as T[],
    as: async <T>(url: string, sql: string, params: unknown[] = []) => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`SET search_path = "${roles.schema}"`);
        return (await c.query(sql, params)).rows as T[];
      } finally {
        await c.end();
      }
    },
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

/** Creates every custody topic (+ .dlq) under the prefix. */
export async function createPrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `audit-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 3 }))));
  } finally {
    await admin.disconnect();
  }
}

export async function deletePrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `audit-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

export function withdrawalRequestedEnvelope(withdrawalId: string, correlationId: string, occurredAt = new Date()): Envelope {
  const payload = encodeEvent(
    Topics.withdrawalRequested,
    WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'acme', customerAccount: 'cust-1', asset: 'ETH', chain: 'ethereum', amount: '1000000000000000000', destinationAddress: '0x0000000000000000000000000000000000000001' }),
  );
  return createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalRequested), payload, occurredAt });
}

export function withdrawalStatusEnvelope(withdrawalId: string, correlationId: string, status: WithdrawalStatus, causationId: string, producer = 'intake', occurredAt = new Date()): Envelope {
  const payload = encodeEvent(Topics.withdrawalStatus, WithdrawalStatusChanged.fromPartial({ withdrawalId, clientId: 'acme', status }));
  return createEnvelope({ type: Topics.withdrawalStatus, key: withdrawalId, correlationId, causationId, producer, schemaVersion: topicVersion(Topics.withdrawalStatus), payload, occurredAt });
}

export function operatorAction(overrides: Partial<OperatorAction> = {}): OperatorAction {
  return {
    operatorId: 'op-alice',
    action: 'policy.bundle.activate',
    target: 'sha256:0f0f',
    deviceId: 'admin-terminal-3',
    sourceIp: '10.20.0.7',
    requestId: `req-${randomUUID()}`,
    approvalIds: ['ap-1', 'ap-2'],
    correlationId: `corr-${randomUUID()}`,
    occurredAt: new Date(),
    ...overrides,
  };
}
