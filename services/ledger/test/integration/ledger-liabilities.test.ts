// Proof of liabilities over real gRPC + PostgreSQL: a snapshot built from the real journal
// (postings made through the ledger application) commits to exactly the customer
// liabilities in the books; a real customer's proof verifies with the independent verifier
// compiled by swc and run as a plain Node child process; tampered proofs are refused.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformFileSync } from '@swc/core';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { LedgerServiceClient } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { startLedger, type LedgerHandle } from '../../src/index.js';
import { HOT_WALLET, createTestDatabase, quietLogger, registerWallet, type TestDatabase } from './support.js';

type BuildResponse = Parameters<Parameters<LedgerServiceClient['buildLiabilitiesSnapshot']>[3]>[1];
type ProofResponse = Parameters<Parameters<LedgerServiceClient['getLiabilitiesProof']>[3]>[1];

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;
let client: LedgerServiceClient;
let workDir: string;
let verifierJs: string;

const operatorMetadata = (): Metadata => {
  const md = new Metadata();
  md.set('x-test-operator', 'olivia');
  return md;
};
const build = (asset: string, md = operatorMetadata()): Promise<BuildResponse> =>
  new Promise((resolve, reject) => client.buildLiabilitiesSnapshot({ asset }, md, (err, res) => (err ? reject(err) : resolve(res))));
const proof = (snapshotId: string, clientId: string, customerAccount: string): Promise<ProofResponse> =>
  new Promise((resolve, reject) => client.getLiabilitiesProof({ snapshotId, clientId, customerAccount }, new Metadata(), (err, res) => (err ? reject(err) : resolve(res))));
const failure = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (e) {
    return { code: (e as ServiceError).code, reason: errorReason((e as ServiceError).metadata) };
  }
  throw new Error('expected failure');
};

/** Runs the built verifier: `node verify-liabilities-proof.mjs <proof.json> <root> [total]`. */
function verify(proofJson: string, ...published: string[]): Promise<{ code: number; stdout: string }> {
  const file = join(workDir, `${randomUUID()}.json`);
  writeFileSync(file, proofJson);
  return new Promise((resolve) => {
    execFile(process.execPath, [verifierJs, file, ...published], { cwd: workDir, timeout: 30_000 }, (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout });
    });
  });
}

const ctx = () => ({ eventId: randomUUID(), correlationId: 'corr-pol' });
const customers = Array.from({ length: 11 }, (_, i) => `c${i}`);

beforeAll(async () => {
  // The verifier, compiled alone with the project's swc settings, in a folder that holds nothing of ours.
  workDir = mkdtempSync(join(tmpdir(), 'ledger-verify-'));
  symlinkSync(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'), 'dir');
  const { code } = transformFileSync(join(repoRoot, 'services/ledger/src/verify-liabilities-proof.ts'), { swcrc: true, configFile: join(repoRoot, '.swcrc'), sourceMaps: false });
  verifierJs = join(workDir, 'verify-liabilities-proof.mjs');
  writeFileSync(verifierJs, code);

  db = await createTestDatabase();
  bus = new InProcessBus();
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    grpc: {
      host: '127.0.0.1',
      port: 0,
      credentials: { kind: 'insecure' },
      operator: (call) => {
        const v = call.metadata.get('x-test-operator')[0];
        return typeof v === 'string' ? v : undefined;
      },
    },
  });
  client = new LedgerServiceClient(`127.0.0.1:${ledger.grpcPort}`, credentials.createInsecure());
  const tx = <T>(work: (t: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);
  const { postings } = ledger;
  await registerWallet(ledger);
  for (const [i, c] of customers.entries()) {
    await tx((t) => postings.depositFinal({ depositId: `d-${c}`, clientId: i % 2 ? 'acme' : 'globex', customerAccount: c, asset: 'ETH', amount: BigInt(1_000 * (i + 1)) }, ctx(), t));
    const w = randomUUID();
    await tx((t) => postings.withdrawalRequested({ withdrawalId: w, clientId: i % 2 ? 'acme' : 'globex', customerAccount: c, asset: 'ETH', chain: 'ethereum', amount: BigInt(100 * (i + 1)) }, ctx(), t));
    if (i % 3 === 0) await tx((t) => postings.settle(w, HOT_WALLET, 7n, ctx(), t));
    else if (i % 3 === 1) await tx((t) => postings.release(w, 'CANCELLED', ctx(), t));
  }
  // A customer whose whole balance left (balance 0, still a leaf), and another asset.
  const gone = randomUUID();
  await tx((t) => postings.depositFinal({ depositId: 'd-zed', clientId: 'acme', customerAccount: 'zed', asset: 'ETH', amount: 5n }, ctx(), t));
  await tx((t) => postings.withdrawalRequested({ withdrawalId: gone, clientId: 'acme', customerAccount: 'zed', asset: 'ETH', chain: 'ethereum', amount: 5n }, ctx(), t));
  await tx((t) => postings.settle(gone, HOT_WALLET, 1n, ctx(), t));
  await tx((t) => postings.depositFinal({ depositId: 'd-btc', clientId: 'acme', customerAccount: 'c1', asset: 'BTC', amount: 3n }, ctx(), t));
});

afterAll(async () => {
  client?.close();
  await ledger?.stop();
  await bus?.close();
  await db?.drop();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('proof of liabilities: snapshot of the real books', () => {
  let snapshot: NonNullable<BuildResponse['snapshot']>;

  beforeAll(async () => {
    const res = await build('ETH');
    if (!res.snapshot) throw new Error('no snapshot');
    snapshot = res.snapshot;
  });

  it('the snapshot commits to exactly the customer liabilities in the books (balances and journal), and is stored', async () => {
    const [books] = await db.admin<{ total: string; n: string }>(`SELECT sum(available + held)::text AS total, count(*)::text AS n FROM ledger_balance WHERE asset = 'ETH' AND account LIKE 'customer:%'`);
    const [journal] = await db.admin<{ total: string }>(`SELECT (-sum(amount))::text AS total FROM journal_line WHERE asset = 'ETH' AND account LIKE 'customer:%'`);
    const [position] = await db.admin<{ seq: string }>(`SELECT max(seq)::text AS seq FROM journal_entry`);
    // 11 customers deposited 1000*(i+1); settled withdrawals (i % 3 == 0) took 100*(i+1) out.
    const expected = customers.reduce((sum, _c, i) => sum + BigInt(1_000 * (i + 1)) - (i % 3 === 0 ? BigInt(100 * (i + 1)) : 0n), 0n);
    expect(snapshot.total).toBe(expected.toString());
    expect(snapshot.total).toBe(books?.total);
    expect(snapshot.total).toBe(journal?.total);
    expect(snapshot).toMatchObject({ asset: 'ETH', scheme: 'custody-pol-v1', leafCount: String(Number(books?.n)), asOfSequence: position?.seq, builtBy: 'olivia' });
    expect(snapshot.leafCount).toBe('12');
    expect(snapshot.rootHash).toMatch(/^[0-9a-f]{64}$/);
    const stored = await db.admin<{ root_hash: string; total: string; leaves: string }>(
      `SELECT s.root_hash, s.total::text AS total, (SELECT count(*) FROM ledger_liabilities_leaf l WHERE l.snapshot_id = s.snapshot_id)::text AS leaves FROM ledger_liabilities_snapshot s WHERE s.snapshot_id = $1`,
      [snapshot.snapshotId],
    );
    expect(stored).toEqual([{ root_hash: snapshot.rootHash, total: snapshot.total, leaves: '12' }]);
  });

  it('a real customer’s proof verifies with the independent verifier (built JS, child process); the same proof tampered does not', async () => {
    const p = await proof(snapshot.snapshotId, 'globex', 'c4');
    // c4: deposited 5000, 500 held (i % 3 == 1 -> released): balance 5000.
    expect(p).toMatchObject({ clientId: 'globex', customerAccount: 'c4', balance: '5000', snapshot: { rootHash: snapshot.rootHash } });
    expect(p.leafSalt).toMatch(/^[0-9a-f]{64}$/);
    expect(p.path.length).toBeGreaterThanOrEqual(3);
    const ok = await verify(p.proofJson, snapshot.rootHash, snapshot.total);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^OK balance 5000 of globex\/c4 is included in root [0-9a-f]{64}/);

    const doc = JSON.parse(p.proofJson) as { balance: string; path: { sum: string; hash: string }[]; [k: string]: unknown };
    const tampered = await verify(JSON.stringify({ ...doc, balance: '50000' }), snapshot.rootHash);
    expect(tampered).toEqual({ code: 1, stdout: expect.stringMatching(/^FAIL leaf: /) });
    const otherSibling = { ...doc, leaf_hash: undefined, root: undefined, path: doc.path.map((s, i) => (i === 0 ? { ...s, sum: (BigInt(s.sum) + 1n).toString() } : s)) };
    expect(await verify(JSON.stringify(otherSibling), snapshot.rootHash)).toEqual({ code: 1, stdout: expect.stringMatching(/^FAIL root: /) });
    expect((await verify(p.proofJson, 'ab'.repeat(32))).stdout).toMatch(/^FAIL root: /);
    expect((await verify(p.proofJson, snapshot.rootHash, '1')).stdout).toMatch(/^FAIL total: /);
    expect((await verify(p.proofJson)).code).toBe(2);
  });

  it('a customer with a zero balance is in the tree and can verify it; every customer’s proof verifies', async () => {
    const zed = await proof(snapshot.snapshotId, 'acme', 'zed');
    expect(zed.balance).toBe('0');
    expect((await verify(zed.proofJson, snapshot.rootHash, snapshot.total)).code).toBe(0);
    const indexes = new Set<string>([zed.leafIndex]);
    for (const [i, c] of customers.entries()) {
      const p = await proof(snapshot.snapshotId, i % 2 ? 'acme' : 'globex', c);
      indexes.add(p.leafIndex);
      const doc = JSON.parse(p.proofJson) as { root: { hash: string; total: string } };
      expect(doc.root).toEqual({ hash: snapshot.rootHash, total: snapshot.total });
    }
    expect(indexes.size).toBe(12);
  });

  it('a later snapshot has a new root and new salts; the earlier one still proves what it committed to', async () => {
    const tx = <T>(work: (t: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);
    await tx((t) => ledger.postings.depositFinal({ depositId: 'd-more', clientId: 'globex', customerAccount: 'c4', asset: 'ETH', amount: 1n }, ctx(), t));
    const later = (await build('ETH')).snapshot;
    expect(later?.rootHash).not.toBe(snapshot.rootHash);
    expect(later?.total).toBe((BigInt(snapshot.total) + 1n).toString());
    const oldProof = await proof(snapshot.snapshotId, 'globex', 'c4');
    const newProof = await proof(later?.snapshotId ?? '', 'globex', 'c4');
    expect([oldProof.balance, newProof.balance]).toEqual(['5000', '5001']);
    expect(newProof.leafSalt).not.toBe(oldProof.leafSalt);
    expect((await verify(oldProof.proofJson, snapshot.rootHash, snapshot.total)).code).toBe(0);
    expect((await verify(newProof.proofJson, snapshot.rootHash)).code).toBe(1);
  });

  it('a stored snapshot is append-only for the service role, and a corrupted one answers no proof', async () => {
    for (const sql of [`UPDATE ledger_liabilities_snapshot SET total = 0`, `DELETE FROM ledger_liabilities_leaf`, `UPDATE ledger_liabilities_leaf SET balance = 0`, `TRUNCATE ledger_liabilities_snapshot`]) {
      await expect(db.as(db.appUrl, sql)).rejects.toMatchObject({ code: '42501' });
    }
    // A superuser edit of one leaf: the rebuilt tree no longer gives the stored root -> INTERNAL, no proof.
    const victim = (await build('ETH')).snapshot?.snapshotId ?? '';
    await db.admin(`UPDATE ledger_liabilities_leaf SET balance = balance + 1 WHERE snapshot_id = $1 AND leaf_index = 0`, [victim]);
    expect(await failure(proof(victim, 'globex', 'c0'))).toEqual({ code: status.INTERNAL, reason: 'LIABILITIES_SNAPSHOT_CORRUPT' });
  });
});

describe('proof of liabilities: refusals', () => {
  it('building needs an authenticated operator; nothing is stored otherwise', async () => {
    const [before] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ledger_liabilities_snapshot`);
    expect(await failure(build('ETH', new Metadata()))).toEqual({ code: status.UNAUTHENTICATED, reason: 'OPERATOR_UNAUTHENTICATED' });
    expect(await failure(build('eth'))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'ASSET_INVALID' });
    expect(await failure(build('DOGE'))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'LIABILITIES_NO_CUSTOMERS' });
    const [after] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ledger_liabilities_snapshot`);
    expect(after?.n).toBe(before?.n);
  });

  it('unknown snapshot or customer -> NOT_FOUND; malformed snapshot id -> INVALID_ARGUMENT', async () => {
    const btc = (await build('BTC')).snapshot?.snapshotId ?? '';
    expect((await proof(btc, 'acme', 'c1')).balance).toBe('3');
    expect(await failure(proof(btc, 'acme', 'nobody'))).toEqual({ code: status.NOT_FOUND, reason: 'LEAF_NOT_FOUND' });
    expect(await failure(proof(randomUUID(), 'acme', 'c1'))).toEqual({ code: status.NOT_FOUND, reason: 'SNAPSHOT_NOT_FOUND' });
    expect(await failure(proof('not-a-uuid', 'acme', 'c1'))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'SNAPSHOT_ID_INVALID' });
    expect(await failure(proof(btc, '', 'c1'))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'FIELD_REQUIRED' });
  });

  it('books that do not add up (a balance row that is not the sum of its journal lines) -> INTERNAL, no snapshot', async () => {
    const [before] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ledger_liabilities_snapshot`);
    // Only a superuser can do this (the service role cannot write balances); undone below.
    await db.admin(`UPDATE ledger_balance SET available = available - 1 WHERE account = 'customer:acme:c1' AND asset = 'ETH'`);
    try {
      expect(await failure(build('ETH'))).toEqual({ code: status.INTERNAL, reason: 'LIABILITIES_BOOKS_INCONSISTENT' });
    } finally {
      await db.admin(`UPDATE ledger_balance SET available = available + 1 WHERE account = 'customer:acme:c1' AND asset = 'ETH'`);
    }
    const [after] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ledger_liabilities_snapshot`);
    expect(after?.n).toBe(before?.n);
    expect((await build('ETH')).snapshot?.leafCount).toBe('12');
  });
});
