// The composition root: the only place adapters are wired to ports. Plain TypeScript
// (the platform's GrpcServer and the bus need no Nest container here); `startIntake` in
// index.ts is the entry point both main.ts and the embedded deployment use.
import { Topics, loadPackageDefinition, type Topic } from '@custody/contracts';
import { CreateEventBusTables1795478400000, OutboxRelay, PostgresOutboxStore, type EventBus, type Subscription } from '@custody/event-bus';
import { GrpcServer, createServiceDataSource, logCallerDenied, type CallerRule, type DatabaseConnection, type GrpcServerCredentials, type Logger, type OperatorAuditGate } from '@custody/platform';
import type { DataSource } from 'typeorm';
import { INTAKE_CONSUMER_GROUPS } from './consumer-groups.js';
import { Authenticator } from './application/authenticate.js';
import { DepositAddressUseCase } from './application/deposit-addresses.js';
import { IntegratorAdmin } from './application/integrators.js';
import { OperatorAuthenticator, type Operator } from './application/operator-auth.js';
import { MaintenanceUseCases } from './application/maintenance.js';
import { PipelineProjector } from './application/pipeline.js';
import type { Clock, DepositAddressProvider } from './application/ports.js';
import { WatchHub } from './application/watch-hub.js';
import { WithdrawalUseCases } from './application/withdrawals.js';
import { AssetRegistry, DEFAULT_ASSETS, type Asset } from './domain/asset-registry.js';
import { identityTopics, type TopicNamer } from './adapters/events.js';
import { IntakeAdminServiceService, createAdminService } from './adapters/grpc/admin.js';
import { CustodyGatewayServiceService, createGateway } from './adapters/grpc/gateway.js';
import { startPipelineConsumer } from './adapters/kafka/pipeline-consumer.js';
import { AddIntakeAdmin1795910400000, AddIntakePendingEvent1796169600000, CreateIntakeTables1795564800000, INTAKE_ENTITIES } from './adapters/persistence/schema.js';
import { PostgresIntegratorDirectory, PostgresMaintenanceStore, PostgresNonceStore, PostgresPendingPipelineEvents, PostgresWithdrawalStore } from './adapters/persistence/postgres-stores.js';

export const INTAKE_MIGRATIONS = [CreateIntakeTables1795564800000, CreateEventBusTables1795478400000, AddIntakeAdmin1795910400000, AddIntakePendingEvent1796169600000];
export { INTAKE_ENTITIES };

export interface IntakeDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection. Migrations are run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** allowedCallers: CUSTODY_GRPC_ALLOWED_CALLERS on the gateway port (optional; integrators are authenticated per integrator). */
  readonly grpc: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials; readonly allowedCallers?: readonly CallerRule[] };
  readonly timestampWindowMs?: number;
  readonly maintenanceMinNoticeMs?: number;
  readonly perSourceLimit?: { readonly ratePerSecond: number; readonly burst: number };
  readonly assets?: readonly Asset[];
  /** The signer's deposit-address port; absent = GetDepositAddress fails closed. */
  readonly depositAddressProvider?: DepositAddressProvider;
  /** Topic names (tests add a prefix). */
  readonly topicName?: TopicNamer;
  readonly consumerGroupId?: string;
  readonly outboxPollIntervalMs?: number;
  /**
   * The operators' IntakeAdminService, on its own port (never the integrators' one) so the
   * network policy can expose it to operators only. Absent = no admin server. Operators
   * authenticate with a pinned client certificate AND a signature, so the credentials must
   * require client certificates (mTLS).
   */
  readonly admin?: {
    readonly host?: string;
    readonly port: number;
    readonly credentials: GrpcServerCredentials;
    readonly operators: readonly Operator[];
    /** Longest overlap of a key rotation (default 7 days). */
    readonly maxKeyOverlapMs?: number;
  };
  /**
   * Operator admin actions (IntakeAdminService) are recorded by the audit service before they
   * are stored; if it does not record them they are refused (UNAVAILABLE, AUDIT_UNAVAILABLE).
   * main.ts always passes one (gRPC to audit, or a refusing gate without an endpoint); an
   * in-process composition passes the audit handle's `gate`. Absent: unaudited (logged at start).
   */
  readonly operatorAudit?: OperatorAuditGate;
}

export interface IntakeHandle {
  readonly grpcPort: number;
  /** Bound port of the admin server (when `admin` was given). */
  readonly adminPort?: number;
  readonly dataSource: DataSource;
  /** Bootstrap (tests, embedded demo): writes without an operator; the admin API goes through `integratorAdmin`. */
  readonly integrators: PostgresIntegratorDirectory;
  readonly integratorAdmin: IntegratorAdmin;
  readonly maintenance: MaintenanceUseCases;
  readonly hub: WatchHub;
  stop(): Promise<void>;
}

export async function composeIntake(deps: IntakeDeps): Promise<IntakeHandle> {
  const clock = deps.clock ?? { now: () => new Date() };
  const topicName = deps.topicName ?? identityTopics;
  const dataSource = createServiceDataSource({ service: 'intake', ...deps.database, entities: INTAKE_ENTITIES, poolSize: 20 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'intake shutdown step failed'));
  };
  try {
    const registry = new AssetRegistry(deps.assets ?? DEFAULT_ASSETS);
    const hub = new WatchHub();
    const directory = new PostgresIntegratorDirectory(dataSource, topicName);
    const nonces = new PostgresNonceStore(dataSource);
    const store = new PostgresWithdrawalStore(dataSource, topicName, () => clock.now());
    const maintenanceStore = new PostgresMaintenanceStore(dataSource, topicName);
    const maintenance = new MaintenanceUseCases({ store: maintenanceStore, registry, clock, minNoticeMs: deps.maintenanceMinNoticeMs ?? 72 * 3_600_000, ...(deps.operatorAudit ? { audit: deps.operatorAudit } : {}) });
    const withdrawals = new WithdrawalUseCases({ store, directory, registry, maintenance: maintenanceStore, notifier: hub, clock });
    const auth = new Authenticator({
      directory,
      nonces,
      clock,
      timestampWindowMs: deps.timestampWindowMs ?? 300_000,
      perSourceLimit: deps.perSourceLimit ?? { ratePerSecond: 200, burst: 400 },
    });
    const integratorAdmin = new IntegratorAdmin({ store: directory, registry, clock, maxKeyOverlapMs: deps.admin?.maxKeyOverlapMs ?? 7 * 24 * 3_600_000, ...(deps.operatorAudit ? { audit: deps.operatorAudit } : {}) });
    const deposits = new DepositAddressUseCase({ provider: deps.depositAddressProvider, registry, directory });
    const projector = new PipelineProjector(store, hub, new PostgresPendingPipelineEvents(dataSource, () => clock.now()));

    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      bus: deps.bus,
      pollIntervalMs: deps.outboxPollIntervalMs ?? 200,
      onError: (err) => deps.logger.warn({ err }, 'outbox relay error'),
    });
    relay.start();
    cleanups.push(() => relay.stop());

    const subscription: Subscription = await startPipelineConsumer({
      bus: deps.bus,
      dataSource,
      projector,
      groupId: deps.consumerGroupId ?? INTAKE_CONSUMER_GROUPS[0],
      topicName,
      onResult: (result, envelope) => {
        if (result === 'unknown-withdrawal') deps.logger.warn({ eventId: envelope.id, type: envelope.type }, 'pipeline event for an unknown withdrawal');
        if (result === 'parked') deps.logger.info({ eventId: envelope.id, type: envelope.type }, 'pipeline event ahead of its withdrawal; parked until the event it follows is applied');
        if (result === 'stale' || result === 'terminal') deps.logger.info({ eventId: envelope.id, type: envelope.type, result }, 'pipeline event behind its withdrawal; dropped');
      },
    });
    cleanups.push(() => subscription.stop());

    // Prune nonces that the timestamp window already makes unusable.
    const window = deps.timestampWindowMs ?? 300_000;
    const pruner = setInterval(() => {
      nonces.prune(new Date(clock.now().getTime() - 2 * window)).catch((err: unknown) => deps.logger.warn({ err }, 'nonce prune failed'));
    }, Math.max(10_000, window));
    pruner.unref();
    cleanups.push(async () => clearInterval(pruner));

    const server = new GrpcServer({
      ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
      port: deps.grpc.port,
      credentials: deps.grpc.credentials,
      ...(deps.grpc.allowedCallers ? { allowedCallers: deps.grpc.allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
      packageDefinition: loadPackageDefinition(),
      services: [{ definition: CustodyGatewayServiceService, implementation: createGateway({ auth, withdrawals, maintenance, deposits, hub, logger: deps.logger }) as never }],
    });
    const grpcPort = await server.start();
    cleanups.push(() => server.shutdown(2_000));

    let adminPort: number | undefined;
    if (deps.admin) {
      if (deps.admin.credentials.kind !== 'tls' || !deps.admin.credentials.requireClientCertificate) {
        throw new Error('the intake admin API needs mTLS (operators authenticate with a pinned client certificate)');
      }
      if (!deps.operatorAudit) deps.logger.warn({ alert: 'intake_admin_not_audited' }, 'no operator audit gate: admin actions are applied without an audit record (dev/test composition only)');
      const operatorAuth = new OperatorAuthenticator({ operators: deps.admin.operators, nonces, clock, timestampWindowMs: window });
      const adminServer = new GrpcServer({
        ...(deps.admin.host ? { host: deps.admin.host } : {}),
        port: deps.admin.port,
        credentials: deps.admin.credentials,
        packageDefinition: loadPackageDefinition(),
        services: [{ definition: IntakeAdminServiceService, implementation: createAdminService({ auth: operatorAuth, integrators: integratorAdmin, maintenance, logger: deps.logger }) as never }],
      });
      adminPort = await adminServer.start();
      cleanups.push(() => adminServer.shutdown(2_000));
    }

    return { grpcPort, ...(adminPort === undefined ? {} : { adminPort }), dataSource, integrators: directory, integratorAdmin, maintenance, hub, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Topic namer that prefixes every topic (test isolation). */
export function prefixedTopics(prefix: string): TopicNamer {
  return (topic: Topic) => `${prefix}${topic}`;
}

export { Topics };
