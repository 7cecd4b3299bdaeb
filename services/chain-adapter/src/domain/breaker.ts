// Per-chain pause breaker (C-8.3.3-b, C-5.5.4-b): latched. A reorganisation deeper than the
// configured threshold (or past finality, or with no ancestor in reach) or endpoints that
// disagree about the chain trip it; only an operator clears it. While tripped no withdrawal is
// prepared and every confirmation depth is multiplied by the breaker's factor. Pure.

export type BreakerTripKind = 'REORG_DEPTH_EXCEEDED' | 'REORG_BEYOND_FINALITY' | 'REORG_TOO_DEEP' | 'CHAIN_VIEW_DIVERGENCE';

export interface BreakerRow {
  readonly chain: string;
  readonly state: 'CLEAR' | 'TRIPPED';
  readonly tripKind: string;
  readonly tripDetail: string;
  readonly trippedAt: Date | null;
  /** Multiplier of every required depth while tripped (1 when clear). */
  readonly depthFactor: number;
  readonly resumedBy: string;
  readonly resumeReason: string;
  readonly resumedAt: Date | null;
}

export interface BreakerPolicy {
  /** A reorg at least this deep trips the breaker (0: only past finality). */
  readonly pauseReorgDepth: number;
  /** Depth multiplier while tripped (≥ 1). */
  readonly depthFactor: number;
}

export const CLEAR_BREAKER = (chain: string): BreakerRow => ({ chain, state: 'CLEAR', tripKind: '', tripDetail: '', trippedAt: null, depthFactor: 1, resumedBy: '', resumeReason: '', resumedAt: null });

/** What a reorg of `depth` blocks trips, if anything. */
export function reorgTrip(depth: number, beyondFinality: boolean, policy: BreakerPolicy): BreakerTripKind | undefined {
  if (beyondFinality) return 'REORG_BEYOND_FINALITY';
  if (policy.pauseReorgDepth > 0 && depth >= policy.pauseReorgDepth) return 'REORG_DEPTH_EXCEEDED';
  return undefined;
}

/** The factor depths are multiplied by now. */
export function activeDepthFactor(b: BreakerRow | undefined): number {
  return b?.state === 'TRIPPED' ? Math.max(1, b.depthFactor) : 1;
}

export function validateBreakerPolicy(p: BreakerPolicy): string {
  if (!Number.isInteger(p.pauseReorgDepth) || p.pauseReorgDepth < 0 || p.pauseReorgDepth > 10_000) return 'pauseReorgDepth must be 0..10000';
  if (!Number.isInteger(p.depthFactor) || p.depthFactor < 1 || p.depthFactor > 100) return 'depthFactor must be 1..100';
  return '';
}
