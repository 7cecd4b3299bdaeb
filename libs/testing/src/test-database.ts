// A throw-away database provisioned like production: one schema with an owner role that
// runs the migrations (and checks them against the entities) and an app role that serves.
import pg from 'pg';
import type { DataSourceOptions } from 'typeorm';
import { assertMigrationsMatchEntities, createServiceDataSource, provisionServiceDatabase, runMigrations } from '@custody/platform';
import { rand, requireEnv } from './env.js';

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

export interface TestDatabaseOptions {
  /** Service name: the database is `<service>_test_<rand>`, the roles `<service>_t<rand>_*`. */
  readonly service: string;
  readonly entities: NonNullable<DataSourceOptions['entities']>;
  readonly migrations: NonNullable<DataSourceOptions['migrations']>;
}

/** CREATE DATABASE <service>_test_<rand>, provision schema + roles, run the migrations as owner. */
export async function createTestDatabase(options: TestDatabaseOptions): Promise<TestDatabase> {
  const adminUrl = requireEnv('CUSTODY_PG_ADMIN_URL');
  const suffix = rand();
  const name = `${options.service}_test_${suffix}`;
  const bootstrap = new pg.Client({ connectionString: adminUrl });
  await bootstrap.connect();
  await bootstrap.query(`CREATE DATABASE "${name}"`);
  await bootstrap.end();
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${name}`;
  const service = `${options.service}_t${suffix}`;
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
  const owner = createServiceDataSource({ service, url: ownerUrl, entities: options.entities, migrations: options.migrations });
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
