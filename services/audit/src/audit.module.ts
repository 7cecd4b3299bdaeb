// The composition root: the only place adapters are wired to ports. `startAudit` in
// index.ts is the entry point both main.ts and the embedded deployment use.
import { randomUUID } from 'node:crypto';
import { loadPackageDefinition } from '@custody/contracts';
import { CreateEventBusTables1795478400000, OutboxRelay, PostgresOutboxStore, type EventBus, type Subscription } from '@custody/event-bus';
import { GrpcServer, createServiceDataSource, logCallerDenied, type CallerRule, type DatabaseConnection, type GrpcServerCredentials, type Logger } from '@custody/platform';
import type { DataSource } from 'typeorm';
import { AUDIT_CONSUMER_GROUPS } from './consumer-groups.js';
import { AuditLog } from './application/audit-log.js';
import { Checkpointer } from './application/checkpoints.js';
import type { AuditGate } from './application/gate.js';
import type { CheckpointSigner, Clock } from './application/ports.js';
import { AuditQueries } from './application/query.js';
import { verifyChain } from './application/verification.js';
import type { VerificationReport } from './domain/verify.js';
import { AuditServiceService, createOperatorActionService } from './adapters/grpc/operator-action-service.js';
import { AuditQueryServiceService, createQueryService } from './adapters/grpc/query-service.js';
import { identityTopics, startAuditConsumer, type TopicNamer } from './adapters/kafka/audit-consumer.js';
import { PostgresAuditStore } from './adapters/persistence/postgres-audit-store.js';
import { AUDIT_ENTITIES, CreateAuditTables1795651200000 } from './adapters/persistence/schema.js';

export const AUDIT_MIGRATIONS = [CreateAuditTables1795651200000, CreateEventBusTables1795478400000];
export { AUDIT_ENTITIES };

export interface AuditDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection. Migrations are run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The audit service's checkpoint key (port). */
  readonly signer: CheckpointSigner;
  /** Trusted checkpoint public keys by key id (default: the signer's own key). */
  readonly trustedKeys?: ReadonlyMap<string, Uint8Array>;
  /** Absent: no gRPC server (embedded use without the query API). */
  /** allowedCallers: CUSTODY_GRPC_ALLOWED_CALLERS (AuditService's callers); AuditQueryService is operator-facing (exempt). */
  readonly grpc?: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials; readonly allowedCallers?: readonly CallerRule[] };
  /** Milliseconds between checkpoints (default 60 s; 0 disables the timer). */
  readonly checkpointIntervalMs?: number;
  /** Topic names (tests add a prefix). */
  readonly topicName?: TopicNamer;
  readonly consumerGroupId?: string;
  /** How often the outbox relay publishes custody.audit.recorded.v1 (default 200 ms). */
  readonly outboxPollIntervalMs?: number;
}

export interface AuditHandle {
  readonly grpcPort?: number;
  readonly dataSource: DataSource;
  /** For other services' operator use cases: record first, refuse if it cannot be written. */
  readonly gate: AuditGate;
  checkpoint(): ReturnType<Checkpointer['checkpoint']>;
  verify(): Promise<VerificationReport>;
  stop(): Promise<void>;
}

export async function composeAudit(deps: AuditDeps): Promise<AuditHandle> {
  const clock = deps.clock ?? { now: () => new Date() };
  const dataSource = createServiceDataSource({ service: 'audit', ...deps.database, entities: AUDIT_ENTITIES, poolSize: 10 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'audit shutdown step failed'));
  };
  try {
    const topicName = deps.topicName ?? identityTopics;
    const store = new PostgresAuditStore(dataSource, topicName);
    // Fail closed: a runtime role that could rewrite the log must not run the log.
    const excess = await store.excessPrivileges();
    if (excess.length > 0) {
      throw new Error(`audit: the runtime database role holds privileges an append-only log forbids (${excess.join(', ')}); revoke them (docs/audit.md)`);
    }
    const log = new AuditLog({ store, clock, newId: randomUUID });
    const gate: AuditGate = { record: (action) => log.recordOperatorAction(action) };
    const checkpointer = new Checkpointer({ store, signer: deps.signer, clock });
    const trustedKeys = deps.trustedKeys ?? new Map([[deps.signer.keyId, deps.signer.publicKey]]);

    const subscription: Subscription = await startAuditConsumer({
      bus: deps.bus,
      dataSource,
      log,
      groupId: deps.consumerGroupId ?? AUDIT_CONSUMER_GROUPS[0],
      topicName,
    });
    cleanups.push(() => subscription.stop());

    // custody.audit.recorded.v1: written to the outbox in the append's / checkpoint's
    // transaction, published from there (a crash in between loses nothing).
    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      bus: deps.bus,
      pollIntervalMs: deps.outboxPollIntervalMs ?? 200,
      onError: (err) => deps.logger.warn({ err }, 'audit outbox relay error'),
    });
    relay.start();
    cleanups.push(() => relay.stop());

    const interval = deps.checkpointIntervalMs ?? 60_000;
    if (interval > 0) {
      const timer = setInterval(() => {
        checkpointer.checkpoint().catch((err: unknown) => deps.logger.error({ err }, 'audit checkpoint failed'));
      }, interval);
      timer.unref();
      cleanups.push(async () => clearInterval(timer));
    }

    let grpcPort: number | undefined;
    if (deps.grpc) {
      const server = new GrpcServer({
        ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
        port: deps.grpc.port,
        credentials: deps.grpc.credentials,
        ...(deps.grpc.allowedCallers ? { allowedCallers: deps.grpc.allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
        packageDefinition: loadPackageDefinition(),
        services: [
          // operators (operatorIngress): not subject to allowedCallers
          { operatorFacing: true, definition: AuditQueryServiceService, implementation: createQueryService({ queries: new AuditQueries(store), logger: deps.logger }) as never },
          { definition: AuditServiceService, implementation: createOperatorActionService({ log, clock, logger: deps.logger }) as never },
        ],
      });
      grpcPort = await server.start();
      cleanups.push(() => server.shutdown(2_000));
    }

    return {
      ...(grpcPort === undefined ? {} : { grpcPort }),
      dataSource,
      gate,
      checkpoint: () => checkpointer.checkpoint(),
      verify: () => verifyChain(store, trustedKeys),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Topic namer that prefixes every topic (test isolation). */
export function prefixedTopics(prefix: string): TopicNamer {
  return (topic) => `${prefix}${topic}`;
}
