// The only place that wires risk adapters to ports (Postgres store, HTTP provider, Kafka
// consumers, outbox relay, gRPC case, screening-list and customer-profile services). Plain composition: the service has no
// request-scoped providers, so a Nest container would add nothing but indirection.
import type { DataSource } from 'typeorm';
import { OutboxRelay, PostgresOutboxStore, type BusMetrics, type EventBus, type Subscription } from '@custody/event-bus';
import { loadPackageDefinition } from '@custody/contracts';
import {
  createBusMetrics,
  createMetrics,
  createServiceDataSource,
  GrpcServer,
  logCallerDenied,
  provisionServiceDatabase,
  runMigrations,
  startMetricsServer,
  type CallerRule,
  type GrpcServerCredentials,
  type Logger,
  type OperatorAuditGate,
} from '@custody/platform';
import type { Registry } from 'prom-client';
import { RISK_CONSUMER_GROUPS } from './consumer-groups.js';
import { addInternalEntry, recordCustomerProfile, removeInternalEntry, type AddInternalEntry } from './application/admin.js';
import { getCustomerProfile, type CustomerAdminDeps } from './application/customer-admin.js';
import { importList, type ImportResult } from './application/import-list.js';
import type { ListAdminDeps } from './application/list-admin.js';
import { checkOwnAddresses, type OwnAddress, type OwnAddressFinding } from './application/own-addresses.js';
import type { AddressRiskProvider, Clock, InternalListEntry } from './application/ports.js';
import { SanctionsIndex } from './application/sanctions-index.js';
import type { ScreeningSettings } from './application/screen-transfer.js';
import { caseServiceDefinition, caseServiceImplementation, CASE_SERVICE_NAME, type OperatorAuthenticator } from './adapters/grpc/case-service.js';
import { customerProfileServiceDefinition, customerProfileServiceImplementation, CUSTOMER_PROFILE_SERVICE_NAME } from './adapters/grpc/customer-profile-service.js';
import { screeningListServiceDefinition, screeningListServiceImplementation, SCREENING_LIST_SERVICE_NAME } from './adapters/grpc/list-service.js';
import { subscribeScreening } from './adapters/kafka/consumers.js';
import { createRiskMetrics } from './adapters/metrics.js';
import { OFAC_SDN_SOURCE, parseOfac } from './adapters/lists/ofac.js';
import { RISK_ENTITIES } from './adapters/persistence/entities.js';
import { RISK_MIGRATIONS } from './adapters/persistence/migrations.js';
import { PgRiskStore } from './adapters/persistence/pg-risk-store.js';
import type { CustomerProfileRecord } from './domain/customer-profile.js';
import { RiskError } from './domain/errors.js';
import type { CustomerProfile } from './domain/screening.js';

export const RISK_SERVICE = 'risk';
/** Default gRPC request size limit: room for the published OFAC files (sdn_advanced.xml is the largest). */
export const DEFAULT_GRPC_MAX_RECEIVE_BYTES = 256 * 1024 * 1024;

export interface RiskTopics {
  readonly withdrawalRequested: string;
  readonly depositDetected: string;
  readonly riskAssessed: string;
}

export interface StartRiskDeps {
  readonly bus: EventBus;
  readonly database: { readonly adminUrl: string; readonly ownerPassword: string; readonly appPassword: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly settings: Omit<ScreeningSettings, 'listSource' | 'maxDepositSources'> & Partial<Pick<ScreeningSettings, 'maxDepositSources'>>;
  readonly provider?: AddressRiskProvider | undefined;
  /** gRPC CaseService and ScreeningListService (operators only); omitted = not served. */
  readonly grpc?:
    | {
        readonly port: number;
        readonly host?: string;
        readonly credentials: GrpcServerCredentials;
        readonly authenticate: OperatorAuthenticator;
        /** CUSTODY_GRPC_ALLOWED_CALLERS; both services are operator-facing (exempt), so it guards reflection only today. */
        readonly allowedCallers?: readonly CallerRule[];
        /** Largest request accepted (an OFAC file in ImportOfacList); default DEFAULT_GRPC_MAX_RECEIVE_BYTES. */
        readonly maxReceiveMessageBytes?: number;
      }
    | undefined;
  /**
   * Operator audit gate (AuditService/RecordOperatorAction): every operator admin action
   * (UpsertCustomerProfile, ImportOfacList, Add/RemoveInternalEntry, ImportInternalEntries,
   * ResolveCase) is recorded there first and refused (AUDIT_UNAVAILABLE) when it does not commit. Omitted =
   * applied unaudited (dev/test compositions only; logged).
   */
  readonly operatorAudit?: OperatorAuditGate | undefined;
  readonly topics?: Partial<RiskTopics>;
  readonly consumerGroup?: string;
  readonly relayPollIntervalMs?: number;
  readonly poolSize?: number;
  /**
   * Prometheus: the registry (default a new `createMetrics('risk')`), the bus hooks already
   * given to the bus (default made on the registry), and the /metrics port (none: not served).
   */
  readonly metrics?: { readonly registry?: Registry; readonly busMetrics?: BusMetrics; readonly port?: number; readonly host?: string };
}

export interface RiskService {
  readonly grpcPort?: number;
  /** Imports an OFAC SDN file (any published format); versioned, diffed, audited. */
  importOfac(text: string, importedBy: string): Promise<ImportResult>;
  addInternalEntry(cmd: AddInternalEntry): Promise<InternalListEntry>;
  removeInternalEntry(id: string, by: string, why: string): Promise<boolean>;
  /** In-process, unconditional (version + 1); operators use CustomerProfileService (versioned, audited first). */
  recordCustomerProfile(profile: CustomerProfile, by: string): Promise<void>;
  /** The stored profile with its version; undefined when the customer has none. */
  getCustomerProfile(customerAccount: string): Promise<CustomerProfileRecord | undefined>;
  /** C-8.3.4-c: checks own addresses; flagged ones get a remediation case. Run it on a schedule. */
  checkOwnAddresses(addresses: readonly OwnAddress[], by: string): Promise<OwnAddressFinding[]>;
  /** The runtime (app-role) data source, for read-only inspection in tests and tools. */
  readonly dataSource: DataSource;
  readonly registry: Registry;
  /** The /metrics server's URL when a metrics port was given. */
  readonly metricsUrl?: string;
  stop(): Promise<void>;
}

const systemClock: Clock = { now: () => new Date() };

export async function wireRisk(deps: StartRiskDeps): Promise<RiskService> {
  const log = deps.logger.child({ component: RISK_SERVICE });
  const clock = deps.clock ?? systemClock;
  const stack: Array<() => Promise<void>> = [];
  const stop = async (): Promise<void> => {
    for (const step of stack.reverse()) await step().catch((err: unknown) => log.error({ err }, 'risk shutdown step failed'));
    stack.length = 0;
  };
  try {
    const roles = await provisionServiceDatabase(deps.database.adminUrl, { service: RISK_SERVICE, ownerPassword: deps.database.ownerPassword, appPassword: deps.database.appPassword });
    const url = (role: string, password: string): string => {
      const u = new URL(deps.database.adminUrl);
      u.username = role;
      u.password = password;
      u.pathname = `/${roles.database}`;
      return u.toString();
    };
    const owner = createServiceDataSource({ url: url(roles.ownerRole, deps.database.ownerPassword), service: RISK_SERVICE, entities: RISK_ENTITIES, migrations: RISK_MIGRATIONS });
    await owner.initialize();
    try {
      await runMigrations(owner);
    } finally {
      await owner.destroy();
    }
    const ds = createServiceDataSource({ url: url(roles.appRole, deps.database.appPassword), service: RISK_SERVICE, entities: RISK_ENTITIES, poolSize: deps.poolSize ?? 20 });
    await ds.initialize();
    stack.push(async () => void (await ds.destroy()));

    const topics: RiskTopics = {
      withdrawalRequested: deps.topics?.withdrawalRequested ?? 'custody.withdrawal.requested.v1',
      depositDetected: deps.topics?.depositDetected ?? 'custody.deposit.detected.v1',
      riskAssessed: deps.topics?.riskAssessed ?? 'custody.risk.assessed.v1',
    };
    const store = new PgRiskStore(ds, { assessedTopic: topics.riskAssessed });
    const index = new SanctionsIndex(store, OFAC_SDN_SOURCE);
    const persisted = await store.current(OFAC_SDN_SOURCE);
    await index.ensure(persisted?.version);

    const consumerGroup = deps.consumerGroup ?? RISK_CONSUMER_GROUPS[0];
    const registry = deps.metrics?.registry ?? createMetrics(RISK_SERVICE);
    const metrics = createRiskMetrics(registry);
    metrics.listUpdated(OFAC_SDN_SOURCE, persisted?.checkedAt);
    const busMetrics = deps.metrics?.busMetrics ?? createBusMetrics(registry, { topics: Object.values(topics), groups: [consumerGroup] });
    let metricsUrl: string | undefined;
    if (deps.metrics?.port !== undefined) {
      const metricsServer = await startMetricsServer({ registry, port: deps.metrics.port, ...(deps.metrics.host ? { host: deps.metrics.host } : {}) });
      metricsUrl = metricsServer.url;
      stack.push(() => metricsServer.close());
    }

    const relay = new OutboxRelay({ store: new PostgresOutboxStore(ds), bus: deps.bus, pollIntervalMs: deps.relayPollIntervalMs ?? 100, metrics: busMetrics, onError: (err) => log.warn({ err }, 'outbox relay error') });
    relay.start();
    stack.push(() => relay.stop());

    const settings: ScreeningSettings = { maxDepositSources: 20, ...deps.settings, listSource: OFAC_SDN_SOURCE };
    const subscription: Subscription = await subscribeScreening(
      { uow: store, sanctions: index, provider: deps.provider, clock, settings, consumerGroup },
      { bus: deps.bus, groupId: consumerGroup, topics: { withdrawalRequested: topics.withdrawalRequested, depositDetected: topics.depositDetected }, metrics: busMetrics },
    );
    stack.push(() => subscription.stop());

    const logImport = (result: ImportResult, importedBy: string): void => {
      metrics.listUpdated(OFAC_SDN_SOURCE, result.importedAt);
      log.info({ version: result.version, changed: result.changed, added: result.added.length, removed: result.removed.length, entries: result.entryCount, importedBy }, 'sanctions list imported');
    };
    const listAdmin: ListAdminDeps = { lists: store, internal: store, clock, index, parse: parseOfac, source: OFAC_SDN_SOURCE, maxAgeSeconds: settings.listMaxAgeSeconds, onImported: logImport, audit: deps.operatorAudit };

    const customerAdmin: CustomerAdminDeps = { customers: store, clock, audit: deps.operatorAudit };

    let grpcPort: number | undefined;
    if (deps.grpc) {
      if (!deps.operatorAudit) log.warn({ alert: 'risk_admin_not_audited' }, 'no operator audit gate: operator admin actions (profile upserts, list imports and entries, case resolutions) are applied without an audit record (dev/test composition only)');
      const server = new GrpcServer({
        host: deps.grpc.host ?? '127.0.0.1',
        port: deps.grpc.port,
        services: [
          { name: CASE_SERVICE_NAME, operatorFacing: true, definition: caseServiceDefinition(), implementation: caseServiceImplementation({ uow: store, cases: store, clock, audit: deps.operatorAudit }, deps.grpc.authenticate, (err) => log.warn({ err }, 'CaseService call failed')) },
          { name: SCREENING_LIST_SERVICE_NAME, operatorFacing: true, definition: screeningListServiceDefinition(), implementation: screeningListServiceImplementation(listAdmin, deps.grpc.authenticate, (err) => log.warn({ err }, 'ScreeningListService call failed')) },
          { name: CUSTOMER_PROFILE_SERVICE_NAME, operatorFacing: true, definition: customerProfileServiceDefinition(), implementation: customerProfileServiceImplementation(customerAdmin, deps.grpc.authenticate, (err) => log.warn({ err }, 'CustomerProfileService call failed')) },
        ],
        serverOptions: { 'grpc.max_receive_message_length': deps.grpc.maxReceiveMessageBytes ?? DEFAULT_GRPC_MAX_RECEIVE_BYTES },
        packageDefinition: loadPackageDefinition(),
        credentials: deps.grpc.credentials,
        ...(deps.grpc.allowedCallers ? { allowedCallers: deps.grpc.allowedCallers, onCallerDenied: logCallerDenied(log) } : {}),
        shutdownGraceMs: 2_000,
      });
      grpcPort = await server.start();
      stack.push(async () => void (await server.shutdown()));
    }

    log.info({ listVersion: index.loadedVersion ?? null, listEntries: index.size, grpcPort: grpcPort ?? null }, 'risk service started');
    return {
      ...(grpcPort === undefined ? {} : { grpcPort }),
      dataSource: ds,
      registry,
      ...(metricsUrl ? { metricsUrl } : {}),
      importOfac: async (text, importedBy) => {
        const result = await importList({ lists: store, clock, index }, parseOfac(text), importedBy);
        logImport(result, importedBy);
        return result;
      },
      addInternalEntry: (cmd) => addInternalEntry({ internal: store, clock }, cmd),
      removeInternalEntry: (id, by, why) => removeInternalEntry({ internal: store, clock }, id, by, why),
      recordCustomerProfile: (profile, by) => recordCustomerProfile({ customers: store, clock }, profile, by),
      getCustomerProfile: (customerAccount) => getCustomerProfile(customerAdmin, customerAccount).catch((err: unknown) => {
        if (err instanceof RiskError && err.riskCode === 'PROFILE_NOT_FOUND') return undefined;
        throw err;
      }),
      checkOwnAddresses: async (addresses, by) => {
        await index.ensure((await store.current(OFAC_SDN_SOURCE))?.version);
        const found = await checkOwnAddresses({ uow: store, sanctions: index, clock, provider: deps.provider, settings }, addresses, by);
        for (const f of found) if (f.caseId) log.warn({ caseId: f.caseId, reasons: f.reasons.map((r) => r.code) }, 'own address flagged: remediation case opened');
        return found;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
