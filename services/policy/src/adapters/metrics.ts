// Prometheus metrics of the policy service (docs/metrics.md): decisions by outcome and
// whether a verified bundle is active. Bounded labels only.
import { createCounter, createGauge } from '@custody/platform';
import type { Registry } from 'prom-client';

export type DecisionOutcomeLabel = 'allow' | 'deny' | 'hold';

export type PolicyMetrics = ReturnType<typeof createPolicyMetrics>;

export function createPolicyMetrics(registry: Registry) {
  const bundleActive = createGauge(registry, {
    name: 'custody_policy_bundle_active',
    help: '1 while a verified, active policy bundle is loaded, 0 otherwise.',
  });
  bundleActive.set({}, 0);
  return {
    decisions: createCounter(registry, {
      name: 'custody_policy_decisions_total',
      help: 'Policy decisions by outcome (require_approval counts as hold).',
      labels: { outcome: ['allow', 'deny', 'hold'] },
    }),
    bundleActive,
  };
}

/** The metric outcome of a decision status, or undefined for results that are not decisions (waiting, duplicate...). */
export function decisionOutcomeLabel(status: string): DecisionOutcomeLabel | undefined {
  switch (status) {
    case 'allow':
      return 'allow';
    case 'deny':
    case 'rejected':
    case 'expired':
      return 'deny';
    case 'hold':
    case 'require_approval':
      return 'hold';
    default:
      return undefined;
  }
}
