// Prometheus metrics of the signer: signing latency by outcome, refusals by reason and
// signatures by chain (bounded label sets: the refusal codes are a closed list, the chains
// are those of the configured asset profiles; any other chain is recorded as "other").
import { OTHER_LABEL_VALUE, createCounter, createHistogram } from '@custody/platform';
import type { Registry } from 'prom-client';
import { REFUSAL_CODES, type RefusalCode } from '../domain/refusal.js';

/** `chains`: the chains of the configured asset profiles (the only values of the `chain` label). */
export function createSignerMetrics(registry: Registry, chains: readonly string[] = []) {
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
  const signatures = createCounter(registry, {
    name: 'custody_signer_signatures_total',
    help: 'Signatures released (tx.signed enqueued), by chain.',
    labels: { chain: chains.length > 0 ? [...new Set(chains)] : [OTHER_LABEL_VALUE] },
  });
  return (o: { kind: 'signed' | 'refused' | 'duplicate'; code?: RefusalCode; chain?: string; seconds: number }): void => {
    latency.observe({ outcome: o.kind }, o.seconds);
    if (o.kind === 'refused' && o.code) refusals.inc({ reason: o.code });
    if (o.kind === 'signed') signatures.inc({ chain: o.chain ?? OTHER_LABEL_VALUE });
  };
}
