// Composition of the Bitcoin withdrawals (application/bitcoin-withdrawals.ts): wired only when
// a Bitcoin profile is configured — next to the EVM flow (composeChainAdapter) or alone (a
// Bitcoin-only adapter needs no EVM node: no chain guard, no follower, no admin service).
import { OutboxRelay, PostgresOutboxStore, type Subscription } from '@custody/event-bus';
import { createMetrics, createServiceDataSource, type Logger } from '@custody/platform';
import type { DataSource } from 'typeorm';
import type { BitcoinOnlyDeps, BitcoinOnlyHandle, ChainAdapterDeps } from './chain-adapter.module.js';
import { CHAIN_ADAPTER_CONSUMER_GROUPS } from './consumer-groups.js';
import { BitcoinWithdrawalFlow } from './application/bitcoin-withdrawals.js';
import type { Clock } from './application/ports.js';
import { validateBitcoinProfile, type BitcoinAssetProfile } from './domain/assets.js';
import { identityTopics, type TopicNamer } from './adapters/events.js';
import { startBitcoinConsumers } from './adapters/kafka/bitcoin-consumers.js';
import { PostgresChainStore } from './adapters/persistence/postgres-store.js';
import { BITCOIN_ENTITIES } from './adapters/persistence/bitcoin-schema.js';
import { CHAIN_ADAPTER_ENTITIES as EVM_ENTITIES } from './adapters/persistence/schema.js';

/** The Bitcoin flow's consumers on an existing data source and store (its own consumer groups). */
export function startBitcoinFlow(o: { deps: ChainAdapterDeps | BitcoinOnlyDeps; profile: BitcoinAssetProfile; dataSource: DataSource; store: PostgresChainStore; clock: Clock; topicName: TopicNamer; logger: Logger }): Promise<Subscription> {
  const profile = validateBitcoinProfile(o.profile);
  const flow = new BitcoinWithdrawalFlow({
    profile,
    clock: o.clock,
    hooks: {
      onRefusedSignature: (reason) => o.logger.error({ reason, chain: profile.chain }, 'signed Bitcoin transaction refused: not what was prepared'),
      onReleased: (reasonCode, outputs) => o.logger.warn({ reasonCode, outputs, chain: profile.chain }, 'Bitcoin withdrawal refused by the signer: reserved outputs released'),
    },
  });
  // Both groups are named in CHAIN_ADAPTER_CONSUMER_GROUPS (the KafkaUser may read exactly those).
  const withdrawalGroup = o.deps.consumerGroupId ?? CHAIN_ADAPTER_CONSUMER_GROUPS[0];
  return startBitcoinConsumers({
    bus: o.deps.bus,
    dataSource: o.dataSource,
    store: o.store,
    flow,
    groupId: `${withdrawalGroup}.bitcoin`,
    walletsGroupId: `${withdrawalGroup}.bitcoin.wallets`,
    topicName: o.topicName,
    now: () => o.clock.now(),
    ...(o.deps.busMetrics ? { metrics: o.deps.busMetrics } : {}),
  });
}

/** A chain-adapter with only a Bitcoin profile: database, outbox relay, the Bitcoin consumers. */
export async function composeBitcoinOnlyAdapter(deps: BitcoinOnlyDeps, profile: BitcoinAssetProfile): Promise<BitcoinOnlyHandle> {
  const clock = deps.clock ?? { now: () => new Date() };
  validateBitcoinProfile(profile);
  const topicName = deps.topicName ?? identityTopics;
  const registry = deps.registry ?? createMetrics('chain-adapter');
  const dataSource = createServiceDataSource({ service: 'chain-adapter', ...deps.database, entities: [...EVM_ENTITIES, ...BITCOIN_ENTITIES], poolSize: 20 });
  await dataSource.initialize();
  const cleanups: (() => Promise<unknown>)[] = [() => dataSource.destroy()];
  const stopAll = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch((err: unknown) => deps.logger.error({ err }, 'chain-adapter shutdown step failed'));
    cleanups.length = 0;
  };
  try {
    const store = new PostgresChainStore(dataSource, topicName, () => clock.now());
    const relay = new OutboxRelay({
      store: new PostgresOutboxStore(dataSource),
      bus: deps.bus,
      pollIntervalMs: deps.outboxPollIntervalMs ?? 200,
      ...(deps.busMetrics ? { metrics: deps.busMetrics } : {}),
      onError: (err) => deps.logger.warn({ err }, 'outbox relay error'),
    });
    relay.start();
    cleanups.push(() => relay.stop());
    const subscription = await startBitcoinFlow({ deps, profile, dataSource, store, clock, topicName, logger: deps.logger });
    cleanups.push(() => subscription.stop());
    return { dataSource, store, registry, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
