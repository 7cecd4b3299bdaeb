// TypeORM DataSource for one service's schema: no synchronize, migrations run explicitly
// by the owner role, search_path pinned to the service schema.
import { DataSource, type EntitySchema, type MixedList } from 'typeorm';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `name` is a safe, unquoted-style PostgreSQL identifier (lower case, digits, underscore). */
export function assertIdentifier(name: string, what: string): void {
  if (!IDENTIFIER.test(name)) throw new TypeError(`${what} must match ${IDENTIFIER}, got ${JSON.stringify(name)}`);
}

/** Service name (kebab) -> identifier stem: 'chain-adapter' -> 'chain_adapter'. */
export function serviceIdentifier(service: string): string {
  const id = service.replace(/-/g, '_');
  assertIdentifier(id, 'service');
  return id;
}

export type DatabaseConnection =
  | { readonly url: string }
  | { readonly host: string; readonly port: number; readonly username: string; readonly password: string; readonly database: string };

export type ServiceDataSourceOptions = DatabaseConnection & {
  /** Service name; becomes the application_name and the default schema. */
  readonly service: string;
  /** Default: the service identifier ('chain-adapter' -> 'chain_adapter'). */
  readonly schema?: string;
  // TypeORM's own option type (MixedList<Function | string | EntitySchema>).
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly entities: MixedList<Function | string | EntitySchema>;
  // eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
  readonly migrations?: MixedList<Function | string>;
  readonly migrationsTableName?: string;
  readonly poolSize?: number;
  readonly logging?: boolean;
  /** Milliseconds; applied as statement_timeout on every connection (default 30 s). */
  readonly statementTimeoutMs?: number;
};

/**
 * Builds (does not connect) a PostgreSQL DataSource confined to the service schema:
 * `synchronize: false`, `migrationsRun: false`, `search_path=<schema>` on every pooled
 * connection, no extension installation (that is a migration's job, as the owner).
 */
export function createServiceDataSource(options: ServiceDataSourceOptions): DataSource {
  const schema = options.schema ?? serviceIdentifier(options.service);
  assertIdentifier(schema, 'schema');
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  if (!Number.isInteger(statementTimeoutMs) || statementTimeoutMs < 0) throw new RangeError('statementTimeoutMs must be a non-negative integer');
  const connection =
    'url' in options
      ? { url: options.url }
      : { host: options.host, port: options.port, username: options.username, password: options.password, database: options.database };
  return new DataSource({
    type: 'postgres',
    ...connection,
    schema,
    applicationName: options.service,
    entities: options.entities,
    migrations: options.migrations ?? [],
    migrationsTableName: options.migrationsTableName ?? 'migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    dropSchema: false,
    installExtensions: false,
    logging: options.logging ?? false,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    // libpq startup options: every pooled connection starts in the service schema only.
    extra: { options: `-c search_path=${schema} -c statement_timeout=${statementTimeoutMs}` },
  });
}

async function ensureInitialized(dataSource: DataSource): Promise<void> {
  if (!dataSource.isInitialized) await dataSource.initialize();
}

/** Runs pending migrations (each in its own transaction); returns their names in order. Use the owner role. */
export async function runMigrations(dataSource: DataSource): Promise<string[]> {
  await ensureInitialized(dataSource);
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}

export class SchemaDriftError extends Error {
  constructor(readonly pendingQueries: readonly string[]) {
    super(
      `entities and migrations disagree: synchronising would run ${pendingQueries.length} statement(s); write a migration:\n` +
        pendingQueries.map((q) => `  ${q}`).join('\n'),
    );
    this.name = 'SchemaDriftError';
  }
}

/**
 * Fails when the database (after migrations) differs from what the entities describe:
 * asks TypeORM's schema builder what it would run to synchronise and throws
 * {@link SchemaDriftError} listing those statements when there are any. Read-only.
 */
export async function assertMigrationsMatchEntities(dataSource: DataSource): Promise<void> {
  await ensureInitialized(dataSource);
  const sql = await dataSource.driver.createSchemaBuilder().log();
  const pending = sql.upQueries.map((q) => q.query);
  if (pending.length > 0) throw new SchemaDriftError(pending);
}
