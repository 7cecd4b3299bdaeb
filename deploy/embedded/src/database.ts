// Databases of the embedded default: one database (`custody_embedded` by default) with one
// schema and two roles per service, exactly as in production (provisionServiceDatabase):
// the owner role runs the migrations, the app role serves. The roles' password is local,
// generated once per data directory (mode 0600) and never printed.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import type { MigrationInterface } from 'typeorm';
import { republishOutbox } from '@custody/event-bus';
import { createServiceDataSource, provisionServiceDatabase, runMigrations, type ServiceDatabaseRoles } from '@custody/platform';

type MigrationClass = new () => MigrationInterface;

/** Creates the database if missing; returns the admin URL pointing at it. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (rowCount === 0) await client.query(`CREATE DATABASE "${database}"`);
  } finally {
    await client.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/** The local roles' password: generated once into `<dataDir>/db-password` (0600), reused after. */
export async function localRolePassword(dataDir: string): Promise<string> {
  const file = join(dataDir, 'db-password');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 24) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const password = randomBytes(24).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return password;
}

export interface ServiceDatabase {
  readonly service: string;
  readonly roles: ServiceDatabaseRoles;
  /** Runtime (app role) connection facts for the service's start function. */
  readonly app: { readonly url: string; readonly schema: string };
  /** Owner (DDL) role URL: migrations only. */
  readonly ownerUrl: string;
  /** Outbox rows marked unpublished again at this start (the in-process log is empty). */
  republished: number;
}

export class EmbeddedDatabases {
  constructor(
    private readonly adminUrl: string,
    private readonly password: string,
  ) {}

  /** The database's admin URL (risk provisions itself from it). */
  get admin(): string {
    return this.adminUrl;
  }

  get rolePassword(): string {
    return this.password;
  }

  private url(role: string, database: string): string {
    const u = new URL(this.adminUrl);
    u.username = role;
    u.password = this.password;
    u.pathname = `/${database}`;
    return u.toString();
  }

  /**
   * Schema + roles for `service`; with `migrations`, runs them as the owner (services that
   * migrate themselves, like risk, pass none).
   */
  async provision(service: string, migrations?: readonly MigrationClass[]): Promise<ServiceDatabase> {
    const roles = await provisionServiceDatabase(this.adminUrl, { service, ownerPassword: this.password, appPassword: this.password });
    if (migrations) {
      const owner = createServiceDataSource({ url: this.url(roles.ownerRole, roles.database), service, schema: roles.schema, entities: [], migrations: [...migrations] });
      await owner.initialize();
      try {
        await runMigrations(owner);
      } finally {
        await owner.destroy();
      }
    }
    return { service, roles, app: { url: this.url(roles.appRole, roles.database), schema: roles.schema }, ownerUrl: this.url(roles.ownerRole, roles.database), republished: 0 };
  }


  /**
   * docs/event-bus.md: the in-process bus keeps its log in memory, so before any relay
   * starts, every retained outbox row is marked unpublished again; the relays publish them
   * in order and every inbox skips what it had already applied.
   */
  async republish(db: ServiceDatabase): Promise<number> {
    const client = new pg.Client({ connectionString: db.app.url });
    await client.connect();
    let exists = false;
    try {
      const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`"${db.roles.schema}"."outbox"`]);
      exists = rows[0]?.t !== null && rows[0]?.t !== undefined;
    } finally {
      await client.end();
    }
    if (!exists) return 0; // first start: nothing was ever published
    const ds = createServiceDataSource({ url: db.app.url, service: db.service, schema: db.roles.schema, entities: [] });
    await ds.initialize();
    try {
      db.republished = await republishOutbox(ds);
      return db.republished;
    } finally {
      await ds.destroy();
    }
  }
}
