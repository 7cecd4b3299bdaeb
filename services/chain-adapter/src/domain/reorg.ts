// Reorganisation detection (C-5.5.4.2-a): the chain emits no reorg event, so compare the
// hash we stored at each height with the node's, walking down from our top block until they
// agree — that height is the common ancestor. Pure: the lookups are passed in.

export type ReorgScan = { readonly kind: 'none' } | { readonly kind: 'reorg'; readonly ancestor: bigint; readonly depth: number } | { readonly kind: 'too-deep'; readonly searched: number };

export async function findCommonAncestor(input: {
  /** Our highest indexed block. */
  readonly top: bigint;
  /** The node's head (blocks above it are gone). */
  readonly head: bigint;
  /** Our stored hash at a height (undefined: below what we index). */
  readonly stored: (height: bigint) => Promise<string | undefined>;
  /** The node's hash at a height (undefined: no such block). */
  readonly canonical: (height: bigint) => Promise<string | undefined>;
  readonly maxDepth: number;
}): Promise<ReorgScan> {
  let height = input.top;
  let depth = 0;
  for (;;) {
    const ours = await input.stored(height);
    if (ours === undefined) break; // nothing older to compare: treat as the ancestor
    const theirs = height <= input.head ? await input.canonical(height) : undefined;
    if (theirs === ours) break;
    depth++;
    if (depth > input.maxDepth) return { kind: 'too-deep', searched: input.maxDepth };
    if (height === 0n) break;
    height--;
  }
  return depth === 0 ? { kind: 'none' } : { kind: 'reorg', ancestor: input.top - BigInt(depth), depth };
}
