// Plumbing for ledger's integration tests: a throw-away database provisioned like production
// (owner runs migrations, app role serves), a superuser client, prefixed Kafka topics, and
// event factories.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ALL_TOPICS, DepositDetected, Topics, TxState, TxStatus, WithdrawalRequested, WithdrawalStatus, WithdrawalStatusChanged, encodeEvent, topicVersion } from '@custody/contracts';
import { createEnvelope, createKafkaClient, ensureTopics, withDeadLetterTopics, type Envelope } from '@custody/event-bus';
import { assertMigrationsMatchEntities, createLogger, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS } from '../../src/index.js';

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the integration globalSetup loads it from .local/infra.env (run npm run infra:up)`);
  return value;
}

export const rand = (): string => randomBytes(5).toString('hex');
export const quietLogger = () => createLogger({ service: 'ledger-test', level: 'warn' });

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

/** CREATE DATABASE ledger_test_<rand>, provision schema + roles, run the migrations as owner. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const name = `ledger_test_${suffix}`;
  const bootstrap = new pg.Client({ connectionString: adminUrl });
  await bootstrap.connect();
  await bootstrap.query(`CREATE DATABASE "${name}"`);
  await bootstrap.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const service = `ledger_t${suffix}`;
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
  const owner = createServiceDataSource({ service, url: ownerUrl, entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
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
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 3 }))));
  } finally {
    await admin.disconnect();
  }
}

export async function deletePrefixedTopics(prefix: string): Promise<void> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-test-admin-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } finally {
    await admin.disconnect();
  }
}

export function withdrawalRequested(withdrawalId: string, customer: string, asset: string, chain: string, amount: bigint): Envelope {
  const payload = encodeEvent(
    Topics.withdrawalRequested,
    WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'acme', customerAccount: customer, asset, chain, amount: amount.toString(), destinationAddress: '0x0000000000000000000000000000000000000001' }),
  );
  return createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalRequested), payload });
}

export function withdrawalStatus(withdrawalId: string, status: WithdrawalStatus): Envelope {
  const payload = encodeEvent(Topics.withdrawalStatus, WithdrawalStatusChanged.fromPartial({ withdrawalId, clientId: 'acme', status }));
  return createEnvelope({ type: Topics.withdrawalStatus, key: withdrawalId, correlationId: `corr-${withdrawalId}`, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalStatus), payload });
}

export function txStatus(withdrawalId: string, state: TxState, chain: string, feePaid = ''): Envelope {
  const payload = encodeEvent(Topics.txStatus, TxStatus.fromPartial({ withdrawalId, chain, sourceWallet: `hot-${chain}`, txHash: `0x${withdrawalId.replace(/-/g, '')}`, state, feePaid }));
  return createEnvelope({ type: Topics.txStatus, key: `hot-${chain}`, correlationId: `corr-${withdrawalId}`, producer: 'chain-adapter', schemaVersion: topicVersion(Topics.txStatus), payload });
}

// custody.events.v1.DepositState FINAL = 2, ORPHANED = 3 (deposit.proto).
export function depositDetected(depositId: string, customer: string, asset: string, amount: bigint, state: 2 | 3 = 2): Envelope {
  const payload = encodeEvent(
    Topics.depositDetected,
    DepositDetected.fromPartial({ depositId, chain: asset === 'BTC' ? 'bitcoin' : 'ethereum', asset, address: 'addr', customerAccount: customer, clientId: 'acme', amount: amount.toString(), txHash: `tx-${depositId}`, state: state as never }),
  );
  return createEnvelope({ type: Topics.depositDetected, key: 'addr', correlationId: `dep-${depositId}`, producer: 'chain-adapter', schemaVersion: topicVersion(Topics.depositDetected), payload });
}

export { TxState, WithdrawalStatus };
