// Domain metrics (bounded labels: never an address or an id).
import { createCounter, createGauge, type BoundedCounter, type BoundedGauge } from '@custody/platform';
import type { Registry } from 'prom-client';

export interface ChainAdapterMetrics {
  readonly reorgs: BoundedCounter<{ depth: readonly ['shallow', 'beyond_finality'] }>;
  readonly incidents: BoundedCounter<{ kind: readonly ['REORG_BEYOND_FINALITY', 'REORG_TOO_DEEP', 'UNMATCHED_OUTFLOW', 'NONCE_CONSUMED_ELSEWHERE', 'SIGNED_TX_MISMATCH'] }>;
  readonly broadcasts: BoundedCounter<{ outcome: readonly ['accepted', 'already-known', 'nonce-too-low', 'underpriced', 'rejected', 'mined', 'nonce-consumed'] }>;
  readonly waiting: BoundedCounter<{ reason: readonly ['FEE_CAP_EXCEEDED', 'NODE_UNSYNCED', 'NODE_BEHIND', 'CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH'] }>;
  readonly nodeHealthy: BoundedGauge<Record<never, never>>;
  readonly head: BoundedGauge<Record<never, never>>;
  readonly nonceGaps: BoundedGauge<Record<never, never>>;
}

export function createChainAdapterMetrics(registry: Registry): ChainAdapterMetrics {
  return {
    reorgs: createCounter(registry, { name: 'custody_chain_reorgs_total', help: 'Reorganisations seen, by depth class.', labels: { depth: ['shallow', 'beyond_finality'] } }),
    incidents: createCounter(registry, {
      name: 'custody_chain_incidents_total',
      help: 'Chain incidents raised (alert on any increase).',
      labels: { kind: ['REORG_BEYOND_FINALITY', 'REORG_TOO_DEEP', 'UNMATCHED_OUTFLOW', 'NONCE_CONSUMED_ELSEWHERE', 'SIGNED_TX_MISMATCH'] },
    }),
    broadcasts: createCounter(registry, {
      name: 'custody_chain_broadcasts_total',
      help: 'Broadcast attempts by outcome.',
      labels: { outcome: ['accepted', 'already-known', 'nonce-too-low', 'underpriced', 'rejected', 'mined', 'nonce-consumed'] },
    }),
    waiting: createCounter(registry, {
      name: 'custody_chain_withdrawals_waiting_total',
      help: 'Withdrawals held back (retried later) by reason: fee above cap, node unhealthy, wrong chain.',
      labels: { reason: ['FEE_CAP_EXCEEDED', 'NODE_UNSYNCED', 'NODE_BEHIND', 'CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH'] },
    }),
    nodeHealthy: createGauge(registry, { name: 'custody_chain_node_healthy', help: '1 when the node is on the right chain and synced, else 0.' }),
    head: createGauge(registry, { name: 'custody_chain_head_height', help: 'Latest block height reported by the node.' }),
    nonceGaps: createGauge(registry, { name: 'custody_chain_nonce_gaps', help: 'Wallets whose next nonce is not signed/broadcast while later ones wait (stuck queues).' }),
  };
}
