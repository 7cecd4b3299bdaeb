// Prometheus metrics of the signer: signing latency by outcome and refusals by reason
// (bounded label sets: the refusal codes are a closed list).
import { createCounter, createHistogram } from '@custody/platform';
import type { Registry } from 'prom-client';
import { REFUSAL_CODES, type RefusalCode } from '../domain/refusal.js';

export function createSignerMetrics(registry: Registry) {
  const latency = createHistogram(registry, {
    name: 'custody_signer_request_duration_seconds',
    help: 'Time to handle one tx.prepared (verification, single-use record, signature), by outcome.',
    labels: { outcome: ['signed', 'refused', 'duplicate'] },
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  });
  const refusals = createCounter(registry, {
    name: 'custody_signer_refusals_total',
    help: 'Signing requests refused, by reason code.',
    labels: { reason: [...REFUSAL_CODES] },
  });
  return (o: { kind: 'signed' | 'refused' | 'duplicate'; code?: RefusalCode; seconds: number }): void => {
    latency.observe({ outcome: o.kind }, o.seconds);
    if (o.kind === 'refused' && o.code) refusals.inc({ reason: o.code });
  };
}
