// Composition of the embedded default. The only place that wires concrete adapters for it.
import type { Writable } from 'node:stream';
import pg from 'pg';
import { InProcessBus, CreateEventBusTables1795478400000 } from '@custody/event-bus';
import {
  GrpcServer,
  createLogger,
  createMetrics,
  createServiceDataSource,
  provisionServiceDatabase,
  runMigrations,
  startMetricsServer,
  type Logger,
} from '@custody/platform';
import { loadPackageDefinition } from '@custody/contracts';
import type { EmbeddedConfig } from './config.js';
import { CreateWalkthroughTables1795478500000 } from './walkthrough-migration.js';
import { runPlatformWalkthrough, type WalkthroughResult } from './platform-walkthrough.js';

export interface EmbeddedSystem {
  readonly grpcPort: number;
  readonly metricsUrl: string;
  readonly walkthrough: WalkthroughResult;
  printSummary(out: Writable): void;
  stop(): Promise<void>;
}

const WALKTHROUGH_SERVICE = 'embedded-walkthrough';
/** The embedded default keeps its schemas in a database of its own, not in `postgres`. */
const EMBEDDED_DATABASE = 'custody_embedded';

/** Creates the database if missing; returns the admin URL pointing at it. */
async function ensureDatabase(adminUrl: string, database: string): Promise<string> {
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

export async function startEmbedded(config: EmbeddedConfig): Promise<EmbeddedSystem> {
  const logger: Logger = createLogger({ service: 'embedded', level: config.CUSTODY_LOG_LEVEL });
  const registry = createMetrics('embedded');
  const bus = new InProcessBus({
    onHandlerError: (error, message, groupId) => logger.warn({ err: error, topic: message.topic, groupId }, 'handler failed; redelivering'),
  });
  const stack: Array<() => Promise<void>> = [async () => bus.close()];
  const stop = async () => {
    for (const close of stack.reverse()) await close().catch((error: unknown) => logger.error({ err: error }, 'shutdown step failed'));
    stack.length = 0;
  };

  try {
    // One schema and two roles for the walkthrough, as every service gets: the owner runs
    // migrations, the app role only reads and writes rows.
    const password = config.CUSTODY_EMBEDDED_DB_PASSWORD;
    const adminUrl = await ensureDatabase(config.CUSTODY_PG_ADMIN_URL, EMBEDDED_DATABASE);
    const roles = await provisionServiceDatabase(adminUrl, {
      service: WALKTHROUGH_SERVICE,
      ownerPassword: password,
      appPassword: password,
    });
    const url = (role: string) => {
      const u = new URL(adminUrl);
      u.username = role;
      u.password = password;
      u.pathname = `/${roles.database}`;
      return u.toString();
    };
    const migrations = [CreateEventBusTables1795478400000, CreateWalkthroughTables1795478500000];
    const owner = createServiceDataSource({ url: url(roles.ownerRole), service: WALKTHROUGH_SERVICE, entities: [], migrations });
    await owner.initialize();
    try {
      await runMigrations(owner);
      // A fresh story each start: the walkthrough's own rows only.
      await owner.query('TRUNCATE "walkthrough_effect", "walkthrough_withdrawal", "outbox", "inbox"');
    } finally {
      await owner.destroy();
    }
    const app = createServiceDataSource({ url: url(roles.appRole), service: WALKTHROUGH_SERVICE, entities: [] });
    await app.initialize();
    stack.push(async () => void (await app.destroy()));

    const walkthrough = await runPlatformWalkthrough({ bus, dataSource: app, logger, events: config.CUSTODY_WALKTHROUGH_EVENTS });

    const grpc = new GrpcServer({
      host: '127.0.0.1',
      port: config.CUSTODY_GRPC_PORT,
      services: [],
      packageDefinition: loadPackageDefinition(),
      credentials: { kind: 'insecure' },
      shutdownGraceMs: 2_000,
    });
    const grpcPort = await grpc.start();
    stack.push(async () => void (await grpc.shutdown()));

    const metrics = await startMetricsServer({ registry, port: config.CUSTODY_METRICS_PORT });
    stack.push(async () => metrics.close());

    return {
      grpcPort,
      metricsUrl: metrics.url,
      walkthrough,
      printSummary(out) {
        const w = walkthrough;
        out.write(
          [
            '',
            'Custody policy engine — embedded default',
            `  database        PostgreSQL schema "${roles.schema}" in "${roles.database}" (roles ${roles.ownerRole} / ${roles.appRole})`,
            '  bus             in-process (per-key order, consumer groups, at-least-once, dead-letter topics)',
            `  gRPC            127.0.0.1:${grpcPort} (health + reflection)`,
            `  metrics         ${metrics.url}`,
            '',
            'Platform walkthrough: outbox → bus → inbox',
            `  withdrawal requests stored with their event (one transaction): ${w.requested}`,
            `  effects applied exactly once:                                 ${w.effects}`,
            `  duplicate deliveries absorbed by the inbox:                   ${w.duplicatesAbsorbed}`,
            `  dead-lettered (undecodable record, partition moved on):       ${w.deadLettered.length}${w.deadLettered[0] ? ` — ${w.deadLettered[0].reason}` : ''}`,
            `  amount requested = amount applied (base units, bigint):       ${w.totalAmount}`,
            '',
            'Services join this composition as they are built (see README.md, Status).',
            '',
          ].join('\n'),
        );
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
