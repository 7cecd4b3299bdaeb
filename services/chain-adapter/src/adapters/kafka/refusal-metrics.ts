// custody_chain_signer_refusals_total{outcome}: every custody.tx.refused.v1 the adapter handled,
// by what it did (domain/signer-refusal.ts). Bounded label: never an id or an address.
import { createCounter, type BoundedCounter } from '@custody/platform';
import type { Registry } from 'prom-client';
import { REFUSAL_OUTCOMES, type RefusalOutcome } from '../../domain/signer-refusal.js';

export type RefusalCounter = BoundedCounter<{ outcome: readonly RefusalOutcome[] }>;

export function createRefusalCounter(registry: Registry): RefusalCounter {
  return createCounter(registry, {
    name: 'custody_chain_signer_refusals_total',
    help: 'Signer refusals (custody.tx.refused.v1) handled, by outcome: released = withdrawal FAILED and its nonce back on the free list; unknown/foreign = ignored.',
    labels: { outcome: REFUSAL_OUTCOMES },
  });
}
