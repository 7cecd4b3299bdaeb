// The composition root: the only place adapters are wired to ports. Plain TypeScript
// (the platform's GrpcServer and the bus need no Nest container here); `startIntake` in
// index.ts is the entry point both main.ts and the embedded deployment use.
import { Topics, loadPackageDefinition, type Topic } from '@custody/contracts';
import { CreateEventBusTables1795478400000, OutboxRelay, PostgresOutboxStore, type EventBus, type Subscription } from '@custody/event-bus';
import { GrpcServer, createServiceDataSource, type DatabaseConnection, type GrpcServerCredentials, type Logger } from '@custody/platform';
import type { DataSource } from 'typeorm';
import { Authenticator } from './application/authenticate.js';
import { DepositAddressUseCase } from './application/deposit-addresses.js';
import { MaintenanceUseCases } from './application/maintenance.js';
import { PipelineProjector } from './application/pipeline.js';
import type { Clock, DepositAddressProvider } from './application/ports.js';
import { WatchHub } from './application/watch-hub.js';
import { WithdrawalUseCases } from './application/withdrawals.js';
import { AssetRegistry, DEFAULT_ASSETS, type Asset } from './domain/asset-registry.js';
import { identityTopics, type TopicNamer } from './adapters/events.js';
import { CustodyGatewayServiceService, createGateway } from './adapters/grpc/gateway.js';
import { startPipelineConsumer } from './adapters/kafka/pipeline-consumer.js';
import { CreateIntakeTables1795564800000, INTAKE_ENTITIES } from './adapters/persistence/schema.js';
import { PostgresIntegratorDirectory, PostgresMaintenanceStore, PostgresNonceStore, PostgresWithdrawalStore } from './adapters/persistence/postgres-stores.js';

export const INTAKE_MIGRATIONS = [CreateIntakeTables1795564800000, CreateEventBusTables1795478400000];
export { INTAKE_ENTITIES };

export interface IntakeDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection. Migrations are run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly grpc: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials };
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
}

export interface IntakeHandle {
  readonly grpcPort: number;
  readonly dataSource: DataSource;
  readonly integrators: PostgresIntegratorDirectory;
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
    const directory = new PostgresIntegratorDirectory(dataSource);
    const nonces = new PostgresNonceStore(dataSource);
    const store = new PostgresWithdrawalStore(dataSource, topicName, () => clock.now());
    const maintenanceStore = new PostgresMaintenanceStore(dataSource, topicName);
    const maintenance = new MaintenanceUseCases({ store: maintenanceStore, registry, clock, minNoticeMs: deps.maintenanceMinNoticeMs ?? 72 * 3_600_000 });
    const withdrawals = new WithdrawalUseCases({ store, directory, registry, maintenance: maintenanceStore, notifier: hub, clock });
    const auth = new Authenticator({
      directory,
      nonces,
      clock,
      timestampWindowMs: deps.timestampWindowMs ?? 300_000,
      perSourceLimit: deps.perSourceLimit ?? { ratePerSecond: 200, burst: 400 },
    });
    const deposits = new DepositAddressUseCase({ provider: deps.depositAddressProvider, registry, directory });
    const projector = new PipelineProjector(store, hub);

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
      groupId: deps.consumerGroupId ?? 'intake.pipeline',
      topicName,
      onResult: (result, envelope) => {
        if (result === 'unknown-withdrawal') deps.logger.warn({ eventId: envelope.id, type: envelope.type }, 'pipeline event for an unknown withdrawal');
        if (result === 'ignored') deps.logger.info({ eventId: envelope.id, type: envelope.type }, 'pipeline event does not move the withdrawal forward; ignored');
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
      packageDefinition: loadPackageDefinition(),
      services: [{ definition: CustodyGatewayServiceService, implementation: createGateway({ auth, withdrawals, maintenance, deposits, hub, logger: deps.logger }) as never }],
    });
    const grpcPort = await server.start();
    cleanups.push(() => server.shutdown(2_000));

    return { grpcPort, dataSource, integrators: directory, maintenance, hub, stop: stopAll };
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
