// The composition root: the only place adapters are wired to ports. Plain TypeScript, like
// intake's; `startSigner` in index.ts is the entry point main.ts and the embedded
// deployment use.
import { Topics, loadPackageDefinition, type Topic } from '@custody/contracts';
import { CreateEventBusTables1795478400000, OutboxRelay, PostgresOutboxStore, type BusMetrics, type EventBus, type Subscription } from '@custody/event-bus';
import { GrpcServer, createServiceDataSource, logCallerDenied, parseCallerRules, type CallerRule, type DatabaseConnection, type GrpcServerCredentials, type Logger, type OperatorAuditGate } from '@custody/platform';
import { SIGNER_CONSUMER_GROUPS } from './consumer-groups.js';
import { DeriveDepositAddress } from './application/deposit-addresses.js';
import { assertDepositXpub, type DepositXpub } from './domain/deposit-address.js';
import { DepositAddressServiceService, createDepositAddressService } from './adapters/grpc/deposit-address-service.js';
import { KeyAdminServiceService, createKeyAdminService } from './adapters/grpc/key-admin-service.js';
import { CreateDepositAddressTables1795737600000 } from './adapters/persistence/deposit-address-schema.js';
import { PostgresDepositAddressStore } from './adapters/persistence/postgres-deposit-address-store.js';
import type { DataSource } from 'typeorm';
import type { KeyCustody } from './application/key-custody.js';
import { KeyLifecycle, type QuorumRule } from './application/key-lifecycle.js';
import type { Clock } from './application/ports.js';
import { SignTransaction, type AssetProfile } from './application/sign-transaction.js';
import type { Operator } from './domain/operators.js';
import type { RefusalCode } from './domain/refusal.js';
import { LocalSealedKeyCustody } from './adapters/custody/local-sealed.js';
import { Pkcs11KeyCustody, type Pkcs11Options } from './adapters/custody/pkcs11.js';
import { VaultKeyCustody } from './adapters/custody/vault.js';
import { identityTopics, type TopicNamer } from './adapters/events.js';
import { startTxPreparedConsumer } from './adapters/kafka/tx-prepared-consumer.js';
import { AddSignedPayload1795824000000, CreateSignerTables1795651200000, SIGNER_ENTITIES } from './adapters/persistence/schema.js';
import { PostgresKeyStore, PostgresSealedBlobStore, PostgresSigningStore } from './adapters/persistence/postgres-stores.js';

export const SIGNER_MIGRATIONS = [CreateSignerTables1795651200000, CreateEventBusTables1795478400000, CreateDepositAddressTables1795737600000, AddSignedPayload1795824000000];
export { SIGNER_ENTITIES };

export interface SignerDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection. Migrations are run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly trustedPolicyKeys: ReadonlyMap<string, Uint8Array>;
  readonly operators: ReadonlyMap<string, Operator>;
  readonly assets: ReadonlyMap<string, AssetProfile>;
  readonly adminRoles?: readonly string[];
  readonly adminQuorum?: QuorumRule;
  readonly bundleDigests?: readonly string[];
  /** Local sealed store (embedded default): 32-byte master key and its id. */
  readonly localSealed?: { readonly masterKey: Uint8Array; readonly kekId: string };
  readonly pkcs11?: Pkcs11Options;
  /** Vault/OpenBao transit (token never logged). */
  readonly vault?: { readonly address: string; readonly token: string; readonly transitMount?: string; readonly kekName?: string };
  readonly topicName?: TopicNamer;
  readonly consumerGroupId?: string;
  readonly outboxPollIntervalMs?: number;
  /** Signing latency and refusals by reason (metrics adapter). */
  readonly onOutcome?: (outcome: { kind: 'signed' | 'refused' | 'duplicate'; code?: RefusalCode; chain?: string; seconds: number }) => void;
  /** Event-bus metrics hooks (the ones given to the bus): outbox lag and dead letters. */
  readonly busMetrics?: BusMetrics;
  /**
   * The signer's gRPC server (DepositAddressService). Absent = no server. Host defaults
   * to 127.0.0.1; production uses TLS with required client certificates (mTLS).
   */
  readonly grpc?: {
    readonly host?: string;
    readonly port: number;
    readonly credentials: GrpcServerCredentials;
    /**
     * Client certificates allowed to call DepositAddressService (intake's): `sha256:<hex>`,
     * `dns:<SAN>`, `uri:<SAN>` or `cn:<CN>`. Required with TLS credentials (startup fails
     * without it); other CA-valid certificates get PERMISSION_DENIED CALLER_NOT_ALLOWED
     * (the platform's GrpcServer `allowedCallers`; health stays open).
     */
    readonly allowedCallers?: readonly string[];
  };
  /** Account-level xpubs per asset for deposit addresses (public data only). */
  readonly depositXpubs?: ReadonlyMap<string, DepositXpub>;
  /**
   * The operators' KeyAdminService, on its own server and port (never the
   * DepositAddressService's). Absent = no admin API. Host defaults to 127.0.0.1; production uses mTLS.
   */
  readonly adminGrpc?: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials };
  /**
   * KeyAdminService state changes (generate, lifecycle, backup, restore) are recorded by the
   * audit service before they are applied; if it does not record them they are refused
   * (UNAVAILABLE, AUDIT_UNAVAILABLE). main.ts always passes one (gRPC to audit, or a refusing
   * gate without an endpoint); an in-process composition passes the audit handle's `gate`.
   * Absent: unaudited (logged at start when the admin API is served).
   */
  readonly operatorAudit?: OperatorAuditGate;
  /**
   * The main gRPC port (CUSTODY_GRPC_HOST/PORT, TLS from CUSTODY_GRPC_TLS*): grpc.health.v1
   * only (no application service), for the chart's exec probe. Started last, so SERVING
   * means the database, the key custodies and the tx.prepared consumer are up; stopped
   * first (NOT_SERVING) on shutdown. main.ts always sets it.
   */
  readonly healthGrpc?: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials; readonly allowedCallers?: readonly CallerRule[] };
}

export interface SignerHandle {
  readonly dataSource: DataSource;
  readonly lifecycle: KeyLifecycle;
  readonly signTransaction: SignTransaction;
  readonly custody: ReadonlyMap<string, KeyCustody>;
  /** Bound port of the gRPC server (when `grpc` was given). */
  readonly grpcPort?: number;
  /** Bound port of the KeyAdminService server (when `adminGrpc` was given). */
  readonly adminGrpcPort?: number;
  /** Bound port of the health-only server (when `healthGrpc` was given). */
  readonly healthGrpcPort?: number;
  stop(): Promise<void>;
}

export async function composeSigner(deps: SignerDeps): Promise<SignerHandle> {
  const clock = deps.clock ?? { now: () => new Date() };
  const topicName = deps.topicName ?? identityTopics;
  const dataSource = createServiceDataSource({ service: 'signer', ...deps.database, entities: SIGNER_ENTITIES, poolSize: 10 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'signer shutdown step failed'));
  };
  try {
    const custody = new Map<string, KeyCustody>();
    if (deps.localSealed) {
      const local = new LocalSealedKeyCustody({ ...deps.localSealed, store: new PostgresSealedBlobStore(dataSource) });
      custody.set(local.kind, local);
      cleanups.push(() => local.close());
    }
    if (deps.pkcs11) {
      const hsm = await Pkcs11KeyCustody.open(deps.pkcs11);
      custody.set(hsm.kind, hsm);
      cleanups.push(() => hsm.close());
    }
    if (deps.vault) {
      const vault = await VaultKeyCustody.open({ ...deps.vault, store: new PostgresSealedBlobStore(dataSource) });
      custody.set(vault.kind, vault);
      cleanups.push(() => vault.close());
    }
    if (custody.size === 0) throw new Error('signer: no key custody configured (localSealed, pkcs11 and/or vault)');

    const groupId = deps.consumerGroupId ?? SIGNER_CONSUMER_GROUPS[0];
    const signTransaction = new SignTransaction({
      store: new PostgresSigningStore(dataSource, topicName, groupId),
      custody,
      clock,
      trustedPolicyKeys: deps.trustedPolicyKeys,
      operators: deps.operators,
      assets: deps.assets,
      ...(deps.bundleDigests ? { bundleDigests: deps.bundleDigests } : {}),
      onOutcome: (o) => {
        if (o.kind === 'refused') deps.logger.warn({ reason: o.code }, 'signing refused');
        deps.onOutcome?.(o);
      },
    });
    const keyStore = new PostgresKeyStore(dataSource, topicName);
    const lifecycle = new KeyLifecycle({
      store: keyStore,
      adminStore: keyStore,
      custody,
      clock,
      operators: deps.operators,
      adminRoles: deps.adminRoles ?? ['key_custodian', 'security_officer'],
      ...(deps.adminQuorum ? { quorum: deps.adminQuorum } : {}),
    });

    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      bus: deps.bus,
      pollIntervalMs: deps.outboxPollIntervalMs ?? 200,
      ...(deps.busMetrics ? { metrics: deps.busMetrics } : {}),
      onError: (err) => deps.logger.warn({ err }, 'outbox relay error'),
    });
    relay.start();
    cleanups.push(() => relay.stop());

    const subscription: Subscription = await startTxPreparedConsumer({ bus: deps.bus, useCase: signTransaction, groupId, topicName, ...(deps.busMetrics ? { metrics: deps.busMetrics } : {}) });
    cleanups.push(() => subscription.stop());

    let grpcPort: number | undefined;
    if (deps.grpc) {
      // mTLS proves the CA, the allow-list names the caller: TLS without one fails closed at startup.
      if (deps.grpc.credentials.kind === 'tls' && (deps.grpc.allowedCallers ?? []).length === 0) {
        throw new Error('the signer gRPC server needs grpc.allowedCallers (which client certificates may call it) with TLS');
      }
      const allowedCallers = deps.grpc.allowedCallers === undefined ? undefined : parseCallerRules(deps.grpc.allowedCallers);
      const xpubs = deps.depositXpubs ?? new Map<string, DepositXpub>();
      for (const source of xpubs.values()) assertDepositXpub(source);
      const depositAddresses = new DeriveDepositAddress({ store: new PostgresDepositAddressStore(dataSource, () => clock.now()), xpubs });
      const server = new GrpcServer({
        ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
        port: deps.grpc.port,
        credentials: deps.grpc.credentials,
        packageDefinition: loadPackageDefinition(),
        services: [{ definition: DepositAddressServiceService, implementation: createDepositAddressService({ useCase: depositAddresses, logger: deps.logger }) as never }],
        ...(allowedCallers ? { allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
      });
      grpcPort = await server.start();
      cleanups.push(() => server.shutdown(2_000));
    }

    let adminGrpcPort: number | undefined;
    if (deps.adminGrpc) {
      if (!deps.operatorAudit) deps.logger.warn({ alert: 'signer_key_admin_not_audited' }, 'no operator audit gate: key admin actions are applied without an audit record (dev/test composition only)');
      const adminServer = new GrpcServer({
        ...(deps.adminGrpc.host ? { host: deps.adminGrpc.host } : {}),
        port: deps.adminGrpc.port,
        credentials: deps.adminGrpc.credentials,
        packageDefinition: loadPackageDefinition(),
        services: [{ definition: KeyAdminServiceService, implementation: createKeyAdminService({ lifecycle, logger: deps.logger, now: () => clock.now(), ...(deps.operatorAudit ? { audit: deps.operatorAudit } : {}) }) as never }],
      });
      adminGrpcPort = await adminServer.start();
      cleanups.push(() => adminServer.shutdown(2_000));
    }

    // Last: SERVING only once everything above is up; its cleanup runs first (NOT_SERVING, then the rest stops).
    let healthGrpcPort: number | undefined;
    if (deps.healthGrpc) {
      const healthServer = new GrpcServer({
        ...(deps.healthGrpc.host ? { host: deps.healthGrpc.host } : {}),
        port: deps.healthGrpc.port,
        credentials: deps.healthGrpc.credentials,
        ...(deps.healthGrpc.allowedCallers ? { allowedCallers: deps.healthGrpc.allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
        packageDefinition: {},
        services: [],
      });
      healthGrpcPort = await healthServer.start();
      cleanups.push(() => healthServer.shutdown(2_000));
    }

    return {
      dataSource,
      lifecycle,
      signTransaction,
      custody,
      ...(grpcPort === undefined ? {} : { grpcPort }),
      ...(adminGrpcPort === undefined ? {} : { adminGrpcPort }),
      ...(healthGrpcPort === undefined ? {} : { healthGrpcPort }),
      stop: stopAll,
    };
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
