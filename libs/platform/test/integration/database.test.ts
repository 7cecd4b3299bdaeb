// Against the real PostgreSQL from scripts/infra/postgres.sh (facts in .local/infra.env,
// loaded by the integration globalSetup). One throw-away database per run; roles are
// cluster-wide, so their names carry a random prefix and are dropped afterwards.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { EntitySchema, type DataSource, type MigrationInterface, type QueryRunner } from 'typeorm';
import {
  SchemaDriftError,
  assertMigrationsMatchEntities,
  createServiceDataSource,
  provisionServiceDatabase,
  runMigrations,
  type ServiceDatabaseRoles,
} from '../../src/index.js';

interface Thing {
  id: string;
  name: string;
  amount: string;
  createdAt: Date;
}

const thingColumns = {
  id: { type: 'uuid', primary: true },
  name: { type: 'text' },
  amount: { type: 'numeric', precision: 78, scale: 0 },
  createdAt: { name: 'created_at', type: 'timestamptz', createDate: true },
} as const;

const ThingEntity = new EntitySchema<Thing>({
  name: 'Thing',
  tableName: 'thing',
  columns: thingColumns,
  indices: [{ name: 'thing_name_idx', columns: ['name'] }],
});

// Migrations name no schema: search_path (the service schema) decides where tables go.
class CreateThing1767225600000 implements MigrationInterface {
  name = 'CreateThing1767225600000';
  async up(q: QueryRunner): Promise<void> {
    await q.query(
      `CREATE TABLE "thing" ("id" uuid NOT NULL, "name" text NOT NULL, "amount" numeric(78,0) NOT NULL, ` +
        `"created_at" TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT now(), CONSTRAINT "PK_thing" PRIMARY KEY ("id"))`,
    );
    await q.query(`CREATE INDEX "thing_name_idx" ON "thing" ("name")`);
  }
  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE "thing"`);
  }
}

const adminUrl = process.env.CUSTODY_PG_ADMIN_URL;
if (!adminUrl) throw new Error('CUSTODY_PG_ADMIN_URL is not set: the integration globalSetup loads it from .local/infra.env');

const suffix = randomBytes(4).toString('hex');
const database = `custody_test_${suffix}`;
const services = { a: `pt${suffix}-alpha`, b: `pt${suffix}-beta` } as const;
const password = (role: string) => `${role}-${randomBytes(12).toString('hex')}`;
const passwords = {
  a: { owner: password('a-owner'), app: password('a-app') },
  b: { owner: password('b-owner'), app: password('b-app') },
};

function urlFor(user: string, pass: string): string {
  const url = new URL(adminUrl as string);
  url.username = user;
  url.password = pass;
  url.pathname = `/${database}`;
  return url.toString();
}

async function admin<T>(fn: (client: pg.Client) => Promise<T>, db = 'postgres'): Promise<T> {
  const url = new URL(adminUrl as string);
  url.pathname = `/${db}`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function as<T>(user: string, pass: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: urlFor(user, pass) });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function pgError(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { code?: string; message: string };
  }
  throw new Error('expected the statement to fail');
}

const PERMISSION_DENIED = '42501';

let roles: { a: ServiceDatabaseRoles; b: ServiceDatabaseRoles };
const dataSources: DataSource[] = [];
function track(ds: DataSource): DataSource {
  dataSources.push(ds);
  return ds;
}

beforeAll(async () => {
  await admin((c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`));
  const dbAdminUrl = (() => {
    const url = new URL(adminUrl);
    url.pathname = `/${database}`;
    return url.toString();
  })();
  roles = {
    a: await provisionServiceDatabase(dbAdminUrl, { service: services.a, ownerPassword: passwords.a.owner, appPassword: passwords.a.app }),
    b: await provisionServiceDatabase(dbAdminUrl, { service: services.b, ownerPassword: passwords.b.owner, appPassword: passwords.b.app }),
  };
});

afterAll(async () => {
  await Promise.all(dataSources.filter((d) => d.isInitialized).map((d) => d.destroy()));
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(database)} WITH (FORCE)`));
  if (roles) {
    for (const r of [roles.a, roles.b]) {
      for (const role of [r.ownerRole, r.appRole]) await admin((c) => c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`));
    }
  }
});

function ownerDataSource(which: 'a' | 'b', entities: EntitySchema[] = [ThingEntity]): DataSource {
  const r = roles[which];
  return track(
    createServiceDataSource({ service: services[which], url: urlFor(r.ownerRole, passwords[which].owner), entities, migrations: [CreateThing1767225600000] }),
  );
}

function appDataSource(which: 'a' | 'b'): DataSource {
  const r = roles[which];
  return track(createServiceDataSource({ service: services[which], url: urlFor(r.appRole, passwords[which].app), entities: [ThingEntity] }));
}

describe('provisionServiceDatabase', () => {
  it('creates one schema and an owner and an app role per service', async () => {
    const id = `pt${suffix}_alpha`;
    expect(roles.a).toEqual({ database, schema: id, ownerRole: `${id}_owner`, appRole: `${id}_app` });
    const rows = await admin(
      (c) =>
        c.query<{ nspname: string; owner: string }>(
          `SELECT n.nspname, pg_get_userbyid(n.nspowner) AS owner FROM pg_namespace n WHERE n.nspname LIKE $1 ORDER BY 1`,
          [`pt${suffix}_%`],
        ),
      database,
    );
    expect(rows.rows).toEqual([
      { nspname: `pt${suffix}_alpha`, owner: `pt${suffix}_alpha_owner` },
      { nspname: `pt${suffix}_beta`, owner: `pt${suffix}_beta_owner` },
    ]);
    const attrs = await admin((c) =>
      c.query<{ rolname: string; rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean; rolcanlogin: boolean }>(
        `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1`,
        [[roles.a.ownerRole, roles.a.appRole]],
      ),
    );
    for (const row of attrs.rows) expect(row).toMatchObject({ rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true });
  });

  it('is idempotent (a second run changes nothing and succeeds)', async () => {
    const url = new URL(adminUrl as string);
    url.pathname = `/${database}`;
    const again = await provisionServiceDatabase(url.toString(), { service: services.a, ownerPassword: passwords.a.owner, appPassword: passwords.a.app });
    expect(again).toEqual(roles.a);
  });
});

describe('migrations as the owner, work as the app role', () => {
  beforeAll(async () => {
    expect(await runMigrations(ownerDataSource('a'))).toEqual(['CreateThing1767225600000']);
    expect(await runMigrations(ownerDataSource('b'))).toEqual(['CreateThing1767225600000']);
  });

  it('a second migration run has nothing to do', async () => {
    expect(await runMigrations(ownerDataSource('a'))).toEqual([]);
  });

  it('the table lives in the service schema, owned by the owner role', async () => {
    const rows = await admin(
      (c) => c.query<{ schemaname: string; tableowner: string }>(`SELECT schemaname, tableowner FROM pg_tables WHERE tablename = 'thing' ORDER BY 1`),
      database,
    );
    expect(rows.rows).toEqual([
      { schemaname: roles.a.schema, tableowner: roles.a.ownerRole },
      { schemaname: roles.b.schema, tableowner: roles.b.ownerRole },
    ]);
  });

  it('the app role inserts and selects through TypeORM (search_path is the service schema)', async () => {
    const ds = appDataSource('a');
    await ds.initialize();
    const repo = ds.getRepository(ThingEntity);
    await repo.insert({ id: '6f1c1a52-3f0e-4a43-9a2a-0f7c6b1f2d10', name: 'first', amount: '123456789012345678901234567890' });
    const found = await repo.findOneByOrFail({ name: 'first' });
    expect(found.amount).toBe('123456789012345678901234567890');
    expect(found.createdAt).toBeInstanceOf(Date);
    expect(await ds.query(`SELECT current_schema() AS s, current_user AS u`)).toEqual([{ s: roles.a.schema, u: roles.a.appRole }]);
    // it can read the migration history (boot-time check) ...
    expect(await ds.showMigrations()).toBe(false);
    // ... and update and delete its rows
    await repo.update({ name: 'first' }, { name: 'renamed' });
    expect(await repo.countBy({ name: 'renamed' })).toBe(1);
  });

  it('the app role cannot create, alter or drop anything', async () => {
    await as(roles.a.appRole, passwords.a.app, async (c) => {
      for (const ddl of [
        `CREATE TABLE evil (id int)`,
        `CREATE TABLE ${roles.a.schema}.evil (id int)`,
        `CREATE TABLE public.evil (id int)`,
        `CREATE SCHEMA evil`,
        `CREATE TEMP TABLE evil (id int)`,
      ]) {
        const err = await pgError(c.query(ddl));
        expect({ ddl, code: err.code }).toEqual({ ddl, code: PERMISSION_DENIED });
      }
      const alter = await pgError(c.query(`ALTER TABLE thing ADD COLUMN x int`));
      expect(alter.message).toMatch(/must be owner/);
      const drop = await pgError(c.query(`DROP TABLE thing`));
      expect(drop.message).toMatch(/must be owner/);
    });
  });

  it("re-provisioning keeps a migration's REVOKE (append-only tables stay append-only after a restart)", async () => {
    await admin((c) => c.query(`REVOKE UPDATE, DELETE ON ${roles.a.schema}.thing FROM ${roles.a.appRole}`), database);
    const dbAdminUrl = new URL(adminUrl);
    dbAdminUrl.pathname = `/${database}`;
    await provisionServiceDatabase(dbAdminUrl.toString(), { service: services.a, ownerPassword: passwords.a.owner, appPassword: passwords.a.app });
    await as(roles.a.appRole, passwords.a.app, async (c) => {
      expect((await pgError(c.query(`UPDATE thing SET name = 'x'`))).code).toBe(PERMISSION_DENIED);
      expect((await pgError(c.query(`DELETE FROM thing`))).code).toBe(PERMISSION_DENIED);
      await c.query(`SELECT count(*) FROM thing`);
    });
    await admin((c) => c.query(`GRANT UPDATE, DELETE ON ${roles.a.schema}.thing TO ${roles.a.appRole}`), database);
  });

  it('the app role cannot rewrite the migration history', async () => {
    await as(roles.a.appRole, passwords.a.app, async (c) => {
      expect((await c.query(`SELECT name FROM migrations`)).rows).toEqual([{ name: 'CreateThing1767225600000' }]);
      for (const dml of [`DELETE FROM migrations`, `INSERT INTO migrations ("timestamp", name) VALUES (1, 'x')`, `UPDATE migrations SET name = 'x'`]) {
        expect((await pgError(c.query(dml))).code).toBe(PERMISSION_DENIED);
      }
    });
  });

  it("neither role of one service can read the other service's schema", async () => {
    for (const [user, pass] of [
      [roles.a.appRole, passwords.a.app],
      [roles.a.ownerRole, passwords.a.owner],
    ] as const) {
      await as(user, pass, async (c) => {
        const err = await pgError(c.query(`SELECT * FROM ${roles.b.schema}.thing`));
        expect(err.code).toBe(PERMISSION_DENIED);
        expect(err.message).toMatch(new RegExp(`permission denied for schema ${roles.b.schema}`));
        expect((await pgError(c.query(`INSERT INTO ${roles.b.schema}.thing (id, name, amount) VALUES (gen_random_uuid(), 'x', 1)`))).code).toBe(PERMISSION_DENIED);
      });
    }
    // and B's own app role can read it: the denial is about who asks, not a broken table
    await as(roles.b.appRole, passwords.b.app, async (c) => {
      expect((await c.query(`SELECT count(*)::int AS n FROM thing`)).rows).toEqual([{ n: 0 }]);
    });
  });

  it('a role that is not provisioned for the database cannot connect to it', async () => {
    const outsider = `pt${suffix}_outsider`;
    const pass = password('outsider');
    await admin((c) => c.query(`CREATE ROLE ${pg.escapeIdentifier(outsider)} LOGIN PASSWORD ${pg.escapeLiteral(pass)}`));
    try {
      const err = await pgError(as(outsider, pass, async (c) => c.query('SELECT 1')));
      expect(err.code).toBe(PERMISSION_DENIED);
    } finally {
      await admin((c) => c.query(`DROP ROLE ${pg.escapeIdentifier(outsider)}`));
    }
  });
});

describe('assertMigrationsMatchEntities', () => {
  it('passes when the migrations produce exactly what the entities describe', async () => {
    const ds = ownerDataSource('a');
    await runMigrations(ds);
    await expect(assertMigrationsMatchEntities(ds)).resolves.toBeUndefined();
  });

  it('fails, listing the statements, when an entity has a column the migrations lack', async () => {
    const Drifted = new EntitySchema<Thing & { note: string }>({
      name: 'Thing',
      tableName: 'thing',
      columns: { ...thingColumns, note: { type: 'text', nullable: true } },
      indices: [{ name: 'thing_name_idx', columns: ['name'] }],
    });
    const ds = ownerDataSource('a', [Drifted as EntitySchema]);
    const err = await assertMigrationsMatchEntities(ds).then(
      () => {
        throw new Error('expected drift');
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SchemaDriftError);
    const drift = err as SchemaDriftError;
    // TypeORM leaves out the schema when it is the search_path one.
    expect(drift.pendingQueries).toHaveLength(1);
    expect(drift.pendingQueries[0]).toMatch(new RegExp(`^ALTER TABLE ("${roles.a.schema}"\\.)?"thing" ADD "note" text$`));
    expect(drift.message).toContain('write a migration');
  });

  it('fails when the migrations create an index the entities do not declare, and when a table is missing', async () => {
    const NoIndex = new EntitySchema<Thing>({ name: 'Thing', tableName: 'thing', columns: thingColumns });
    const Missing = new EntitySchema<{ id: string }>({ name: 'Missing', tableName: 'missing', columns: { id: { type: 'uuid', primary: true } } });
    const ds = ownerDataSource('a', [NoIndex as EntitySchema, Missing as EntitySchema]);
    const err = (await assertMigrationsMatchEntities(ds).catch((e: unknown) => e)) as SchemaDriftError;
    expect(err).toBeInstanceOf(SchemaDriftError);
    const qualified = (name: string) => `("${roles.a.schema}"\\.)?"${name}"`;
    expect(err.pendingQueries.some((q) => new RegExp(`^DROP INDEX ${qualified('thing_name_idx')}`).test(q))).toBe(true);
    expect(err.pendingQueries.some((q) => new RegExp(`^CREATE TABLE ${qualified('missing')}`).test(q))).toBe(true);
    // it only looked: nothing was changed
    const tables = await admin((c) => c.query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY 1`, [roles.a.schema]), database);
    expect(tables.rows).toEqual([{ tablename: 'migrations' }, { tablename: 'thing' }]);
  });
});
