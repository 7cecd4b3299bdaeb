// Independent verifier of a proof-of-liabilities inclusion proof (scheme custody-pol-v1,
// docs/ledger.md "Proof of liabilities"). Deliberately standalone: it imports nothing of
// the custody code base, only @noble/hashes (SHA-256) and Node built-ins, so a customer can
// audit these ~200 lines and run them on their own machine.
//
//   node verify-liabilities-proof.js <proof.json> <published root hash (hex)> [<published total>]
//
// Prints "OK ..." and exits 0, or "FAIL <step>: <reason>" for the first failing step and
// exits 1 (2 on a usage error). Run the TypeScript with Node >= 22.6
// (--experimental-strip-types) or the swc build (dist/verify-liabilities-proof.js).
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { sha256 } from '@noble/hashes/sha2.js';

const SCHEME = 'custody-pol-v1';
const MAX_U256 = (1n << 256n) - 1n;
const HEX32 = /^[0-9a-f]{64}$/;
const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

export type VerifyResult = { readonly ok: true; readonly root: string; readonly total: string } | { readonly ok: false; readonly step: string; readonly reason: string };

class StepFailure extends Error {
  readonly step: string;
  constructor(step: string, reason: string) {
    super(reason);
    this.step = step;
  }
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function fromHex(step: string, value: unknown): Uint8Array {
  if (typeof value !== 'string' || !HEX32.test(value)) throw new StepFailure(step, 'must be 64 lower-case hex digits (32 bytes)');
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = parseInt(value.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function u256(step: string, value: unknown): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw new StepFailure(step, 'must be an unsigned decimal integer string');
  const n = BigInt(value);
  if (n > MAX_U256) throw new StepFailure(step, 'does not fit in 256 bits');
  return n;
}

function u256be(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  let v = n;
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function u32be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function text(step: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) throw new StepFailure(step, 'must be a non-empty string');
  return value;
}

function index(step: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new StepFailure(step, 'must be a non-negative integer');
  return value;
}

function check(doc: unknown, publishedRoot: string, publishedTotal: string | undefined): { root: string; total: string } {
  if (typeof doc !== 'object' || doc === null) throw new StepFailure('proof', 'is not a JSON object');
  const p = doc as Record<string, unknown>;
  if (p['scheme'] !== SCHEME) throw new StepFailure('scheme', `must be "${SCHEME}"`);
  const clientId = text('client_id', p['client_id']);
  const customerAccount = text('customer_account', p['customer_account']);
  const salt = fromHex('salt', p['salt']);
  const balance = u256('balance', p['balance']);
  const leafIndex = index('leaf_index', p['leaf_index']);
  const leafCount = index('leaf_count', p['leaf_count']);
  if (leafIndex >= leafCount) throw new StepFailure('leaf_index', 'must be below leaf_count');
  const published = fromHex('published root', publishedRoot);

  // Step "leaf": the leaf id hides (client_id, customer_account) behind the salt; the leaf commits to it and the balance.
  const c = utf8(clientId);
  const a = utf8(customerAccount);
  const id = sha256(concat([utf8(`${SCHEME}/id\u0000`), salt, u32be(c.length), c, u32be(a.length), a]));
  let hash = sha256(concat([utf8(`${SCHEME}/leaf\u0000`), id, u256be(balance)]));
  let sum = balance;
  if (p['leaf_hash'] !== undefined && hex(hash) !== p['leaf_hash']) throw new StepFailure('leaf', 'the hash of (leaf id, balance) is not the proof\'s leaf_hash: the balance or the identity differs');

  // Steps "path[i]": the sibling's side follows from the leaf's position and the level sizes.
  const path = p['path'];
  if (!Array.isArray(path)) throw new StepFailure('path', 'must be an array');
  let position = leafIndex;
  let width = leafCount;
  let used = 0;
  while (width > 1) {
    const promoted = position % 2 === 0 && position === width - 1;
    if (!promoted) {
      const step = `path[${used}]`;
      const s = path[used] as Record<string, unknown> | undefined;
      if (typeof s !== 'object' || s === null) throw new StepFailure(step, 'missing: the path is shorter than the tree is deep');
      const expectedSide = position % 2 === 1 ? 'left' : 'right';
      if (s['side'] !== expectedSide) throw new StepFailure(step, `the sibling must be on the ${expectedSide} for leaf ${leafIndex} of ${leafCount}`);
      const siblingHash = fromHex(`${step}.hash`, s['hash']);
      const siblingSum = u256(`${step}.sum`, s['sum']);
      if (sum + siblingSum > MAX_U256) throw new StepFailure(`${step}.sum`, 'the node sum overflows 256 bits');
      const [lh, ls, rh, rs] = expectedSide === 'left' ? [siblingHash, siblingSum, hash, sum] : [hash, sum, siblingHash, siblingSum];
      hash = sha256(concat([utf8(`${SCHEME}/node\u0000`), lh, u256be(ls), rh, u256be(rs)]));
      sum += siblingSum;
      used++;
    }
    position = Math.floor(position / 2);
    width = Math.ceil(width / 2);
  }
  if (used !== path.length) throw new StepFailure(`path[${used}]`, 'unexpected: the path is longer than the tree is deep');

  // Step "root": what the proof leads to must be what was published.
  const root = p['root'] as Record<string, unknown> | undefined;
  if (root !== undefined) {
    if (root['hash'] !== hex(hash)) throw new StepFailure('root.hash', 'the proof\'s root is not the root its path leads to');
    if (root['total'] !== sum.toString()) throw new StepFailure('root.total', 'the proof\'s total is not the sum its path leads to');
  }
  if (hex(hash) !== hex(published)) throw new StepFailure('root', `the path leads to ${hex(hash)}, not to the published root`);
  if (publishedTotal !== undefined && u256('published total', publishedTotal) !== sum) throw new StepFailure('total', `the path sums to ${sum}, not to the published total`);
  return { root: hex(hash), total: sum.toString() };
}

/** Verifies one inclusion proof against a published root hash (and total, if given). */
export function verifyProof(doc: unknown, publishedRoot: string, publishedTotal?: string): VerifyResult {
  try {
    return { ok: true, ...check(doc, publishedRoot, publishedTotal) };
  } catch (err) {
    if (err instanceof StepFailure) return { ok: false, step: err.step, reason: err.message };
    throw err;
  }
}

function main(argv: string[]): number {
  const [file, root, total] = argv;
  if (!file || !root || argv.length > 3) {
    process.stderr.write('usage: verify-liabilities-proof <proof.json> <published root hash hex> [<published total>]\n');
    return 2;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    process.stdout.write(`FAIL proof: cannot read ${file} as JSON (${(err as Error).message})\n`);
    return 1;
  }
  const result = verifyProof(doc, root, total);
  if (result.ok) {
    const p = doc as Record<string, unknown>;
    process.stdout.write(`OK balance ${String(p['balance'])} of ${String(p['client_id'])}/${String(p['customer_account'])} is included in root ${result.root} (total ${result.total})\n`);
    return 0;
  }
  process.stdout.write(`FAIL ${result.step}: ${result.reason}\n`);
  return 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main(process.argv.slice(2));
