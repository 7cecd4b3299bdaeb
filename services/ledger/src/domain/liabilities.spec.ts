// Merkle sum tree (domain/liabilities.ts) checked by the independent verifier
// (verify-liabilities-proof.ts): every proof verifies; any tampering fails; overflow guarded.
import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { verifyProof } from '../verify-liabilities-proof.js';
import { LiabilitiesTreeError, MAX_SUM, buildTree, parent, proofDocument, rootOf, shuffle, toHex, u256be, type LiabilityLeaf, type ProofDocument, type TreeNode } from './liabilities.js';

const salt = (i: number): Uint8Array => {
  const s = new Uint8Array(32);
  new DataView(s.buffer).setUint32(28, i + 1);
  return s;
};
const leavesOf = (balances: readonly bigint[]): LiabilityLeaf[] => balances.map((balance, i) => ({ clientId: `client-${i % 7}`, customerAccount: `acct-${i}`, salt: salt(i), balance }));
const proofs = (leaves: readonly LiabilityLeaf[]): { docs: ProofDocument[]; root: TreeNode } => {
  const levels = buildTree(leaves);
  return { docs: leaves.map((leaf, leafIndex) => proofDocument({ snapshotId: 's', asset: 'ETH', leaf, leafIndex, levels })), root: rootOf(levels) };
};
const balancesArb = fc.array(fc.bigInt({ min: 0n, max: 10n ** 30n }), { minLength: 1, maxLength: 70 });
const flipHex = (h: string): string => (h[0] === '0' ? '1' : '0') + h.slice(1);

describe('proof of liabilities: Merkle sum tree and the independent verifier', () => {
  it('every leaf’s proof verifies against the root, and the root commits to the sum of all balances (random trees)', () => {
    fc.assert(
      fc.property(balancesArb, (balances) => {
        const { docs, root } = proofs(leavesOf(balances));
        expect(root.sum).toBe(balances.reduce((a, b) => a + b, 0n));
        for (const doc of docs) expect(verifyProof(doc, toHex(root.hash), root.sum.toString())).toEqual({ ok: true, root: toHex(root.hash), total: root.sum.toString() });
      }),
      { numRuns: 60 },
    );
  });

  it('tampering with the balance, the identity, any sibling sum or hash, the position or the root fails', () => {
    fc.assert(
      fc.property(balancesArb, fc.nat(), fc.nat(), fc.bigInt({ min: 1n, max: 1000n }), (balances, pick, step, delta) => {
        const { docs, root } = proofs(leavesOf(balances));
        const doc = docs[pick % docs.length] as ProofDocument;
        const rootHex = toHex(root.hash);
        const fails = (d: unknown, r = rootHex, total?: string) => expect(verifyProof(d, r, total).ok).toBe(false);
        fails({ ...doc, balance: (BigInt(doc.balance) + delta).toString() });
        fails({ ...doc, balance: (BigInt(doc.balance) + delta).toString(), leaf_hash: undefined });
        fails({ ...doc, customer_account: `${doc.customer_account}x` });
        fails({ ...doc, salt: flipHex(doc.salt) });
        fails(doc, flipHex(rootHex));
        fails(doc, rootHex, (root.sum + delta).toString());
        fails({ ...doc, root: { ...doc.root, total: (root.sum + delta).toString() } });
        if (doc.path.length > 0) {
          const i = step % doc.path.length;
          const s = doc.path[i] as ProofDocument['path'][number];
          const withStep = (changed: object) => ({ ...doc, path: doc.path.map((p, j) => (j === i ? { ...p, ...changed } : p)) });
          fails(withStep({ sum: (BigInt(s.sum) + delta).toString() }));
          if (BigInt(s.sum) >= delta) fails(withStep({ sum: (BigInt(s.sum) - delta).toString() }));
          fails(withStep({ hash: flipHex(s.hash) }));
          fails(withStep({ side: s.side === 'left' ? 'right' : 'left' }));
          fails({ ...doc, path: doc.path.slice(0, -1) });
          fails({ ...doc, leaf_index: doc.leaf_index ^ 1, leaf_hash: undefined });
        }
        fails({ ...doc, path: [...doc.path, { side: 'right', hash: rootHex, sum: '0' }] });
      }),
      { numRuns: 60 },
    );
  });

  it('the verifier names the first failing step', () => {
    const { docs, root } = proofs(leavesOf([5n, 7n, 11n]));
    const doc = docs[0] as ProofDocument;
    const path = doc.path.map((p, j) => (j === 1 ? { ...p, sum: '0' } : p));
    expect(verifyProof({ ...doc, path, root: undefined }, toHex(root.hash))).toMatchObject({ ok: false, step: 'root' });
    expect(verifyProof({ ...doc, balance: '6' }, toHex(root.hash))).toMatchObject({ ok: false, step: 'leaf' });
    expect(verifyProof({ ...doc, balance: '-5', leaf_hash: undefined }, toHex(root.hash))).toMatchObject({ ok: false, step: 'balance' });
    expect(verifyProof({ ...doc, path: [{ ...doc.path[0], sum: '1e3' }, doc.path[1]] }, toHex(root.hash))).toMatchObject({ ok: false, step: 'path[0].sum' });
    expect(verifyProof({ ...doc, scheme: 'other' }, toHex(root.hash))).toMatchObject({ ok: false, step: 'scheme' });
  });

  it('both children’s sums are committed: the split attack on a node that only commits the total fails', () => {
    // Leaves a=10, b=4 under one node. A prover showing b's owner "sibling sum 0" (to
    // understate the total as max(a, b)) changes the node's hash, so the root no longer matches.
    const { docs, root } = proofs(leavesOf([10n, 4n]));
    const forB = docs[1] as ProofDocument;
    const lied = { ...forB, path: [{ ...(forB.path[0] as ProofDocument['path'][number]), sum: '0' }], root: undefined };
    expect(verifyProof(lied, toHex(root.hash))).toMatchObject({ ok: false, step: 'root' });
    expect(verifyProof(forB, toHex(root.hash), '10')).toMatchObject({ ok: false, step: 'total' });
  });

  it('one leaf: the root is the leaf and the path is empty; odd counts promote the last node', () => {
    const one = proofs(leavesOf([42n]));
    expect(one.docs[0]?.path).toEqual([]);
    expect(one.docs[0]?.root).toEqual({ hash: one.docs[0]?.leaf_hash, total: '42' });
    expect(verifyProof(one.docs[0], toHex(one.root.hash), '42').ok).toBe(true);
    for (const n of [3, 5, 7, 9, 33]) {
      const { docs, root } = proofs(leavesOf(Array.from({ length: n }, (_, i) => BigInt(i))));
      expect(docs.every((d) => verifyProof(d, toHex(root.hash), root.sum.toString()).ok)).toBe(true);
      // The last leaf of an odd level skips that level (no sibling), so its path is shorter.
      expect((docs[n - 1] as ProofDocument).path.length).toBeLessThan((docs[0] as ProofDocument).path.length);
    }
  });

  it('10,000 leaves: proofs of 200 random leaves verify, paths are 14 steps at most', () => {
    const balances = Array.from({ length: 10_000 }, (_, i) => BigInt(i) * 1_000_000_007n);
    const leaves = leavesOf(balances);
    const levels = buildTree(leaves);
    const root = rootOf(levels);
    expect(root.sum).toBe(balances.reduce((a, b) => a + b, 0n));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 9_999 }), (i) => {
        const doc = proofDocument({ snapshotId: 's', asset: 'ETH', leaf: leaves[i] as LiabilityLeaf, leafIndex: i, levels });
        expect(doc.path.length).toBeLessThanOrEqual(14);
        expect(verifyProof(doc, toHex(root.hash), root.sum.toString()).ok).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('sums are guarded: no negative balance, no balance or sum beyond 2^256 - 1 (tree and verifier)', () => {
    expect(() => buildTree(leavesOf([-1n]))).toThrow(LiabilitiesTreeError);
    expect(() => buildTree(leavesOf([MAX_SUM + 1n]))).toThrow(LiabilitiesTreeError);
    expect(() => buildTree(leavesOf([MAX_SUM, 1n]))).toThrow(/does not fit in 256 bits/);
    expect(() => buildTree([])).toThrow(LiabilitiesTreeError);
    expect(buildTree(leavesOf([MAX_SUM, 0n])).length).toBe(2);
    expect(() => parent({ hash: new Uint8Array(32), sum: MAX_SUM }, { hash: new Uint8Array(32), sum: 1n })).toThrow(LiabilitiesTreeError);
    expect(Buffer.from(u256be(258n)).toString('hex')).toBe(`${'00'.repeat(30)}0102`);
    // The verifier refuses a sibling sum that would overflow instead of wrapping around.
    const { docs, root } = proofs(leavesOf([1n, 2n]));
    const doc = docs[0] as ProofDocument;
    const huge = { ...doc, path: [{ ...(doc.path[0] as ProofDocument['path'][number]), sum: MAX_SUM.toString() }] };
    expect(verifyProof(huge, toHex(root.hash))).toMatchObject({ ok: false, step: 'path[0].sum' });
    expect(verifyProof({ ...doc, path: [{ ...(doc.path[0] as ProofDocument['path'][number]), sum: (MAX_SUM + 1n).toString() }] }, toHex(root.hash))).toMatchObject({ ok: false, step: 'path[0].sum' });
  });

  it('shuffle is a permutation', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 50 }), fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (items, draws) => {
        let k = 0;
        const out = shuffle(items, (n) => (draws[k++ % draws.length] as number) % n);
        expect([...out].sort((a, b) => a - b)).toEqual([...items].sort((a, b) => a - b));
      }),
    );
  });

  it('the verifier is independent: it imports only @noble/hashes and Node built-ins', () => {
    const source = readFileSync(new URL('../verify-liabilities-proof.ts', import.meta.url), 'utf8');
    const imports = [...source.matchAll(/^import\s[^;]*?from\s+'([^']+)'/gm)].map((m) => m[1]);
    expect(imports.length).toBeGreaterThan(0);
    for (const spec of imports) expect(spec).toMatch(/^(node:|@noble\/hashes\/)/);
    expect(source).not.toMatch(/import\(/);
  });
});
