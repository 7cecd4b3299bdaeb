// Reconciliation metrics (docs/metrics.md; bounded labels: the configured assets, never an
// address or an id). The gauge is set only by a run that compared (BALANCED/DRIFT): a FAILED
// run leaves the last known value (a 0 would silence CustodyReconciliationDrift) and counts
// in custody_ledger_reconciliation_runs_total{outcome="failed"}.
import { createCounter, createGauge, type BoundedCounter, type BoundedGauge } from '@custody/platform';
import type { Registry } from 'prom-client';
import type { ReconciliationRun } from '../application/reconciliation.js';

export interface ReconciliationMetrics {
  readonly mismatched: BoundedGauge<{ asset: readonly string[] }>;
  readonly runs: BoundedCounter<{ asset: readonly string[]; outcome: readonly ['balanced', 'drift', 'failed'] }>;
  readonly lastCompared: BoundedGauge<{ asset: readonly string[] }>;
  record(run: ReconciliationRun): void;
}

export function createReconciliationMetrics(registry: Registry, assets: readonly string[]): ReconciliationMetrics {
  const mismatched = createGauge(registry, {
    name: 'custody_ledger_reconciliation_mismatched_wallets',
    help: 'Custodial wallets whose booked balance (custodian:<asset>:<wallet>) differs from the chain beyond in-flight withdrawals, fees and pending deposits at the last compared run; what no wallet id names counts as one (alert CustodyReconciliationDrift).',
    labels: { asset: [...assets] },
  });
  const runs = createCounter(registry, {
    name: 'custody_ledger_reconciliation_runs_total',
    help: 'Reconciliation runs by outcome: balanced, drift (incident raised), failed (no chain snapshot: nothing compared).',
    labels: { asset: [...assets], outcome: ['balanced', 'drift', 'failed'] },
  });
  const lastCompared = createGauge(registry, {
    name: 'custody_ledger_reconciliation_last_compared_timestamp_seconds',
    help: 'Unix time of the last run that compared the books with a chain snapshot (BALANCED or DRIFT).',
    labels: { asset: [...assets] },
  });
  return {
    mismatched,
    runs,
    lastCompared,
    record(run) {
      runs.inc({ asset: run.asset, outcome: run.outcome === 'BALANCED' ? 'balanced' : run.outcome === 'DRIFT' ? 'drift' : 'failed' });
      if (run.outcome === 'FAILED') return;
      mismatched.set({ asset: run.asset }, run.classification ? run.classification.mismatchedWallets : run.outcome === 'DRIFT' ? 1 : 0);
      lastCompared.set({ asset: run.asset }, run.finishedAt.getTime() / 1000);
    },
  };
}
