// The books against real PostgreSQL: privileges, database-enforced invariants, and 1,000
// concurrent postings on one account.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { InProcessBus } from '@custody/event-bus';
import { customerAccount, depositsAccount, feeAccount, startLedger, walletAccount, type LedgerHandle, type PostingOutcome } from '../../src/index.js';
import { HOT_WALLET, createTestDatabase, quietLogger, registerWallet, type TestDatabase } from './support.js';

let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;

const pgError = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? '', message: err.message };
  }
  throw new Error('expected the statement to fail');
};

/** Every invariant the books must keep, checked from the journal itself. */
async function assertBooksConsistent(): Promise<void> {
  const unbalanced = await db.admin(`SELECT entry_id, asset FROM journal_line GROUP BY entry_id, asset HAVING sum(amount) <> 0`);
  expect(unbalanced).toEqual([]);
  const total = await db.admin(`SELECT asset FROM journal_line GROUP BY asset HAVING sum(amount) <> 0`);
  expect(total).toEqual([]);
  // Stored balances = balances recomputed from the lines.
  const drift = await db.admin(`
    WITH derived AS (
      SELECT account, asset,
             sum(CASE WHEN bucket = 'available' THEN (CASE WHEN ledger_normal_side(account) = 'debit' THEN amount ELSE -amount END) ELSE 0 END) AS available,
             sum(CASE WHEN bucket = 'held' THEN (CASE WHEN ledger_normal_side(account) = 'debit' THEN amount ELSE -amount END) ELSE 0 END) AS held
      FROM journal_line GROUP BY account, asset)
    SELECT b.account, b.asset FROM ledger_balance b FULL JOIN derived d USING (account, asset)
    WHERE b.available IS DISTINCT FROM d.available OR b.held IS DISTINCT FROM d.held`);
  expect(drift).toEqual([]);
  // No balance below 0, but a per-wallet custodial account (value reached the wallet without a
  // booking); the custodial total of each asset never is.
  const negative = await db.admin(`SELECT account FROM ledger_balance WHERE held < 0 OR (available < 0 AND account NOT LIKE 'custodian:%:%')`);
  expect(negative).toEqual([]);
  const custodialTotals = await db.admin(`SELECT asset FROM ledger_balance WHERE account LIKE 'custodian:%' GROUP BY asset HAVING sum(available) < 0`);
  expect(custodialTotals).toEqual([]);
}

const ctx = () => ({ eventId: randomUUID(), correlationId: `corr-${randomUUID()}` });
const post = <T>(work: (tx: unknown) => Promise<T>): Promise<T> => ledger.store.transaction(work);

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  ledger = await startLedger({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), poolSize: 20 });
  await registerWallet(ledger);
});

afterAll(async () => {
  await ledger?.stop();
  await bus?.close();
  await db?.drop();
});

describe('C-8.2.3-a append-only double-entry journal: the service role cannot rewrite it', () => {
  beforeAll(async () => {
    await post((tx) => ledger.postings.depositFinal({ depositId: 'd-priv', clientId: 'acme', customerAccount: 'priv', asset: 'ETH', amount: 10n }, ctx(), tx));
  });

  it('UPDATE / DELETE / TRUNCATE on the journal and any direct write to balances -> permission denied', async () => {
    for (const sql of [
      `UPDATE journal_line SET amount = amount * 2`,
      `DELETE FROM journal_line`,
      `UPDATE journal_entry SET kind = 'HOLD'`,
      `DELETE FROM journal_entry`,
      `TRUNCATE journal_line`,
      `UPDATE ledger_balance SET available = available + 1000`,
      `INSERT INTO ledger_balance (account, asset, normal_side, available, held) VALUES ('customer:x:y', 'ETH', 'credit', 1000, 0)`,
      `DELETE FROM ledger_balance`,
    ]) {
      const err = await pgError(db.as(db.appUrl, sql));
      expect(err.code).toBe('42501');
    }
    expect(await ledger.store.balances(customerAccount('acme', 'priv'))).toEqual([{ account: customerAccount('acme', 'priv'), asset: 'ETH', available: 10n, held: 0n }]);
  });

  it('the service refuses to start if its runtime role could rewrite the journal (fail closed)', async () => {
    await db.admin(`GRANT UPDATE ON journal_line TO "${db.appRole}"`);
    try {
      await expect(startLedger({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger() })).rejects.toThrow(/UPDATE on journal_line/);
    } finally {
      await db.admin(`REVOKE UPDATE ON journal_line FROM "${db.appRole}"`);
    }
  });

  it('an unbalanced entry inserted directly by the app role is refused at commit (deferred constraint trigger)', async () => {
    const id = randomUUID();
    const err = await pgError(
      db.as(
        db.appUrl,
        `BEGIN;
         INSERT INTO journal_entry (entry_id, kind, cause_event_id, reference_id, correlation_id, booked_at) VALUES ('${id}', 'DEPOSIT', 'forged', 'forged', 'forged', now());
         INSERT INTO journal_line (entry_id, line_no, account, asset, bucket, amount) VALUES ('${id}', 1, 'custodian:ETH', 'ETH', 'available', 1000),
                                                                                     ('${id}', 2, 'customer:acme:priv', 'ETH', 'available', -999);
         COMMIT;`,
      ),
    );
    expect(err.message).toMatch(/does not balance for ETH: 1/);
    expect(await db.admin(`SELECT 1 FROM journal_entry WHERE entry_id = $1`, [id])).toEqual([]);
    await assertBooksConsistent();
  });

  it('a balanced entry that would overdraw is refused by the balance CHECK (a constraint, not just code)', async () => {
    const id = randomUUID();
    const err = await pgError(
      db.as(
        db.appUrl,
        `BEGIN;
         INSERT INTO journal_entry (entry_id, kind, cause_event_id, reference_id, correlation_id, booked_at) VALUES ('${id}', 'HOLD', 'forged2', 'forged2', 'forged2', now());
         INSERT INTO journal_line (entry_id, line_no, account, asset, bucket, amount) VALUES ('${id}', 1, 'customer:acme:priv', 'ETH', 'available', 11),
                                                                                     ('${id}', 2, 'customer:acme:priv', 'ETH', 'held', -11);
         COMMIT;`,
      ),
    );
    expect(err.code).toBe('23514');
    expect(err.message).toMatch(/ledger_balance_non_negative/);
    await assertBooksConsistent();
  });
});

describe('C-8.2.3-a concurrency: 1,000 concurrent postings on one account never overdraw and always balance', () => {
  const account = customerAccount('acme', 'hot-account');
  const ids = Array.from({ length: 1_000 }, () => randomUUID());

  it('1,000 concurrent holds of 1 against 600 available: exactly 600 held, 400 refused, books consistent', async () => {
    await post((tx) => ledger.postings.depositFinal({ depositId: 'd-hot', clientId: 'acme', customerAccount: 'hot-account', asset: 'ETH', amount: 600n }, ctx(), tx));
    await post((tx) => ledger.postings.depositFinal({ depositId: 'd-fee', clientId: 'acme', customerAccount: 'fee-funder', asset: 'ETH', amount: 10_000n }, ctx(), tx));
    const outcomes = await Promise.all(
      ids.map((withdrawalId) => post((tx) => ledger.postings.withdrawalRequested({ withdrawalId, clientId: 'acme', customerAccount: 'hot-account', asset: 'ETH', chain: 'ethereum', amount: 1n }, ctx(), tx))),
    );
    const count = (o: PostingOutcome): number => outcomes.filter((x) => x === o).length;
    expect(count('held')).toBe(600);
    expect(count('rejected-insufficient-funds')).toBe(400);
    expect(await ledger.store.balances(account)).toEqual([{ account, asset: 'ETH', available: 0n, held: 600n }]);
    await assertBooksConsistent();
  });

  it('then 1,000 concurrent settles / releases / duplicate events on the same account keep every invariant', async () => {
    const held = (await db.admin<{ withdrawal_id: string }>(`SELECT withdrawal_id FROM ledger_withdrawal WHERE account = $1 AND state = 'HELD' ORDER BY withdrawal_id`, [account])).map((r) => r.withdrawal_id);
    expect(held).toHaveLength(600);
    const work: Promise<PostingOutcome>[] = [];
    held.forEach((id, i) => {
      if (i % 2 === 0) work.push(post((tx) => ledger.postings.settle(id, HOT_WALLET, 2n, ctx(), tx)));
      else work.push(post((tx) => ledger.postings.release(id, 'CANCELLED', ctx(), tx)));
    });
    // 400 more racing on the same withdrawals: a second, different FINAL / cancel for the same one.
    held.slice(0, 400).forEach((id, i) => work.push(post((tx) => (i % 2 === 0 ? ledger.postings.settle(id, HOT_WALLET, 2n, ctx(), tx) : ledger.postings.release(id, 'CANCELLED', ctx(), tx)))));
    const outcomes = await Promise.all(work);
    expect(outcomes.filter((o) => o === 'settled')).toHaveLength(300);
    expect(outcomes.filter((o) => o === 'released')).toHaveLength(300);
    expect(outcomes.filter((o) => o === 'ignored')).toHaveLength(400);
    expect(await ledger.store.balances(account)).toEqual([{ account, asset: 'ETH', available: 300n, held: 0n }]);
    const [deposits] = await ledger.store.balances(depositsAccount('ETH'));
    const [hot] = await ledger.store.balances(walletAccount('ETH', HOT_WALLET));
    const [fees] = await ledger.store.balances(feeAccount('ETH'));
    expect(fees?.available).toBe(600n);
    // deposits (10 + 600 + 10,000) went to custodian:ETH:deposits; settled (300) and fees (600) left the hot wallet
    expect(deposits?.available).toBe(10n + 600n + 10_000n);
    expect(hot?.available).toBe(-300n - 600n);
    await assertBooksConsistent();
  });
});

describe('out-of-order events: a settlement that overtakes its withdrawal.requested is parked, not lost', () => {
  it('FINAL (fee 3), then REORGED, then FINAL (fee 1) before the request -> applied in arrival order once the hold is posted', async () => {
    const id = randomUUID();
    await post((tx) => ledger.postings.depositFinal({ depositId: `d-${id}`, clientId: 'acme', customerAccount: 'late', asset: 'BTC', amount: 1_000n }, ctx(), tx));
    expect(await post((tx) => ledger.postings.settle(id, HOT_WALLET, 3n, ctx(), tx))).toBe('deferred');
    expect(await post((tx) => ledger.postings.reverse(id, ctx(), tx))).toBe('deferred');
    expect(await post((tx) => ledger.postings.settle(id, HOT_WALLET, 1n, ctx(), tx))).toBe('deferred');
    expect(await ledger.store.balances(customerAccount('acme', 'late'))).toEqual([{ account: customerAccount('acme', 'late'), asset: 'BTC', available: 1_000n, held: 0n }]);
    expect(await post((tx) => ledger.postings.withdrawalRequested({ withdrawalId: id, clientId: 'acme', customerAccount: 'late', asset: 'BTC', chain: 'bitcoin', amount: 400n }, ctx(), tx))).toBe('held');
    const kinds = await db.admin<{ kind: string }>(`SELECT kind FROM journal_entry WHERE reference_id = $1 ORDER BY seq`, [id]);
    expect(kinds.map((k) => k.kind)).toEqual(['HOLD', 'SETTLE', 'REVERSAL', 'SETTLE']);
    expect(await ledger.store.balances(customerAccount('acme', 'late'))).toEqual([{ account: customerAccount('acme', 'late'), asset: 'BTC', available: 600n, held: 0n }]);
    expect(await ledger.store.balances(feeAccount('BTC'))).toEqual([{ account: feeAccount('BTC'), asset: 'BTC', available: 1n, held: 0n }]);
    expect(await db.admin(`SELECT 1 FROM ledger_pending_event WHERE withdrawal_id = $1`, [id])).toEqual([]);
    await assertBooksConsistent();
  });
});

describe('C-8.2.3-a custodial total per asset under concurrency: settlements from different wallets never take it below 0', () => {
  it('20 concurrent settlements from two wallets, each paying a fee of a tenth of the BTC in custody: exactly 10 settle, 10 are refused, the total never goes below 0', async () => {
    await registerWallet(ledger, 'btc-hot-a');
    await registerWallet(ledger, 'btc-warm-b', 'warm');
    const btcTotal = async (): Promise<bigint> => BigInt((await db.admin<{ t: string }>(`SELECT COALESCE(sum(available), 0)::text AS t FROM ledger_balance WHERE account LIKE 'custodian:%' AND asset = 'BTC'`))[0]!.t);
    // Custody holds T >= 100 BTC (what earlier tests left + 100); a fee of floor(T / 10) lets exactly 10 settlements pass.
    await post((tx) => ledger.postings.depositFinal({ depositId: `d-fees-${randomUUID()}`, clientId: 'acme', customerAccount: 'fee-payer', asset: 'BTC', amount: 100n }, ctx(), tx));
    const total = await btcTotal();
    const fee = total / 10n;
    // 20 LTC withdrawals held, then settled concurrently from two wallets, each paying a 10 BTC fee.
    await post((tx) => ledger.postings.depositFinal({ depositId: `d-ltc-${randomUUID()}`, clientId: 'acme', customerAccount: 'ltc-holder', asset: 'LTC', amount: 20n }, ctx(), tx));
    const ids = Array.from({ length: 20 }, () => randomUUID());
    for (const id of ids) {
      expect(await post((tx) => ledger.postings.withdrawalRequested({ withdrawalId: id, clientId: 'acme', customerAccount: 'ltc-holder', asset: 'LTC', chain: 'bitcoin', amount: 1n }, ctx(), tx))).toBe('held');
    }
    const outcomes = await Promise.all(ids.map((id, i) => post((tx) => ledger.postings.settle(id, i % 2 === 0 ? 'btc-hot-a' : 'btc-warm-b', fee, ctx(), tx))));
    expect(outcomes.filter((o) => o === 'settled')).toHaveLength(10);
    expect(outcomes.filter((o) => o === 'settle-refused-insufficient-funds')).toHaveLength(10);
    expect(await btcTotal()).toBe(total - 10n * fee);
    // The two wallets paid the fees: at least one of them is below 0, their sum with the deposits account is not.
    const wallets = await db.admin<{ account: string; available: string }>(`SELECT account, available::text AS available FROM ledger_balance WHERE account IN ('custodian:BTC:btc-hot-a', 'custodian:BTC:btc-warm-b') ORDER BY account`);
    expect(wallets.reduce((sum, w) => sum + BigInt(w.available), 0n)).toBe(-10n * fee);
    await assertBooksConsistent();
  });
});
