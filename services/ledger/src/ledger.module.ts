// The composition root: the only place adapters are wired to ports. `startLedger` in
// index.ts is the entry point both main.ts and the embedded deployment use.
import { CreateEventBusTables1795478400000, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import { loadPackageDefinition } from '@custody/contracts';
import { GrpcServer, createServiceDataSource, type DatabaseConnection, type GrpcServerCredentials, type Logger } from '@custody/platform';
import type { DataSource } from 'typeorm';
import { LedgerPostings, type PostingOutcome } from './application/postings.js';
import type { Clock } from './application/ports.js';
import { LedgerQueries } from './application/queries.js';
import { LedgerServiceService, createLedgerService } from './adapters/grpc/ledger-service.js';
import { identityTopics, startLedgerConsumer, type TopicNamer } from './adapters/kafka/ledger-consumer.js';
import { PostgresLedgerStore } from './adapters/persistence/postgres-ledger-store.js';
import { CreateLedgerTables1795737600000, LEDGER_ENTITIES } from './adapters/persistence/schema.js';

export const LEDGER_MIGRATIONS = [CreateLedgerTables1795737600000, CreateEventBusTables1795478400000];
export { LEDGER_ENTITIES };

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
  readonly grpc?: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials };
  /** Told the outcome of every posting event (metrics, tests). */
  readonly onPosted?: (envelope: Envelope, outcome: PostingOutcome | 'duplicate') => void;
}

export interface LedgerHandle {
  readonly grpcPort?: number;
  readonly dataSource: DataSource;
  readonly store: PostgresLedgerStore;
  readonly postings: LedgerPostings;
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
    const postings = new LedgerPostings({ store, feeAssetOf: (chain) => feeAssets[chain] });
    const subscription: Subscription = await startLedgerConsumer({
      bus: deps.bus,
      dataSource,
      postings,
      groupId: deps.consumerGroupId ?? 'ledger.postings',
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

    let grpcPort: number | undefined;
    if (deps.grpc) {
      const server = new GrpcServer({
        ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
        port: deps.grpc.port,
        credentials: deps.grpc.credentials,
        packageDefinition: loadPackageDefinition(),
        services: [{ definition: LedgerServiceService, implementation: createLedgerService({ queries: new LedgerQueries(store), logger: deps.logger, clock: () => clock.now() }) as never }],
      });
      grpcPort = await server.start();
      cleanups.push(() => server.shutdown(2_000));
    }
    return { ...(grpcPort === undefined ? {} : { grpcPort }), dataSource, store, postings, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Topic namer that prefixes every topic (test isolation). */
export function prefixedTopics(prefix: string): TopicNamer {
  return (topic) => `${prefix}${topic}`;
}
