// The composition root: the only place adapters are wired to ports. Plain TypeScript
// (like intake's); `startPolicy` in index.ts is the entry point both main.ts and the
// embedded deployment use.
import { ALL_TOPICS, loadPackageDefinition, type Topic } from '@custody/contracts';
import { CreateEventBusTables1795478400000, OutboxRelay, PostgresOutboxStore, type BackoffOptions, type BusMetrics, type EventBus, type Subscription } from '@custody/event-bus';
import {
  GrpcServer,
  createBusMetrics,
  createMetrics,
  createServiceDataSource,
  logCallerDenied,
  startMetricsServer,
  type CallerRule,
  type DatabaseConnection,
  type GrpcServerCredentials,
  type Logger,
  type OperatorAuditGate,
} from '@custody/platform';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { POLICY_CONSUMER_GROUPS } from './consumer-groups.js';
import { parseBundleArchive } from './adapters/opa/bundle-archive.js';
import { WasmPolicyEvaluator } from './adapters/opa/wasm-policy-evaluator.js';
import { createPolicyMetrics, decisionOutcomeLabel } from './adapters/metrics.js';
import { ApprovalServiceService, createApprovalService } from './adapters/grpc/approval-service.js';
import { identityTopics, type TopicNamer } from './adapters/events.js';
import { startDecisionConsumer } from './adapters/kafka/decision-consumer.js';
import { maintenanceGroupOf, startMaintenanceConsumer } from './adapters/kafka/maintenance-consumer.js';
import { PostgresMaintenanceStore } from './adapters/persistence/maintenance-store.js';
import { CreateMaintenanceWindows1795737600000, CreatePolicyTables1795651200000, POLICY_ENTITIES } from './adapters/persistence/schema.js';
import { PostgresBundleStore, PostgresPolicyStore } from './adapters/persistence/postgres-store.js';
import { AddTreasuryTransferBooked1795996800000, CreateTreasuryTables1795824000000, TREASURY_ENTITIES } from './adapters/persistence/treasury-schema.js';
import { APPROVAL_DEVICE_ENTITIES, AddApprovalDevices1795910400000 } from './adapters/persistence/approval-device-schema.js';
import { PostgresTreasuryStore } from './adapters/persistence/treasury-store.js';
import { startTreasuryConsumer, treasuryGroupOf } from './adapters/kafka/treasury-consumer.js';
import { createTreasuryMetrics } from './adapters/treasury-metrics.js';
import { TreasuryService, type WalletBalanceSource } from './application/treasury.js';
import { BundleRegistry } from './application/bundle-registry.js';
import { DecisionService, expirePending, type PolicyStore } from './application/decisions.js';
import { MaintenanceService } from './application/maintenance.js';
import type { DecisionSigner, OperatorDirectory, WithdrawalFactsProvider } from './application/ports.js';
import type { Clock } from './domain/clock.js';
import { treasurySettingsFromData } from './domain/treasury.js';

export const POLICY_MIGRATIONS = [CreatePolicyTables1795651200000, CreateEventBusTables1795478400000, CreateMaintenanceWindows1795737600000, CreateTreasuryTables1795824000000, AddApprovalDevices1795910400000, AddTreasuryTransferBooked1795996800000];
const ALL_POLICY_ENTITIES = [...POLICY_ENTITIES, ...TREASURY_ENTITIES, ...APPROVAL_DEVICE_ENTITIES];
export { ALL_POLICY_ENTITIES as POLICY_ENTITIES };

export interface PolicyDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection. Migrations are run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** allowedCallers: CUSTODY_GRPC_ALLOWED_CALLERS; ApprovalService is operator-facing (signed votes), exempt. */
  readonly grpc: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials; readonly allowedCallers?: readonly CallerRule[] };
  /**
   * The bundle archive (opa build -t wasm) used when the database has no active bundle
   * yet (first start). Later activations go through the admin quorum. Neither → refuse to start.
   */
  readonly bootstrapBundle?: Uint8Array;
  readonly signer: DecisionSigner;
  readonly operators: OperatorDirectory;
  readonly facts: WithdrawalFactsProvider;
  /** Role whose holders may sign bundle activations (default "policy_admin"). */
  readonly adminRole?: string;
  readonly adminQuorum?: number;
  readonly tokenTtlSeconds?: number;
  readonly topicName?: TopicNamer;
  readonly consumerGroupId?: string;
  readonly outboxPollIntervalMs?: number;
  /** How often staged bundle activations are picked up (default 5 s). */
  readonly bundlePollIntervalMs?: number;
  /** How often expired approval requests are closed as DENY approval_expired (default 30 s). */
  readonly expiryPollIntervalMs?: number;
  /**
   * In-place retries of a failing decision event (default 5 attempts, 200 ms doubling). With
   * LedgerFactsProvider they must outlast its hold wait: pass redeliveryFor(holdWaitMs).
   */
  readonly redelivery?: { readonly maxAttempts: number; readonly backoff: BackoffOptions };
  /**
   * Prometheus: the registry (default a new `createMetrics('policy')`), the bus hooks already
   * given to the bus (default made on the registry), and the /metrics port (none: not served).
   */
  readonly metrics?: { readonly registry?: Registry; readonly busMetrics?: BusMetrics; readonly port?: number; readonly host?: string };
  /**
   * Operator votes (Approve/Reject) are recorded here BEFORE they are applied and refused
   * (UNAVAILABLE, AUDIT_UNAVAILABLE) if it does not record them. main.ts always passes one
   * (gRPC to audit, or a refusing gate when no endpoint is configured); an in-process
   * composition passes the audit handle's `gate`. Absent: votes are not audited (logged at start).
   */
  readonly operatorAudit?: OperatorAuditGate;
  /**
   * Hot-wallet cap monitor (C-9.3.7.1-a, application/treasury.ts): the ledger's wallet
   * balances (main.ts: GetWalletBalances over the ledger client) and the round interval
   * (default 30 s). Absent: no monitor (logged at start, `alert: policy_no_hot_wallet_monitor`);
   * transfers proposed otherwise are still decided and closed.
   */
  readonly treasury?: { readonly balances: WalletBalanceSource; readonly intervalMs?: number };
}

/** The bus metrics hooks of the policy service (pass the same object to the bus and to startPolicy). */
export function createPolicyBusMetrics(registry: Registry, topicName: TopicNamer = identityTopics, consumerGroupId: string = POLICY_CONSUMER_GROUPS[0]): BusMetrics {
  return createBusMetrics(registry, { topics: ALL_TOPICS.map(topicName), groups: [consumerGroupId, maintenanceGroupOf(consumerGroupId), treasuryGroupOf(consumerGroupId)] });
}

export interface PolicyHandle {
  readonly grpcPort: number;
  readonly dataSource: DataSource;
  readonly bundles: BundleRegistry;
  readonly decisions: DecisionService;
  readonly store: PolicyStore;
  /** Hot-wallet monitor and treasury transfers (tick() runs one round now). */
  readonly treasury: TreasuryService;
  readonly registry: Registry;
  /** The /metrics server's URL when a metrics port was given. */
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

export async function composePolicy(deps: PolicyDeps): Promise<PolicyHandle> {
  const clock = deps.clock ?? { now: () => new Date() };
  const topicName = deps.topicName ?? identityTopics;
  const dataSource = createServiceDataSource({ service: 'policy', ...deps.database, entities: ALL_POLICY_ENTITIES, poolSize: 10 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'policy shutdown step failed'));
  };
  try {
    const registry = deps.metrics?.registry ?? createMetrics('policy');
    const metrics = createPolicyMetrics(registry);
    const consumerGroupId = deps.consumerGroupId ?? POLICY_CONSUMER_GROUPS[0];
    const busMetrics = deps.metrics?.busMetrics ?? createPolicyBusMetrics(registry, topicName, consumerGroupId);
    let metricsUrl: string | undefined;
    if (deps.metrics?.port !== undefined) {
      const metricsServer = await startMetricsServer({ registry, port: deps.metrics.port, ...(deps.metrics.host ? { host: deps.metrics.host } : {}) });
      metricsUrl = metricsServer.url;
      cleanups.push(() => metricsServer.close());
    }

    const evaluator = new WasmPolicyEvaluator();
    const bundles = new BundleRegistry({
      evaluator,
      store: new PostgresBundleStore(dataSource, parseBundleArchive),
      operators: deps.operators,
      adminRole: deps.adminRole ?? 'policy_admin',
      adminQuorum: deps.adminQuorum ?? 2,
      parse: parseBundleArchive,
      now: () => clock.now(),
    });
    // Fail closed: no valid bundle, no service (nothing subscribes, nothing listens).
    await bundles.start(deps.bootstrapBundle);
    metrics.bundleActive.set({}, 1);
    deps.logger.info({ bundleDigest: bundles.activeDigest, decisionKeyId: deps.signer.keyId }, 'policy bundle active');

    const store = new PostgresPolicyStore(dataSource, topicName);
    const maintenanceStore = new PostgresMaintenanceStore();
    const treasuryStore = new PostgresTreasuryStore(topicName);
    const decisions = new DecisionService({
      hotWalletPause: (tx, asset) => treasuryStore.hotPause(tx, asset),
      maintenance: maintenanceStore,
      store,
      registry: bundles,
      evaluator,
      facts: deps.facts,
      signer: deps.signer,
      operators: deps.operators,
      clock,
      ...(deps.tokenTtlSeconds ? { tokenTtlSeconds: deps.tokenTtlSeconds } : {}),
    });

    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      bus: deps.bus,
      pollIntervalMs: deps.outboxPollIntervalMs ?? 200,
      metrics: busMetrics,
      onError: (err) => deps.logger.warn({ err }, 'outbox relay error'),
    });
    relay.start();
    cleanups.push(() => relay.stop());

    const subscription: Subscription = await startDecisionConsumer({
      bus: deps.bus,
      dataSource,
      decisions,
      groupId: consumerGroupId,
      topicName,
      metrics: busMetrics,
      ...(deps.redelivery ? { redelivery: deps.redelivery } : {}),
      onResult: (result, envelope) => {
        const outcome = decisionOutcomeLabel(result);
        if (outcome) metrics.decisions.inc({ outcome });
        deps.logger.info({ eventId: envelope.id, type: envelope.type, result }, 'policy event handled');
      },
    });
    cleanups.push(() => subscription.stop());

    // Announced maintenance windows (custody.maintenance.scheduled.v1) → maintenance_window,
    // read into every decision's input (group `<consumerGroupId>.maintenance`).
    const maintenanceSubscription = await startMaintenanceConsumer({
      bus: deps.bus,
      dataSource,
      maintenance: new MaintenanceService(maintenanceStore),
      groupId: consumerGroupId,
      topicName,
      metrics: busMetrics,
      onResult: (result, envelope) => deps.logger.info({ eventId: envelope.id, type: envelope.type, maintenanceId: envelope.key, result }, 'maintenance window event handled'),
    });
    cleanups.push(() => maintenanceSubscription.stop());

    // Hot-wallet cap monitor: sweeps, replenishments, breach incident and pause (C-9.3.7.1-a).
    const treasuryAssets = (() => {
      try {
        return [...treasurySettingsFromData(bundles.current().data).assets.keys()];
      } catch {
        return [];
      }
    })();
    const treasury = new TreasuryService({
      store: treasuryStore,
      decisions: store,
      decisionService: decisions,
      registry: bundles,
      evaluator,
      balances: deps.treasury?.balances ?? { walletBalances: () => Promise.reject(new Error('no wallet balance source configured')), transferBooking: () => Promise.reject(new Error('no wallet balance source configured')) },
      clock,
      logger: deps.logger,
      metrics: createTreasuryMetrics(registry, treasuryAssets),
    });
    const treasurySubscription = await startTreasuryConsumer({
      bus: deps.bus,
      dataSource,
      treasury,
      groupId: consumerGroupId,
      topicName,
      metrics: busMetrics,
      onResult: (result, envelope) => deps.logger.info({ eventId: envelope.id, type: envelope.type, result }, 'treasury transfer chain outcome handled'),
    });
    cleanups.push(() => treasurySubscription.stop());
    if (deps.treasury) {
      let monitoring = false;
      const monitorTimer = setInterval(() => {
        if (monitoring) return;
        monitoring = true;
        treasury
          .tick()
          .catch((err: unknown) => deps.logger.error({ err, alert: 'treasury_round_failed' }, 'hot-wallet monitor round failed'))
          .finally(() => {
            monitoring = false;
          });
      }, Math.max(1_000, deps.treasury.intervalMs ?? 30_000));
      monitorTimer.unref();
      cleanups.push(async () => clearInterval(monitorTimer));
    } else {
      deps.logger.warn({ alert: 'policy_no_hot_wallet_monitor' }, 'no wallet balance source: the hot-wallet cap is not monitored (no automatic sweeps, no breach pause)');
    }

    // Staged activations (policy-bundle CLI): verified here, swapped between messages.
    let polling = false;
    const bundleTimer = setInterval(() => {
      if (polling) return;
      polling = true;
      bundles
        .activateStaged()
        .then((r) => {
          if (r?.activated) deps.logger.info({ requestId: r.id, bundleDigest: r.digest, outcome: r.reason }, 'policy bundle activated');
          else if (r) deps.logger.error({ alert: 'policy_bundle_refused', requestId: r.id, bundleDigest: r.digest, reason: r.reason, activeDigest: bundles.activeDigest }, 'policy bundle activation refused; the active bundle stays');
        })
        .catch((err: unknown) => deps.logger.warn({ err }, 'staged bundle check failed'))
        .finally(() => {
          polling = false;
        });
    }, deps.bundlePollIntervalMs ?? 5_000);
    bundleTimer.unref();
    cleanups.push(async () => clearInterval(bundleTimer));

    const expiryTimer = setInterval(() => {
      expirePending(store, clock).then(
        (n) => n > 0 && deps.logger.info({ expired: n }, 'approval requests expired'),
        (err: unknown) => deps.logger.warn({ err }, 'approval expiry sweep failed'),
      );
    }, deps.expiryPollIntervalMs ?? 30_000);
    expiryTimer.unref();
    cleanups.push(async () => clearInterval(expiryTimer));

    const server = new GrpcServer({
      ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
      port: deps.grpc.port,
      credentials: deps.grpc.credentials,
      ...(deps.grpc.allowedCallers ? { allowedCallers: deps.grpc.allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
      packageDefinition: loadPackageDefinition(),
      services: [
        {
          // operators vote with Ed25519 signatures (operator ingress): not subject to allowedCallers
          operatorFacing: true,
          definition: ApprovalServiceService,
          implementation: createApprovalService({ decisions, logger: deps.logger, ...(deps.operatorAudit ? { audit: deps.operatorAudit } : {}) }) as never,
        },
      ],
    });
    const grpcPort = await server.start();
    cleanups.push(() => server.shutdown(2_000));
    if (!deps.operatorAudit) deps.logger.warn({ alert: 'policy_approvals_not_audited' }, 'no operator audit gate: approvals are applied without an audit record (dev/test composition only)');

    return { grpcPort, dataSource, bundles, decisions, store, treasury, registry, ...(metricsUrl ? { metricsUrl } : {}), stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Topic namer that prefixes every topic (test isolation). */
export function prefixedTopics(prefix: string): TopicNamer {
  return (topic: Topic) => `${prefix}${topic}`;
}
