// Domain metrics (bounded labels: never an address or an id).
import { createCounter, createGauge, type BoundedCounter, type BoundedGauge } from '@custody/platform';
import type { Registry } from 'prom-client';

export interface ChainAdapterMetrics {
  /** custody_chain_adapter_reorgs_total{chain} (docs/metrics.md, alert CustodyReorgDetected). */
  readonly reorgs: BoundedCounter<{ chain: readonly string[] }>;
  /** custody_chain_adapter_confirmation_lag_seconds{chain} (docs/metrics.md, alert CustodyConfirmationsLagging). */
  readonly confirmationLag: BoundedGauge<{ chain: readonly string[] }>;
  readonly incidents: BoundedCounter<{ kind: readonly ['REORG_BEYOND_FINALITY', 'REORG_TOO_DEEP', 'UNMATCHED_OUTFLOW', 'NONCE_CONSUMED_ELSEWHERE', 'SIGNED_TX_MISMATCH', 'CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH', 'CHAIN_VIEW_DIVERGENCE', 'CHAIN_PAUSED', 'CHAIN_RESUMED'] }>;
  readonly broadcasts: BoundedCounter<{ outcome: readonly ['accepted', 'already-known', 'nonce-too-low', 'underpriced', 'rejected', 'mined', 'nonce-consumed'] }>;
  readonly waiting: BoundedCounter<{ reason: readonly ['FEE_CAP_EXCEEDED', 'NODE_UNSYNCED', 'NODE_BEHIND', 'CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH', 'WALLET_UNKNOWN', 'CHAIN_PAUSED'] }>;
  readonly nodeHealthy: BoundedGauge<Record<never, never>>;
  readonly head: BoundedGauge<Record<never, never>>;
  /** custody_chain_indexed_height: the top of our block index (the ledger's snapshot block); head − indexed = index lag. */
  readonly indexedHeight: BoundedGauge<Record<never, never>>;
  readonly nonceGaps: BoundedGauge<Record<never, never>>;
  /** custody_chain_breaker_tripped{chain}: 1 while the pause breaker is tripped (latched until an operator resumes). */
  readonly breakerTripped: BoundedGauge<{ chain: readonly string[] }>;
}

/** `chain`: the asset profile's chain (the only value of the `chain` label). */
export function createChainAdapterMetrics(registry: Registry, chain: string): ChainAdapterMetrics {
  return {
    reorgs: createCounter(registry, {
      name: 'custody_chain_adapter_reorgs_total',
      help: 'Reorganisations that replaced a block holding a tracked withdrawal or deposit (beyond finality: custody_chain_incidents_total{kind="REORG_BEYOND_FINALITY"}).',
      labels: { chain: [chain] },
    }),
    confirmationLag: createGauge(registry, {
      name: 'custody_chain_adapter_confirmation_lag_seconds',
      help: 'Age of the oldest withdrawal broadcast but not yet final, from its first attempt (0 when none); updated every follower pass.',
      labels: { chain: [chain] },
    }),
    incidents: createCounter(registry, {
      name: 'custody_chain_incidents_total',
      help: 'Chain incidents raised (alert on any increase).',
      labels: { kind: ['REORG_BEYOND_FINALITY', 'REORG_TOO_DEEP', 'UNMATCHED_OUTFLOW', 'NONCE_CONSUMED_ELSEWHERE', 'SIGNED_TX_MISMATCH', 'CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH', 'CHAIN_VIEW_DIVERGENCE', 'CHAIN_PAUSED', 'CHAIN_RESUMED'] },
    }),
    broadcasts: createCounter(registry, {
      name: 'custody_chain_broadcasts_total',
      help: 'Broadcast attempts by outcome.',
      labels: { outcome: ['accepted', 'already-known', 'nonce-too-low', 'underpriced', 'rejected', 'mined', 'nonce-consumed'] },
    }),
    waiting: createCounter(registry, {
      name: 'custody_chain_withdrawals_waiting_total',
      help: 'Withdrawals held back (retried later) by reason: fee above cap, node unhealthy, wrong chain, wallet not (yet) registered, chain paused by its breaker.',
      labels: { reason: ['FEE_CAP_EXCEEDED', 'NODE_UNSYNCED', 'NODE_BEHIND', 'CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH', 'WALLET_UNKNOWN', 'CHAIN_PAUSED'] },
    }),
    nodeHealthy: createGauge(registry, { name: 'custody_chain_node_healthy', help: '1 when the node is on the right chain and synced, else 0.' }),
    head: createGauge(registry, { name: 'custody_chain_head_height', help: 'Latest block height reported by the node.' }),
    indexedHeight: createGauge(registry, { name: 'custody_chain_indexed_height', help: 'Top of the block index after the last follower pass (the snapshot block of ChainQueryService); custody_chain_head_height minus this is the index lag.' }),
    nonceGaps: createGauge(registry, { name: 'custody_chain_nonce_gaps', help: 'Wallets whose next nonce is not signed/broadcast while later ones wait (stuck queues).' }),
    breakerTripped: createGauge(registry, {
      name: 'custody_chain_breaker_tripped',
      help: '1 while the chain pause breaker is tripped (deep reorg or endpoint divergence): no withdrawal is prepared until an operator resumes.',
      labels: { chain: [chain] },
    }),
  };
}
