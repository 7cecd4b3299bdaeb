// Proof of liabilities: a Merkle SUM tree over the customer balances of one asset (scheme
// "custody-pol-v1", encodings byte by byte in docs/ledger.md). Pure functions; SHA-256
// from @noble/hashes. The independent verifier (src/verify-liabilities-proof.ts)
// re-implements the same encodings without importing this file.
//
//   leaf id = SHA256("custody-pol-v1/id"   0x00 ‖ salt[32] ‖ u32be(len c) ‖ c ‖ u32be(len a) ‖ a)
//   leaf    = SHA256("custody-pol-v1/leaf" 0x00 ‖ leaf id[32] ‖ u256be(balance))
//   node    = SHA256("custody-pol-v1/node" 0x00 ‖ left hash[32] ‖ u256be(left sum) ‖ right hash[32] ‖ u256be(right sum))
//   node sum = left sum + right sum; a level's last node without a sibling moves up unchanged.
//
// The node commits to BOTH children's sums (not only to their total): with only the total a
// prover can show the two sides of a node different splits of it and understate the
// liabilities (the flaw of Maxwell's original scheme, Hu-Zhang-Guo 2019). Sums are
// unsigned, so no negative balance can cancel a liability.
import { sha256 } from '@noble/hashes/sha2.js';
import { DomainError } from '@custody/platform';

export const POL_SCHEME = 'custody-pol-v1';
export const SALT_BYTES = 32;
/** Balances and sums are 256-bit unsigned integers on the wire of the tree. */
export const MAX_SUM = (1n << 256n) - 1n;

const encoder = new TextEncoder();
const TAG_ID = encoder.encode(`${POL_SCHEME}/id\u0000`);
const TAG_LEAF = encoder.encode(`${POL_SCHEME}/leaf\u0000`);
const TAG_NODE = encoder.encode(`${POL_SCHEME}/node\u0000`);

/** A tree that cannot be built honestly (negative or too large balance, overflowing sum). */
export class LiabilitiesTreeError extends DomainError {
  constructor(message: string) {
    super('LIABILITIES_TREE_INVALID', message);
  }
}

export interface TreeNode {
  readonly hash: Uint8Array;
  readonly sum: bigint;
}

export interface LiabilityLeaf {
  readonly clientId: string;
  readonly customerAccount: string;
  readonly salt: Uint8Array;
  readonly balance: bigint;
}

export interface ProofStep {
  readonly side: 'left' | 'right';
  readonly hash: Uint8Array;
  readonly sum: bigint;
}

export function u256be(value: bigint): Uint8Array {
  if (value < 0n) throw new LiabilitiesTreeError('a balance or sum cannot be negative');
  if (value > MAX_SUM) throw new LiabilitiesTreeError('a balance or sum does not fit in 256 bits');
  const out = new Uint8Array(32);
  let v = value;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n, false);
  return out;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function leafId(salt: Uint8Array, clientId: string, customerAccount: string): Uint8Array {
  if (salt.length !== SALT_BYTES) throw new LiabilitiesTreeError(`a leaf salt must be ${SALT_BYTES} bytes`);
  const c = encoder.encode(clientId);
  const a = encoder.encode(customerAccount);
  return sha256(concat([TAG_ID, salt, u32be(c.length), c, u32be(a.length), a]));
}

export function leafHash(id: Uint8Array, balance: bigint): Uint8Array {
  return sha256(concat([TAG_LEAF, id, u256be(balance)]));
}

export function parent(left: TreeNode, right: TreeNode): TreeNode {
  const sum = left.sum + right.sum;
  if (sum > MAX_SUM) throw new LiabilitiesTreeError('the sum of the balances does not fit in 256 bits');
  return { hash: sha256(concat([TAG_NODE, left.hash, u256be(left.sum), right.hash, u256be(right.sum)])), sum };
}

/** Every level of the tree, leaves first, the root alone last. */
export function buildTree(leaves: readonly LiabilityLeaf[]): TreeNode[][] {
  if (leaves.length === 0) throw new LiabilitiesTreeError('no customer balances to commit to');
  const levels: TreeNode[][] = [leaves.map((l) => ({ hash: leafHash(leafId(l.salt, l.clientId, l.customerAccount), l.balance), sum: l.balance }))];
  for (let level = levels[0] as TreeNode[]; level.length > 1; ) {
    const next: TreeNode[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as TreeNode;
      const right = level[i + 1];
      next.push(right ? parent(left, right) : left);
    }
    levels.push(next);
    level = next;
  }
  return levels;
}

export function rootOf(levels: readonly (readonly TreeNode[])[]): TreeNode {
  const top = levels[levels.length - 1];
  if (!top || top.length !== 1) throw new LiabilitiesTreeError('not a built tree');
  return top[0] as TreeNode;
}

/** The siblings from leaf `index` up to the root (a promoted node has no step at that level). */
export function proofPath(levels: readonly (readonly TreeNode[])[], index: number): ProofStep[] {
  const leaves = levels[0];
  if (!leaves || !Number.isInteger(index) || index < 0 || index >= leaves.length) throw new LiabilitiesTreeError('leaf index out of range');
  const path: ProofStep[] = [];
  let i = index;
  for (const level of levels.slice(0, -1)) {
    const siblingIndex = i % 2 === 1 ? i - 1 : i + 1;
    const sibling = level[siblingIndex];
    if (sibling) path.push({ side: i % 2 === 1 ? 'left' : 'right', hash: sibling.hash, sum: sibling.sum });
    i = Math.floor(i / 2);
  }
  return path;
}

export const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** The JSON document the verifier reads (docs/ledger.md "Proof JSON"). */
export interface ProofDocument {
  readonly scheme: string;
  readonly snapshot_id: string;
  readonly asset: string;
  readonly client_id: string;
  readonly customer_account: string;
  readonly salt: string;
  readonly balance: string;
  readonly leaf_index: number;
  readonly leaf_count: number;
  readonly leaf_hash: string;
  readonly path: readonly { readonly side: 'left' | 'right'; readonly hash: string; readonly sum: string }[];
  readonly root: { readonly hash: string; readonly total: string };
}

export function proofDocument(input: {
  snapshotId: string;
  asset: string;
  leaf: LiabilityLeaf;
  leafIndex: number;
  levels: readonly (readonly TreeNode[])[];
}): ProofDocument {
  const { leaf, levels } = input;
  const root = rootOf(levels);
  return {
    scheme: POL_SCHEME,
    snapshot_id: input.snapshotId,
    asset: input.asset,
    client_id: leaf.clientId,
    customer_account: leaf.customerAccount,
    salt: toHex(leaf.salt),
    balance: leaf.balance.toString(),
    leaf_index: input.leafIndex,
    leaf_count: (levels[0] as readonly TreeNode[]).length,
    leaf_hash: toHex((levels[0] as readonly TreeNode[])[input.leafIndex]?.hash ?? new Uint8Array()),
    path: proofPath(levels, input.leafIndex).map((s) => ({ side: s.side, hash: toHex(s.hash), sum: s.sum.toString() })),
    root: { hash: toHex(root.hash), total: root.sum.toString() },
  };
}

/**
 * Splits a ledger customer account id ("customer:<client_id>:<customer_account>") at the
 * first ':' after the prefix (the inverse of customerAccount()).
 */
export function parseCustomerAccount(account: string): { clientId: string; customerAccount: string } {
  const m = /^customer:([^:]+):(.+)$/s.exec(account);
  if (!m) throw new LiabilitiesTreeError('not a customer account');
  return { clientId: m[1] as string, customerAccount: m[2] as string };
}

/** Fisher-Yates; `randomBelow(n)` is uniform in [0, n) (leaf order must not reveal anything). */
export function shuffle<T>(items: readonly T[], randomBelow: (n: number) => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomBelow(i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
