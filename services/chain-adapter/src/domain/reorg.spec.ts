import { describe, expect, it } from '@jest/globals';
import { findCommonAncestor } from './reorg.js';

/** Chains as arrays of hashes by height. */
function scan(ours: string[], theirs: string[], maxDepth = 10) {
  return findCommonAncestor({
    top: BigInt(ours.length - 1),
    head: BigInt(theirs.length - 1),
    stored: async (h) => ours[Number(h)],
    canonical: async (h) => theirs[Number(h)],
    maxDepth,
  });
}

describe('C-5.5.4.2-a reorg detection by block-hash comparison', () => {
  it('no reorg when our top block is still the node’s block at that height (node ahead is fine)', async () => {
    await expect(scan(['g', 'a1', 'a2'], ['g', 'a1', 'a2', 'a3'])).resolves.toEqual({ kind: 'none' });
  });

  it('a 2-block reorg at the same height finds the common ancestor', async () => {
    await expect(scan(['g', 'a1', 'a2', 'a3'], ['g', 'a1', 'b2', 'b3'])).resolves.toEqual({ kind: 'reorg', ancestor: 1n, depth: 2 });
  });

  it('a node that went back below our top (revert, not yet re-mined) is a reorg too', async () => {
    await expect(scan(['g', 'a1', 'a2', 'a3'], ['g', 'a1'])).resolves.toEqual({ kind: 'reorg', ancestor: 1n, depth: 2 });
  });

  it('a longer new branch replacing ours from genesis+1', async () => {
    await expect(scan(['g', 'a1', 'a2'], ['g', 'b1', 'b2', 'b3', 'b4'])).resolves.toEqual({ kind: 'reorg', ancestor: 0n, depth: 2 });
  });

  it('no ancestor within the bound stops the search (REORG_TOO_DEEP upstream)', async () => {
    await expect(scan(['g', 'a1', 'a2', 'a3', 'a4'], ['g', 'b1', 'b2', 'b3', 'b4'], 3)).resolves.toEqual({ kind: 'too-deep', searched: 3 });
  });

  it('only indexed heights are compared (we started indexing at height 2)', async () => {
    const ours: (string | undefined)[] = [undefined, undefined, 'a2', 'a3'];
    await expect(
      findCommonAncestor({ top: 3n, head: 3n, stored: async (h) => ours[Number(h)], canonical: async (h) => ['g', 'x', 'b2', 'b3'][Number(h)], maxDepth: 10 }),
    ).resolves.toEqual({ kind: 'reorg', ancestor: 1n, depth: 2 });
  });
});
