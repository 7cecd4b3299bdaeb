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
