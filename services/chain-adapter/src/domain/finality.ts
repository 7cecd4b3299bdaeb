// Per-asset confirmation rule (C-5.5.4-a): confirmations = head − inclusion height + 1;
// FINAL once the asset's depth is reached. Pure.

export type InclusionState = 'PENDING' | 'CONFIRMED' | 'FINAL';

export function confirmationsAt(includedAt: bigint, head: bigint): number {
  if (head < includedAt) return 0;
  const n = head - includedAt + 1n;
  return n > 1_000_000n ? 1_000_000 : Number(n);
}

export function inclusionState(confirmations: number, requiredConfirmations: number): InclusionState {
  if (!Number.isInteger(requiredConfirmations) || requiredConfirmations < 1) throw new RangeError('requiredConfirmations must be a positive integer');
  if (confirmations <= 0) return 'PENDING';
  return confirmations >= requiredConfirmations ? 'FINAL' : 'CONFIRMED';
}

/** A reorg that removes blocks at or below a height we had already declared final. */
export function isBeyondFinality(reorgDepth: number, requiredConfirmations: number): boolean {
  return reorgDepth >= requiredConfirmations;
}

/**
 * Amount-scaled depth (C-8.3.3-b, C-5.5.4-a "N rising with amount"): a transfer of more than
 * `above` base units needs at least `confirmations`. Tiers ascend in both `above` and
 * `confirmations` (validateDepthTiers), so the depth never falls as the amount grows.
 */
export interface DepthTier {
  /** Strictly above this amount (base units) the tier applies. */
  readonly above: bigint;
  readonly confirmations: number;
}

export const MAX_CONFIRMATIONS = 10_000;

/** Problems with a tier list against the base depth ('' when fine). */
export function validateDepthTiers(base: number, tiers: readonly DepthTier[]): string {
  let previous: DepthTier | undefined;
  for (const t of tiers) {
    if (t.above < 0n) return `tier above ${t.above}: the amount must be non-negative`;
    if (!Number.isInteger(t.confirmations) || t.confirmations < 1 || t.confirmations > MAX_CONFIRMATIONS) return `tier above ${t.above}: confirmations must be 1..${MAX_CONFIRMATIONS}`;
    if (t.confirmations <= base) return `tier above ${t.above}: ${t.confirmations} confirmations is not more than the base depth ${base}`;
    if (previous && (t.above <= previous.above || t.confirmations <= previous.confirmations)) return `tiers must ascend in amount and in confirmations (${previous.above}:${previous.confirmations} then ${t.above}:${t.confirmations})`;
    previous = t;
  }
  return '';
}

/**
 * Confirmations required for a transfer of `amount`: the base depth, raised by every tier the
 * amount is above, times `factor` (the pause breaker's raise, ≥ 1), capped at MAX_CONFIRMATIONS.
 */
export function requiredConfirmations(amount: bigint, rule: { readonly confirmations: number; readonly depthTiers?: readonly DepthTier[] }, factor = 1): number {
  if (!Number.isInteger(factor) || factor < 1) throw new RangeError('factor must be a positive integer');
  let n = rule.confirmations;
  for (const t of rule.depthTiers ?? []) if (amount > t.above && t.confirmations > n) n = t.confirmations;
  return Math.min(MAX_CONFIRMATIONS, n * factor);
}
