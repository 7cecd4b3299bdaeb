// Prometheus metrics of the risk service (docs/metrics.md): when each screening list was
// last updated successfully (the CustodyScreeningListStale alert). Bounded labels: the list
// names are a closed mapping from the sources the service imports.
import { createGauge } from '@custody/platform';
import type { Registry } from 'prom-client';
import { OFAC_SDN_SOURCE } from './lists/ofac.js';

/** Source id (as persisted) → the `list` label value the alerts and dashboard use. */
export const LIST_LABELS: Readonly<Record<string, string>> = Object.freeze({ [OFAC_SDN_SOURCE]: 'ofac' });

export interface RiskMetrics {
  /** Last successful update (import, or an unchanged re-import confirming freshness) of `source`; undefined = never imported (recorded as 0: stale). */
  listUpdated(source: string, at: Date | undefined): void;
}

export function createRiskMetrics(registry: Registry): RiskMetrics {
  const lastUpdate = createGauge(registry, {
    name: 'custody_risk_screening_list_last_update_timestamp_seconds',
    help: 'Unix time of the last successful update of each screening list (0: never imported).',
    labels: { list: Object.values(LIST_LABELS) },
  });
  return {
    listUpdated: (source, at) => {
      const list = LIST_LABELS[source];
      if (list !== undefined) lastUpdate.set({ list }, at ? Math.floor(at.getTime() / 1000) : 0);
    },
  };
}
