// The composition root: the only place adapters are wired to ports. Plain TypeScript, like
// intake's; `startChainAdapter` in index.ts is the entry point for main.ts and the embedded
// deployment.
import { CreateEventBusTables1795478400000, OutboxRelay, PostgresOutboxStore, type BusMetrics, type EventBus } from '@custody/event-bus';
import { GrpcServer, createMetrics, createServiceDataSource, logCallerDenied, type CallerRule, type DatabaseConnection, type GrpcServerCredentials, type Logger, type OperatorAuditGate } from '@custody/platform';
import { loadPackageDefinition } from '@custody/contracts';
import type { Topic } from '@custody/contracts';
import type { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { CHAIN_ADAPTER_CONSUMER_GROUPS } from './consumer-groups.js';
import { ChainGuard } from './application/chain-guard.js';
import { Follower, type TickResult } from './application/follower.js';
import type { Clock, EvmChain } from './application/ports.js';
import { WithdrawalFlow } from './application/withdrawals.js';
import { WalletRegistry } from './application/wallets.js';
import { validateProfile, type BitcoinAssetProfile, type EvmAssetProfile } from './domain/assets.js';
import { normaliseAddress } from './domain/evm-tx.js';
import type { Fees } from './domain/fees.js';
import { EvmJsonRpc } from './adapters/chain/evm-json-rpc.js';
import { QuorumEvmChain } from './adapters/chain/quorum-evm-chain.js';
import { identityTopics, type TopicNamer } from './adapters/events.js';
import { startConsumers } from './adapters/kafka/consumers.js';
import { createRefusalCounter } from './adapters/kafka/refusal-metrics.js';
import { createChainAdapterMetrics } from './adapters/metrics.js';
import { AddChainBreaker1796342400000, AddIncidentId1796256000000, AddNonceFreeList1796169600000, AddWalletRegistry1796083200000, CHAIN_ADAPTER_ENTITIES as EVM_ENTITIES, CreateChainAdapterTables1795651200000 } from './adapters/persistence/schema.js';
import { AddBitcoinUtxos1796428800000, BITCOIN_ENTITIES } from './adapters/persistence/bitcoin-schema.js';
import { composeBitcoinOnlyAdapter, startBitcoinFlow } from './bitcoin.module.js';
import { PostgresChainStore } from './adapters/persistence/postgres-store.js';
import { ChainQueryServiceService, createChainQueryService } from './adapters/grpc/chain-query-service.js';
import { ChainAdminServiceService, createChainAdminService } from './adapters/grpc/chain-admin-service.js';
import { ChainAdmin } from './application/chain-admin.js';
import { ChainOperatorAuthenticator, type ChainOperator } from './application/operator-auth.js';
import { validateBreakerPolicy, type BreakerPolicy } from './domain/breaker.js';
import { StoreAndConfigAddressSource } from './adapters/grpc/custodial-addresses.js';
import { CustodialSnapshotReader, jsonRpcBalanceReader } from './adapters/grpc/custodial-snapshot.js';

export const CHAIN_ADAPTER_MIGRATIONS = [CreateChainAdapterTables1795651200000, CreateEventBusTables1795478400000, AddWalletRegistry1796083200000, AddNonceFreeList1796169600000, AddIncidentId1796256000000, AddChainBreaker1796342400000, AddBitcoinUtxos1796428800000];
export const CHAIN_ADAPTER_ENTITIES = [...EVM_ENTITIES, ...BITCOIN_ENTITIES];

export interface ChainAdapterDeps {
  readonly bus: EventBus;
  /** Runtime (app role) connection; migrations run separately with the owner role. */
  readonly database: DatabaseConnection & { readonly schema?: string };
  readonly logger: Logger;
  readonly clock?: Clock;
  /** JSON-RPC URL of the EVM node, or a Chain port (tests, several endpoints). */
  readonly rpcUrl?: string;
  /**
   * Several endpoints of the same chain (independently operated nodes, C-5.5.4-b): reads that decide
   * safety must agree across `rpcQuorum` of them (adapters/chain/quorum-evm-chain.ts). Overrides `rpcUrl`.
   */
  readonly rpcUrls?: readonly string[];
  /** k of `rpcUrls` (default: a majority). */
  readonly rpcQuorum?: number;
  readonly chain?: EvmChain;
  readonly profile: EvmAssetProfile;
  /** A Bitcoin asset (application/bitcoin-withdrawals.ts): wired only when given. */
  readonly bitcoin?: BitcoinAssetProfile;
  /** Deposit address → customer account. */
  readonly depositAddresses?: ReadonlyMap<string, string>;
  /** Custody addresses whose every outflow must match a signed withdrawal (hot wallets, deposit addresses, backups). */
  readonly custodyAddresses?: readonly string[];
  readonly topicName?: TopicNamer;
  readonly consumerGroupId?: string;
  readonly outboxPollIntervalMs?: number;
  /** Follower period; 0 = no timer (tests call tick()). */
  readonly pollIntervalMs?: number;
  readonly maxHeadAgeMs?: number;
  readonly stuckAfterMs?: number;
  /** Pause breaker (latched; operator resume): trip depth (0: only past finality) and depth factor while tripped. Default { 0, 2 }. */
  readonly breaker?: BreakerPolicy;
  /** ChainAdminService operators (pinned certificate + Ed25519 key); served on the `grpc` port. Empty: every admin call is refused. */
  readonly adminOperators?: readonly ChainOperator[];
  /**
   * ResumeChain / CancelWithdrawal are recorded by the audit service before they are applied;
   * if it does not record them they are refused (UNAVAILABLE, AUDIT_UNAVAILABLE). main.ts always
   * passes one (gRPC to audit, or a refusing gate without an endpoint); an in-process
   * composition passes the audit handle's `gate`. Absent: unaudited (logged at start).
   */
  readonly operatorAudit?: OperatorAuditGate;
  readonly startHeight?: bigint;
  readonly registry?: Registry;
  /** Event-bus metrics hooks (the ones given to the bus, on the same registry): outbox lag and dead letters. */
  readonly busMetrics?: BusMetrics;
  /** Read-only ChainQueryService (custodial balances for the ledger's reconciliation); absent: not served. */
  /** allowedCallers: CUSTODY_GRPC_ALLOWED_CALLERS (ChainQueryService's callers); ChainAdminService is operator-facing, exempt. */
  readonly grpc?: { readonly host?: string; readonly port: number; readonly credentials: GrpcServerCredentials; readonly allowedCallers?: readonly CallerRule[] };
}

export interface ChainAdapterHandle {
  /** Port of ChainQueryService when `grpc` was given. */
  readonly grpcPort?: number;
  readonly dataSource: DataSource;
  readonly store: PostgresChainStore;
  readonly registry: Registry;
  /** One follower pass (blocks, reorgs, receipts, deposits). */
  tick(): Promise<TickResult>;
  /** Operator speed-up of a stuck withdrawal: same nonce and intent, higher fee. */
  bumpFee(withdrawalId: string, percent?: bigint): Promise<{ attempt: number; fees: Fees }>;
  /** The operator use cases behind ChainAdminService (already authenticated callers only). */
  readonly admin: ChainAdmin;
  stop(): Promise<void>;
}

/** A Bitcoin-only adapter (no EVM profile): no follower, no admin service. */
export type BitcoinOnlyHandle = Pick<ChainAdapterHandle, 'dataSource' | 'store' | 'registry' | 'stop'>;

/** No EVM profile, a Bitcoin one: no EVM node is needed (no chain guard, follower, admin or query service). */
export type BitcoinOnlyDeps = Omit<ChainAdapterDeps, 'profile' | 'bitcoin'> & { readonly profile?: undefined; readonly bitcoin: BitcoinAssetProfile };

export async function composeChainAdapter(deps: ChainAdapterDeps): Promise<ChainAdapterHandle>;
export async function composeChainAdapter(deps: BitcoinOnlyDeps): Promise<BitcoinOnlyHandle>;
export async function composeChainAdapter(deps: ChainAdapterDeps | BitcoinOnlyDeps): Promise<ChainAdapterHandle | BitcoinOnlyHandle> {
  if (!deps.profile) {
    if (!deps.bitcoin) throw new Error('chain-adapter: an EVM profile or a Bitcoin profile is required');
    return composeBitcoinOnlyAdapter(deps, deps.bitcoin);
  }
  const clock = deps.clock ?? { now: () => new Date() };
  const profile = validateProfile(deps.profile);
  const breakerPolicy = deps.breaker ?? { pauseReorgDepth: 0, depthFactor: 2 };
  const breakerProblem = validateBreakerPolicy(breakerPolicy);
  if (breakerProblem) throw new Error(`chain-adapter: breaker ${breakerProblem}`);
  const topicName = deps.topicName ?? identityTopics;
  const urls = deps.rpcUrls && deps.rpcUrls.length > 0 ? deps.rpcUrls : [deps.rpcUrl ?? 'http://127.0.0.1:18545'];
  const chain =
    deps.chain ??
    (urls.length > 1
      ? new QuorumEvmChain({ endpoints: urls.map((url) => new EvmJsonRpc({ url })), quorum: deps.rpcQuorum ?? Math.floor(urls.length / 2) + 1 })
      : new EvmJsonRpc({ url: urls[0] ?? 'http://127.0.0.1:18545' }));
  const registry = deps.registry ?? createMetrics('chain-adapter');
  const metrics = createChainAdapterMetrics(registry, profile.chain);
  const refusals = createRefusalCounter(registry);
  const guard = new ChainGuard({ chain, expectedChainId: profile.chainId, expectedGenesisHash: profile.genesisHash, clock, maxHeadAgeMs: deps.maxHeadAgeMs ?? 0 });
  // Refuse to start on the wrong chain or an unhealthy node (fail closed).
  await guard.assertHealthy();

  const dataSource = createServiceDataSource({ service: 'chain-adapter', ...deps.database, entities: CHAIN_ADAPTER_ENTITIES, poolSize: 20 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'chain-adapter shutdown step failed'));
    cleanups.length = 0;
  };
  try {
    const store = new PostgresChainStore(dataSource, topicName, () => clock.now());
    // The breaker row exists from the start, so a prepare's share lock always meets a trip's update.
    await store.ensureBreaker(profile.chain);
    const onIncident = (i: { kind: string; detail: string; wallet: string; txHash: string }): void => {
      metrics.incidents.inc({ kind: i.kind as never });
      deps.logger.error({ incident: i.kind, wallet: i.wallet, txHash: i.txHash, detail: i.detail }, 'chain incident');
    };
    const flow = new WithdrawalFlow({
      chain,
      store,
      guard,
      clock,
      profile,
      hooks: {
        onIncident,
        onRefusedSignature: (reason) => deps.logger.error({ reason }, 'signed transaction refused: not what was prepared'),
        onBroadcast: (outcome) => metrics.broadcasts.inc({ outcome: outcome as never }),
        onWalletRefused: (reasonCode) => deps.logger.warn({ reasonCode }, 'withdrawal refused: the source wallet may not send'),
        onSignerRefusal: (outcome, reasonCode) => {
          refusals.inc({ outcome });
          deps.logger[outcome === 'released' ? 'warn' : 'info']({ outcome, reasonCode }, 'signer refusal handled');
        },
      },
    });
    const wallets = new WalletRegistry({ profile, clock });
    const follower = new Follower({
      chain,
      store,
      guard,
      flow,
      clock,
      profile,
      depositAddresses: new Map([...(deps.depositAddresses ?? new Map<string, string>())].map(([a, c]) => [normaliseAddress(a), c])),
      custodyAddresses: new Set((deps.custodyAddresses ?? []).map(normaliseAddress)),
      ...(deps.startHeight !== undefined ? { startHeight: deps.startHeight } : {}),
      ...(deps.stuckAfterMs !== undefined ? { stuckAfterMs: deps.stuckAfterMs } : {}),
      breaker: breakerPolicy,
      hooks: {
        onIncident,
        onBreaker: (tripped) => metrics.breakerTripped.set({ chain: profile.chain }, tripped ? 1 : 0),
        onReorg: (depth, beyond, tracked) => {
          if (tracked) metrics.reorgs.inc({ chain: profile.chain });
          deps.logger.warn({ depth, beyondFinality: beyond, tracked }, 'chain reorganisation');
        },
        onHealth: (healthy, reason) => {
          metrics.nodeHealthy.set({}, healthy ? 1 : 0);
          if (!healthy) deps.logger.error({ reason }, 'node unhealthy: refusing to act');
        },
        onHead: (head) => metrics.head.set({}, Number(head)),
        onIndexed: (height) => metrics.indexedHeight.set({}, Number(height)),
        onNonceGaps: (gaps) => {
          metrics.nonceGaps.set({}, gaps.length);
          for (const g of gaps) deps.logger.error({ wallet: g.wallet, nonce: g.nonce.toString(), withdrawalId: g.withdrawalId, blocked: g.blockedWithdrawals, fix: g.fix }, 'nonce gap: later withdrawals are blocked');
        },
      },
    });

    if (!deps.operatorAudit) deps.logger.warn({ alert: 'chain_admin_not_audited' }, 'no operator audit gate: chain admin actions are applied without an audit record (dev/test composition only)');
    const admin = new ChainAdmin({
      store,
      flow,
      clock,
      chain: profile.chain,
      asset: profile.asset,
      onIncident,
      onResume: () => metrics.breakerTripped.set({ chain: profile.chain }, 0),
      ...(deps.operatorAudit ? { audit: deps.operatorAudit } : {}),
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

    const subscription = await startConsumers({
      bus: deps.bus,
      dataSource,
      store,
      flow,
      wallets,
      groupId: deps.consumerGroupId ?? CHAIN_ADAPTER_CONSUMER_GROUPS[0],
      topicName,
      onWaiting: (code) => metrics.waiting.inc({ reason: code as never }),
      ...(deps.busMetrics ? { metrics: deps.busMetrics } : {}),
      ...(deps.bitcoin ? { otherChains: new Set([deps.bitcoin.chain]) } : {}),
    });
    cleanups.push(() => subscription.stop());
    if (deps.bitcoin) {
      const bitcoin = await startBitcoinFlow({ deps, profile: deps.bitcoin, dataSource, store, clock, topicName, logger: deps.logger });
      cleanups.push(() => bitcoin.stop());
    }

    // Each pass, then the confirmation lag (also while the node is unhealthy: the age still grows).
    const tick = async (): Promise<TickResult> => {
      const result = await follower.tick();
      const since = await store.oldestUnfinalSince(profile.chain);
      metrics.confirmationLag.set({ chain: profile.chain }, since ? Math.max(0, (clock.now().getTime() - since.getTime()) / 1000) : 0);
      return result;
    };
    // First pass before returning: the block index starts at the current head.
    await tick();
    const period = deps.pollIntervalMs ?? 1_000;
    if (period > 0) {
      // One pass at a time; stop() waits for the pass in flight before the pool closes.
      let running: Promise<void> | undefined;
      const timer = setInterval(() => {
        if (running) return;
        running = tick()
          .then(() => undefined, (err: unknown) => deps.logger.warn({ err }, 'follower pass failed'))
          .finally(() => {
            running = undefined;
          });
      }, period);
      timer.unref();
      cleanups.push(async () => {
        clearInterval(timer);
        await running;
      });
    }

    let grpcPort: number | undefined;
    if (deps.grpc) {
      // Balances are read over JSON-RPC (eth_getBalance at one block hash).
      // Several endpoints: every balance is a fact the quorum must agree on (QuorumEvmChain.call).
      const rpc = chain instanceof EvmJsonRpc || chain instanceof QuorumEvmChain ? chain : deps.rpcUrl ? new EvmJsonRpc({ url: deps.rpcUrl }) : undefined;
      if (!rpc) throw new Error('chain-adapter: ChainQueryService needs a JSON-RPC node (rpcUrl)');
      const reader = new CustodialSnapshotReader({
        dataSource,
        chain,
        balances: jsonRpcBalanceReader((method, params) => rpc.call(method, params)),
        addresses: new StoreAndConfigAddressSource(dataSource, {
          deposit: [...(deps.depositAddresses ?? new Map<string, string>()).keys()].map(normaliseAddress),
          custody: (deps.custodyAddresses ?? []).map(normaliseAddress),
        }),
        profile,
      });
      const server = new GrpcServer({
        ...(deps.grpc.host ? { host: deps.grpc.host } : {}),
        port: deps.grpc.port,
        credentials: deps.grpc.credentials,
        ...(deps.grpc.allowedCallers ? { allowedCallers: deps.grpc.allowedCallers, onCallerDenied: logCallerDenied(deps.logger) } : {}),
        packageDefinition: loadPackageDefinition(),
        services: [
          { definition: ChainQueryServiceService, implementation: createChainQueryService({ reader, logger: deps.logger, clock: () => clock.now() }) as never },
          // Operators: pinned certificate + Ed25519 signature on every call (application/operator-auth.ts).
          { operatorFacing: true, definition: ChainAdminServiceService, implementation: createChainAdminService({ admin, auth: new ChainOperatorAuthenticator({ operators: deps.adminOperators ?? [], clock }), logger: deps.logger }) as never },
        ],
      });
      grpcPort = await server.start();
      cleanups.push(() => server.shutdown(2_000));
    }

    return { ...(grpcPort === undefined ? {} : { grpcPort }), dataSource, store, registry, tick, bumpFee: (id, p) => flow.bumpFee(id, p), admin, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Topic namer that prefixes every topic (test isolation). */
export function prefixedTopics(prefix: string): TopicNamer {
  return (topic: Topic) => `${prefix}${topic}`;
}
