import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { allocateNonce } from './nonce-allocation.js';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('C-5.5.5.2-c nonce allocation rule: the lowest released nonce first, then the counter; never a nonce the chain used', () => {
  it('takes the counter when nothing is released, and moves it by one', () => {
    expect(allocateNonce({ next: 7n, released: [], confirmedCount: 3n })).toEqual({ nonce: 7n, source: 'counter', next: 8n, usedOnChain: [] });
  });

  it('takes the LOWEST released nonce (whatever order the free list is read in) and leaves the counter alone', () => {
    expect(allocateNonce({ next: 9n, released: [5n, 2n, 4n], confirmedCount: 2n })).toEqual({ nonce: 2n, source: 'released', next: 9n, usedOnChain: [] });
  });

  it('a released nonce the chain already used (confirmed count > nonce) is never reused: reported, the next one is taken', () => {
    expect(allocateNonce({ next: 9n, released: [2n, 4n], confirmedCount: 3n })).toEqual({ nonce: 4n, source: 'released', next: 9n, usedOnChain: [2n] });
    // all released nonces used on chain → the counter
    expect(allocateNonce({ next: 9n, released: [2n, 4n], confirmedCount: 8n })).toEqual({ nonce: 9n, source: 'counter', next: 10n, usedOnChain: [2n, 4n] });
  });

  it('boundary: confirmed count equal to the released nonce means it is still unused (reused)', () => {
    expect(allocateNonce({ next: 9n, released: [4n], confirmedCount: 4n }).nonce).toBe(4n);
    expect(allocateNonce({ next: 9n, released: [4n], confirmedCount: 5n }).usedOnChain).toEqual([4n]);
  });

  it('without a chain read no released nonce is reused (fail closed): the counter is used, the free list stays', () => {
    expect(allocateNonce({ next: 9n, released: [1n] })).toEqual({ nonce: 9n, source: 'counter', next: 10n, usedOnChain: [] });
  });

  it('refuses corrupt state: a released nonce at/above the counter, or released twice', () => {
    expect(codeOf(() => allocateNonce({ next: 3n, released: [3n], confirmedCount: 0n }))).toBe('INVALID_STATE');
    expect(codeOf(() => allocateNonce({ next: 3n, released: [-1n], confirmedCount: 0n }))).toBe('INVALID_STATE');
    expect(codeOf(() => allocateNonce({ next: 5n, released: [1n, 1n], confirmedCount: 0n }))).toBe('INVALID_STATE');
  });

  it('property: any sequence of allocations and refusal releases never hands out a nonce held by a live withdrawal, and live ∪ free = [0, counter)', () => {
    // op: true = allocate; a number = release the i-th live unsigned nonce (refused)
    const op = fc.oneof(fc.constant<true>(true), fc.nat({ max: 50 }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        let next = 0n;
        const live = new Set<bigint>();
        let free: bigint[] = [];
        for (const o of ops) {
          if (o === true) {
            // nothing signed outside the pipeline: the chain has used none of the released nonces
            const confirmed = free.length > 0 ? free.reduce((a, b) => (a < b ? a : b)) : next;
            const a = allocateNonce({ next, released: free, confirmedCount: confirmed });
            if (live.has(a.nonce)) return false;
            if (free.length > 0 && a.nonce !== confirmed) return false; // the lowest released first
            live.add(a.nonce);
            free = free.filter((n) => n !== a.nonce);
            next = a.next;
          } else if (live.size > 0) {
            const victim = [...live][o % live.size] as bigint;
            live.delete(victim);
            free.push(victim);
          }
        }
        const all = [...live, ...free].sort((a, b) => (a < b ? -1 : 1));
        return all.length === Number(next) && all.every((n, i) => n === BigInt(i));
      }),
      { numRuns: 300 },
    );
  });
});
