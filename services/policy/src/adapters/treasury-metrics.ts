// custody_policy_hot_wallet_cap_ratio{asset}: the hot balance over the cap (1 = at the cap),
// alerted by CustodyHotWalletAboveCap (helm prometheusrule, docs/runbooks/hot-wallet-above-cap.md).
import { createGauge } from '@custody/platform';
import type { Registry } from 'prom-client';
import type { TreasuryMetrics } from '../application/treasury.js';

export function createTreasuryMetrics(registry: Registry, assets: readonly string[]): TreasuryMetrics {
  const ratio = createGauge(registry, {
    name: 'custody_policy_hot_wallet_cap_ratio',
    help: 'Hot-wallet balance of an asset (ledger) divided by its hot_wallet_cap (policy bundle data); above 1 the monitor sweeps.',
    labels: { asset: [...assets] },
  });
  return { capRatio: (asset, value) => ratio.set({ asset }, value) };
}
