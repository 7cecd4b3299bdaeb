// One schema and two roles per service, created idempotently by an administrator:
//   <svc>_owner  owns the schema, runs migrations (DDL), nothing else;
//   <svc>_app    the runtime role: USAGE on the schema and SELECT/INSERT/UPDATE/DELETE on its
//                tables and sequences (only SELECT on the migrations table); no CREATE
//                anywhere, no access to other schemas.
// Roles are cluster-wide in PostgreSQL; schemas and grants are per database.
import pg from 'pg';
import { assertIdentifier, serviceIdentifier } from './database.js';

export interface ProvisionServiceOptions {
  /** Service name ('chain-adapter'); roles are `<id>_owner` and `<id>_app` with id = 'chain_adapter'. */
  readonly service: string;
  /** Default: the service identifier. */
  readonly schema?: string;
  readonly ownerPassword: string;
  readonly appPassword: string;
  /** Must match the DataSource's `migrationsTableName` (default 'migrations'). */
  readonly migrationsTableName?: string;
}

export interface ServiceDatabaseRoles {
  readonly database: string;
  readonly schema: string;
  readonly ownerRole: string;
  readonly appRole: string;
}

export function serviceRoleNames(service: string): { ownerRole: string; appRole: string } {
  const id = serviceIdentifier(service);
  const ownerRole = `${id}_owner`;
  const appRole = `${id}_app`;
  assertIdentifier(ownerRole, 'owner role');
  assertIdentifier(appRole, 'app role');
  return { ownerRole, appRole };
}

const MIN_PASSWORD_LENGTH = 12;
const ROLE_ATTRIBUTES = 'LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

/**
 * Creates (or brings up to date) the service's two roles and its schema in the database of
 * `adminUrl` (a superuser or a role with CREATEROLE that may create schemas). Safe to run
 * repeatedly; passwords are reset to the given ones. Also removes PUBLIC's default
 * CONNECT/TEMP on the database and CREATE on schema public, and grants CONNECT to both roles.
 */
export async function provisionServiceDatabase(adminUrl: string, options: ProvisionServiceOptions): Promise<ServiceDatabaseRoles> {
  const { ownerRole, appRole } = serviceRoleNames(options.service);
  const schema = options.schema ?? serviceIdentifier(options.service);
  assertIdentifier(schema, 'schema');
  const migrationsTable = options.migrationsTableName ?? 'migrations';
  assertIdentifier(migrationsTable, 'migrationsTableName');
  for (const [what, password] of [['ownerPassword', options.ownerPassword], ['appPassword', options.appPassword]] as const) {
    if (password.length < MIN_PASSWORD_LENGTH) throw new TypeError(`${what} must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }

  const client = new pg.Client({ connectionString: adminUrl, application_name: 'custody-provision' });
  await client.connect();
  try {
    const id = pg.escapeIdentifier;
    const S = id(schema);
    const owner = id(ownerRole);
    const app = id(appRole);
    await client.query('BEGIN');
    // Roles are cluster-wide: serialise concurrent provisioners.
    await client.query(`SELECT pg_advisory_xact_lock(hashtext('custody.provision'))`);
    const database = (await client.query<{ db: string }>('SELECT current_database() AS db')).rows[0]?.db;
    if (database === undefined) throw new Error('cannot read current_database()');
    const D = id(database);

    for (const [role, password] of [[ownerRole, options.ownerPassword], [appRole, options.appPassword]] as const) {
      const exists = (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
      const verb = exists ? 'ALTER' : 'CREATE';
      await client.query(`${verb} ROLE ${id(role)} WITH ${ROLE_ATTRIBUTES} PASSWORD ${pg.escapeLiteral(password)}`);
      await client.query(`ALTER ROLE ${id(role)} IN DATABASE ${D} SET search_path = ${S}`);
    }

    await client.query(`REVOKE ALL ON DATABASE ${D} FROM PUBLIC`);
    await client.query(`GRANT CONNECT ON DATABASE ${D} TO ${owner}, ${app}`);
    await client.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);

    const schemaExisted = (await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema])).rowCount === 1;
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${S} AUTHORIZATION ${owner}`);
    await client.query(`ALTER SCHEMA ${S} OWNER TO ${owner}`);
    await client.query(`REVOKE ALL ON SCHEMA ${S} FROM PUBLIC`);
    await client.query(`REVOKE ALL ON SCHEMA ${S} FROM ${app}`);
    await client.query(`GRANT USAGE ON SCHEMA ${S} TO ${app}`);
    // Tables and sequences the owner creates later (migrations) ...
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${S} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`);
    await client.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${S} GRANT USAGE, SELECT ON SEQUENCES TO ${app}`);
    // ... and, when this run creates the schema, those that exist already. Once the schema
    // exists, table privileges belong to the migrations: re-granting on every run would undo
    // a migration's deliberate REVOKE (an append-only audit log, a ledger journal).
    if (!schemaExisted) {
      await client.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${S} TO ${app}`);
      await client.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${S} TO ${app}`);
    }
    // The migrations table (TypeORM's layout) is created here so the app role can read it
    // (a boot-time "schema up to date?" check) but never rewrite the migration history.
    const M = `${S}.${id(migrationsTable)}`;
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${M} ("id" SERIAL NOT NULL PRIMARY KEY, "timestamp" bigint NOT NULL, "name" character varying NOT NULL)`,
    );
    await client.query(`ALTER TABLE ${M} OWNER TO ${owner}`);
    await client.query(`REVOKE ALL ON TABLE ${M} FROM ${app}`);
    await client.query(`GRANT SELECT ON TABLE ${M} TO ${app}`);
    const sequence = (await client.query<{ seq: string | null }>(`SELECT pg_get_serial_sequence($1, 'id') AS seq`, [M])).rows[0]?.seq;
    if (sequence) await client.query(`REVOKE ALL ON SEQUENCE ${sequence} FROM ${app}`);
    await client.query('COMMIT');
    return Object.freeze({ database, schema, ownerRole, appRole });
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    await client.end();
  }
}
