// The EVM nonce allocation rule (plain function; the store applies it under the wallet's
// `wallet_nonce` row lock). EVM nonces are sequential: a nonce that will never be signed
// blocks every later one, so a nonce released by a signer refusal is handed out again —
// the LOWEST released one first — before the counter moves on. A released nonce is reused
// only when the chain's confirmed count (`eth_getTransactionCount(latest)`) shows it unused;
// if the chain already used it, something signed outside the pipeline: it is never reused
// and the caller raises an incident.
import { ChainAdapterError } from './errors.js';

export interface NonceAllocationInput {
  /** The allocator's counter: the next never-allocated nonce of the wallet. */
  readonly next: bigint;
  /** Nonces released by refusals (the wallet's free list), any order. */
  readonly released: readonly bigint[];
  /**
   * The chain's confirmed transaction count of the wallet, read for this allocation. Absent:
   * the chain was not asked, so no released nonce can be proven unused — none is reused
   * (they stay on the free list for the next allocation).
   */
  readonly confirmedCount?: bigint;
}

export interface NonceAllocation {
  readonly nonce: bigint;
  readonly source: 'released' | 'counter';
  /** The counter after this allocation (unchanged when a released nonce is reused). */
  readonly next: bigint;
  /** Released nonces the chain has already used (count > nonce): drop from the free list, raise an incident. */
  readonly usedOnChain: readonly bigint[];
}

export function allocateNonce(input: NonceAllocationInput): NonceAllocation {
  const released = [...input.released].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (let i = 1; i < released.length; i++) {
    if (released[i] === released[i - 1]) throw new ChainAdapterError('INVALID_STATE', `nonce ${released[i]} is released twice`);
  }
  const beyond = released.find((n) => n < 0n || n >= input.next);
  // A released nonce was allocated before, so it is below the counter; anything else is corrupt state.
  if (beyond !== undefined) throw new ChainAdapterError('INVALID_STATE', `released nonce ${beyond} is not below the allocator's next nonce ${input.next}`);
  const usedOnChain: bigint[] = [];
  if (input.confirmedCount !== undefined) {
    for (const n of released) {
      if (n < input.confirmedCount) {
        usedOnChain.push(n);
        continue;
      }
      return { nonce: n, source: 'released', next: input.next, usedOnChain };
    }
  }
  return { nonce: input.next, source: 'counter', next: input.next + 1n, usedOnChain };
}
