// The composition root: the only place adapters are wired to ports. `startLedger` in
// index.ts is the entry point both main.ts and the embedded deployment use.
import { CreateEventBusTables1795478400000, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import { loadPackageDefinition } from '@custody/contracts';
import { GrpcServer, createServiceDataSource, logCallerDenied, type CallerRule, type DatabaseConnection, type GrpcServerCredentials, type Logger } from '@custody/platform';
import type { DataSource } from 'typeorm';
import { LEDGER_CONSUMER_GROUPS } from './consumer-groups.js';
import { LedgerPostings, type PostingOutcome } from './application/postings.js';
import type { Clock } from './application/ports.js';
import { LedgerQueries } from './application/queries.js';
import { LiabilitiesProofs } from './application/liabilities.js';
import { LedgerStatements } from './application/statements.js';
import { LedgerServiceService, createLedgerService, type TransferBookingReader } from './adapters/grpc/ledger-service.js';
import type { OperatorAuthenticator } from './adapters/grpc/ledger-reports.js';
import { CreateLiabilitiesSnapshots1795910400000, LIABILITIES_ENTITIES } from './adapters/persistence/liabilities-schema.js';
import { PostgresLiabilitiesStore } from './adapters/persistence/postgres-liabilities-store.js';
import { PostgresStatementReader } from './adapters/persistence/postgres-statement-reader.js';
import { identityTopics, startLedgerConsumer, type TopicNamer } from './adapters/kafka/ledger-consumer.js';
import { PostgresLedgerStore } from './adapters/persistence/postgres-ledger-store.js';
import { CreateLedgerTables1795737600000, LEDGER_ENTITIES as BOOK_ENTITIES, PerWalletCustodialAccounts1796256000000 } from './adapters/persistence/schema.js';
import { OutboxRelay, PostgresOutboxStore } from '@custody/event-bus';
import { createMetrics } from '@custody/platform';
import type { Registry } from 'prom-client';
import { Reconciler, type ChainSnapshotSource, type ReconciliationTarget } from './application/reconciliation.js';
import { createReconcileHandler } from './adapters/grpc/reconcile-rpc.js';
import { PostgresReconciliationStore } from './adapters/persistence/postgres-reconciliation-store.js';
import { CreateReconciliationRuns1796169600000, RECONCILIATION_ENTITIES } from './adapters/persistence/reconciliation-schema.js';
import { createReconciliationMetrics } from './adapters/reconciliation-metrics.js';
import { PostgresTransferStore } from './adapters/persistence/postgres-transfer-store.js';
import { TRANSFER_ENTITIES, TreasuryTransfers1796342400000 } from './adapters/persistence/transfer-schema.js';

export const LEDGER_MIGRATIONS = [
  CreateLedgerTables1795737600000,
  CreateEventBusTables1795478400000,
  CreateLiabilitiesSnapshots1795910400000,
  CreateReconciliationRuns1796169600000,
  PerWalletCustodialAccounts1796256000000,
  TreasuryTransfers1796342400000,
];
export const LEDGER_ENTITIES = [...BOOK_ENTITIES, ...LIABILITIES_ENTITIES, ...RECONCILIATION_ENTITIES, ...TRANSFER_ENTITIES];

/** Fee asset per chain (the asset tx.status fee_paid is denominated in). */
export const DEFAULT_FEE_ASSETS: Readonly<Record<string, string>> = Object.freeze({ bitcoin: 'BTC', ethereum: 'ETH' });

export interface LedgerDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection. Migrations are run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly feeAssets?: Readonly<Record<string, string>>;
  /** Topic names (tests add a prefix). */
  readonly topicName?: TopicNamer;
  readonly consumerGroupId?: string;
  readonly poolSize?: number;
  /** Absent: no gRPC read API. */
  readonly grpc?: {
    readonly host?: string;
    readonly port: number;
    readonly credentials: GrpcServerCredentials;
    /** Client certificates allowed to call (CUSTODY_GRPC_ALLOWED_CALLERS); undefined: any of the client CA. */
    readonly allowedCallers?: readonly CallerRule[];
    /** Who may build liabilities snapshots (default: the mTLS client certificate CN). */
    readonly operator?: OperatorAuthenticator;
  };
  /** Told the outcome of every posting event (metrics, tests). */
  readonly onPosted?: (envelope: Envelope, outcome: PostingOutcome | 'duplicate') => void;
  /** Reconciliation with the chain (C-8.2.3-d); absent: none (Reconcile answers UNIMPLEMENTED). */
  readonly reconciliation?: {
    readonly targets: readonly ReconciliationTarget[];
    /** The chain-adapters' ChainQueryService (adapters/grpc/chain-query-client.ts). */
    readonly source: ChainSnapshotSource;
    /** Period of the job; 0 = no timer (Reconcile RPC and tests only). */
    readonly intervalMs: number;
  };
  readonly registry?: Registry;
  readonly outboxPollIntervalMs?: number;
}

export interface LedgerHandle {
  readonly grpcPort?: number;
  readonly dataSource: DataSource;
  readonly store: PostgresLedgerStore;
  readonly postings: LedgerPostings;
  readonly registry: Registry;
  /** Present when `reconciliation` was given. */
  readonly reconciler?: Reconciler;
  readonly reconciliationStore: PostgresReconciliationStore;
  /** A treasury transfer's booking (what GetTransferBooking answers; undefined: not known). */
  transferBooking: TransferBookingReader;
  stop(): Promise<void>;
}

export async function composeLedger(deps: LedgerDeps): Promise<LedgerHandle> {
  const clock = deps.clock ?? { now: () => new Date() };
  const dataSource = createServiceDataSource({ service: 'ledger', ...deps.database, entities: LEDGER_ENTITIES, poolSize: deps.poolSize ?? 20 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'ledger shutdown step failed'));
  };
  try {
    const store = new PostgresLedgerStore(dataSource, () => clock.now());
    // Fail closed: a runtime role that could rewrite the journal or balances must not post.
    const excess = await store.excessPrivileges();
    if (excess.length > 0) {
      throw new Error(`ledger: the runtime database role holds privileges the books forbid (${excess.join(', ')}); revoke them (docs/ledger.md)`);
    }
    const feeAssets = deps.feeAssets ?? DEFAULT_FEE_ASSETS;
    const postings = new LedgerPostings({ store, feeAssetOf: (chain) => feeAssets[chain], transfers: new PostgresTransferStore() });
    const transferBooking: TransferBookingReader = (transferId) => new PostgresTransferStore().booking(transferId, dataSource.manager);
    const subscription: Subscription = await startLedgerConsumer({
      bus: deps.bus,
      dataSource,
      postings,
      groupId: deps.consumerGroupId ?? LEDGER_CONSUMER_GROUPS[0],
      topicName: deps.topicName ?? identityTopics,
      onFailure: (envelope, err) => deps.logger.warn({ err, eventId: envelope.id, type: envelope.type }, 'posting failed; will retry'),
      onPosted: (envelope, outcome: PostingOutcome | 'duplicate') => {
        if (outcome === 'rejected-insufficient-funds' || outcome === 'settle-refused-insufficient-funds' || outcome === 'deposit-reversal-refused') {
          deps.logger.warn({ eventId: envelope.id, type: envelope.type, outcome }, 'posting refused: a balance would go negative');
        }
        deps.onPosted?.(envelope, outcome);
      },
    });
    cleanups.push(() => subscription.stop());

    // Events out (incident.raised) through the outbox.
    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      bus: deps.bus,
      pollIntervalMs: deps.outboxPollIntervalMs ?? 200,
      onError: (err) => deps.logger.warn({ err }, 'outbox relay error'),
    });
    relay.start();
    cleanups.push(() => relay.stop());
    const registry = deps.registry ?? createMetrics('ledger');
    const reconciliationStore = new PostgresReconciliationStore(dataSource, deps.topicName ?? identityTopics);
    let reconciler: Reconciler | undefined;
    if (deps.reconciliation) {
      const metrics = createReconciliationMetrics(registry, deps.reconciliation.targets.map((t) => t.asset));
      reconciler = new Reconciler({
        targets: deps.reconciliation.targets,
        source: deps.reconciliation.source,
        store: reconciliationStore,
        clock,
        hooks: {
          onRun: (run) => {
            metrics.record(run);
            if (run.outcome === 'DRIFT') deps.logger.error({ asset: run.asset, runId: run.runId, incidentId: run.incidentId, unexplained: run.classification?.unexplained.toString() }, 'reconciliation: unexplained drift');
          },
          onFailure: (asset, err) => deps.logger.error({ asset, err }, 'reconciliation run failed: no chain snapshot compared'),
        },
      });
      const job = reconciler;
      if (deps.reconciliation.intervalMs > 0) {
        const timer = setInterval(() => void job.runOnce().catch((err: unknown) => deps.logger.error({ err }, 'reconciliation job failed')), deps.reconciliation.intervalMs);
        timer.unref();
        cleanups.push(async () => clearInterval(timer));
      }
    }
    const reconcileHandlers = reconciler ? createReconcileHandler({ reconciler, logger: deps.logger }) : {};

    let grpcPort: number | undefined;
    if (deps.grpc) {
      const server = new GrpcServer({
        ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
        port: deps.grpc.port,
        credentials: deps.grpc.credentials,
        ...(deps.grpc.allowedCallers ? { allowedCallers: deps.grpc.allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
        packageDefinition: loadPackageDefinition(),
        services: [
          {
            definition: LedgerServiceService,
            implementation: {
              ...reconcileHandlers,
              ...createLedgerService({
                queries: new LedgerQueries(store),
                transferBooking,
                statements: new LedgerStatements(new PostgresStatementReader(dataSource)),
                liabilities: new LiabilitiesProofs({ store: new PostgresLiabilitiesStore(dataSource), clock: () => clock.now() }),
                ...(deps.grpc.operator ? { operator: deps.grpc.operator } : {}),
                logger: deps.logger,
                clock: () => clock.now(),
              }),
            } as never,
          },
        ],
      });
      grpcPort = await server.start();
      cleanups.push(() => server.shutdown(2_000));
    }
    return { ...(grpcPort === undefined ? {} : { grpcPort }), dataSource, store, postings, registry, ...(reconciler ? { reconciler } : {}), reconciliationStore, transferBooking, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Topic namer that prefixes every topic (test isolation). */
export function prefixedTopics(prefix: string): TopicNamer {
  return (topic) => `${prefix}${topic}`;
}
