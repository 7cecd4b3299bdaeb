import { describe, expect, it } from '@jest/globals';
import { parseAmount } from './amount.js';
import { LedgerInvariantError } from './errors.js';
import { assertBalanced, balanceDelta, custodianAccount, customerAccount, depositLines, depositsAccount, feeAccount, holdLines, isCustodialAccountOf, negate, releaseLines, settleLines, transferLines, walletAccount, walletOfAccount, type Line } from './postings.js';

const HOT = 'eth-hot-01';

const alice = customerAccount('acme', 'alice');

/** Balances (normal direction) after applying entries, as the database trigger does. */
function apply(entries: Line[][]): Map<string, bigint> {
  const balances = new Map<string, bigint>();
  for (const lines of entries) {
    for (const l of lines) {
      const key = `${l.account}|${l.asset}|${l.bucket}`;
      balances.set(key, (balances.get(key) ?? 0n) + balanceDelta(l));
    }
  }
  return balances;
}

describe('C-8.2.3-a double-entry postings: every entry sums to zero per asset', () => {
  it('deposit, hold, release, settle (with a fee in another asset), reversal all balance', () => {
    const entries = [
      depositLines(alice, 'USDC', 1_000n),
      depositLines(alice, 'ETH', 50n),
      holdLines(alice, 'USDC', 400n),
      releaseLines(alice, 'USDC', 100n),
      settleLines(alice, 'USDC', 300n, 'ETH', 7n, HOT),
    ];
    for (const e of entries) expect(() => assertBalanced(e)).not.toThrow();
    const settle = entries[4] as Line[];
    expect(settle).toEqual(
      expect.arrayContaining([
        { account: feeAccount('ETH'), asset: 'ETH', bucket: 'available', amount: 7n },
        { account: walletAccount('ETH', HOT), asset: 'ETH', bucket: 'available', amount: -7n },
        { account: walletAccount('USDC', HOT), asset: 'USDC', bucket: 'available', amount: -300n },
      ]),
    );
    const b = apply(entries);
    expect(b.get(`${alice}|USDC|available`)).toBe(700n);
    expect(b.get(`${alice}|USDC|held`)).toBe(0n);
    // deposits in custodian:<asset>:deposits, the settlement (and its fee) out of the hot wallet's accounts
    expect(b.get(`${depositsAccount('USDC')}|USDC|available`)).toBe(1_000n);
    expect(b.get(`${walletAccount('USDC', HOT)}|USDC|available`)).toBe(-300n);
    expect(b.get(`${depositsAccount('ETH')}|ETH|available`)).toBe(50n);
    expect(b.get(`${walletAccount('ETH', HOT)}|ETH|available`)).toBe(-7n);
    expect(b.get(`${feeAccount('ETH')}|ETH|available`)).toBe(7n);
  });

  it('a reversal (compensation) restores exactly the balances before the settlement', () => {
    const before = [depositLines(alice, 'ETH', 100n), holdLines(alice, 'ETH', 60n)];
    const settle = settleLines(alice, 'ETH', 60n, 'ETH', 3n, HOT);
    const after = apply([...before, settle, negate(settle)]);
    const expected = apply(before);
    for (const [k, v] of expected) expect(after.get(k)).toBe(v);
    expect(after.get(`${feeAccount('ETH')}|ETH|available`)).toBe(0n);
  });

  it('a fee in the withdrawal asset merges into one line of the source wallet', () => {
    const lines = settleLines(alice, 'ETH', 60n, 'ETH', 3n, HOT);
    expect(lines.filter((l) => l.account.startsWith('custodian:'))).toEqual([{ account: walletAccount('ETH', HOT), asset: 'ETH', bucket: 'available', amount: -63n }]);
  });

  it('per-wallet postings: settle credits the source wallet (amount and fee), the reversal negates exactly, deposits debit the deposits account', () => {
    const settle = settleLines(alice, 'ETH', 60n, 'ETH', 3n, 'eth-warm-02');
    expect(settle).toEqual([
      { account: 'custodian:ETH:eth-warm-02', asset: 'ETH', bucket: 'available', amount: -63n },
      { account: alice, asset: 'ETH', bucket: 'held', amount: 60n },
      { account: feeAccount('ETH'), asset: 'ETH', bucket: 'available', amount: 3n },
    ]);
    expect(negate(settle).map((l) => l.amount)).toEqual([63n, -60n, -3n]);
    expect(depositLines(alice, 'ETH', 5n)[0]).toEqual({ account: 'custodian:ETH:deposits', asset: 'ETH', bucket: 'available', amount: 5n });
    expect(depositLines(alice, 'ETH', 5n, HOT)[0]).toEqual({ account: 'custodian:ETH:eth-hot-01', asset: 'ETH', bucket: 'available', amount: 5n });
  });

  it('a wallet id that could not be an account id is refused, never booked', () => {
    for (const bad of ['', 'a:b', ' hot', 'x'.repeat(129), 'hot/1']) expect(() => settleLines(alice, 'ETH', 1n, 'ETH', 0n, bad)).toThrow(expect.objectContaining({ code: 'LEDGER_INVARIANT' }));
  });

  it('custodial accounts of an asset: the legacy omnibus and every wallet account, nothing else', () => {
    expect(isCustodialAccountOf(custodianAccount('ETH'), 'ETH')).toBe(true);
    expect(isCustodialAccountOf(walletAccount('ETH', HOT), 'ETH')).toBe(true);
    expect(isCustodialAccountOf('custodian:ETHW:x', 'ETH')).toBe(false);
    expect(walletOfAccount(walletAccount('ETH', HOT), 'ETH')).toBe(HOT);
    expect(walletOfAccount(custodianAccount('ETH'), 'ETH')).toBeUndefined();
  });

  it('property: 2,000 random postings each balance, and all lines together sum to zero per asset', () => {
    let seed = 42;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const entries: Line[][] = [];
    for (let i = 0; i < 2_000; i++) {
      const who = customerAccount('acme', `c${rnd(5)}`);
      const amount = BigInt(1 + rnd(1_000));
      const asset = rnd(2) === 0 ? 'ETH' : 'BTC';
      const pick = rnd(4);
      const lines = pick === 0 ? depositLines(who, asset, amount) : pick === 1 ? holdLines(who, asset, amount) : pick === 2 ? releaseLines(who, asset, amount) : settleLines(who, asset, amount, 'ETH', BigInt(rnd(10)), `w${rnd(3)}`);
      assertBalanced(lines);
      entries.push(lines);
    }
    const sums = new Map<string, bigint>();
    for (const l of entries.flat()) sums.set(l.asset, (sums.get(l.asset) ?? 0n) + l.amount);
    expect([...sums.values()].every((s) => s === 0n)).toBe(true);
  });

  it('unbalanced or zero lines are refused', () => {
    expect(() => assertBalanced([{ account: alice, asset: 'ETH', bucket: 'available', amount: 5n }, { account: custodianAccount('ETH'), asset: 'ETH', bucket: 'available', amount: -4n }])).toThrow(/does not balance/);
    expect(() => assertBalanced([{ account: alice, asset: 'ETH', bucket: 'available', amount: 0n }, { account: alice, asset: 'ETH', bucket: 'held', amount: 0n }])).toThrow(/zero/);
    expect(() => holdLines(alice, 'ETH', 0n)).toThrow(/positive/);
  });
});

describe('amounts', () => {
  it('parses base-unit decimal strings to bigint beyond 2^64', () => {
    expect(parseAmount('340282366920938463463374607431768211456', 'amount')).toBe(2n ** 128n);
    for (const bad of ['', '-1', '1.5', '01', '1e3', ' 1', '0']) expect(() => parseAmount(bad, 'amount')).toThrow(expect.objectContaining({ code: 'AMOUNT_INVALID' }));
    expect(parseAmount('0', 'fee_paid', { allowZero: true })).toBe(0n);
  });
});

describe('C-9.3.7.1-a treasury transfer lines (sweep / replenishment between our own wallets)', () => {
  it('moves the amount between the two wallet accounts, the fee from the source to network fees; balanced', () => {
    const lines = transferLines('ETH', 600n, 'ETH', 5n, 'eth-hot-01', 'eth-cold-01');
    expect(lines).toEqual([
      { account: 'custodian:ETH:eth-cold-01', asset: 'ETH', bucket: 'available', amount: 600n },
      { account: 'custodian:ETH:eth-hot-01', asset: 'ETH', bucket: 'available', amount: -605n },
      { account: 'network-fees:ETH', asset: 'ETH', bucket: 'available', amount: 5n },
    ]);
    expect(() => assertBalanced(lines)).not.toThrow();
  });

  it('a fee in another asset is paid from the source wallet of that asset; no fee, no fee lines', () => {
    const lines = transferLines('USDC', 10n ** 30n, 'ETH', 21_000n, 'eth-warm-01', 'eth-hot-01');
    expect(() => assertBalanced(lines)).not.toThrow();
    expect(lines.filter((l) => l.asset === 'ETH').map((l) => [l.account, l.amount])).toEqual([
      ['custodian:ETH:eth-warm-01', -21_000n],
      ['network-fees:ETH', 21_000n],
    ]);
    expect(transferLines('ETH', 1n, 'ETH', 0n, 'a', 'b')).toHaveLength(2);
  });

  it('refuses a zero amount, a negative fee and a transfer to the same wallet', () => {
    expect(() => transferLines('ETH', 0n, 'ETH', 0n, 'a', 'b')).toThrow(LedgerInvariantError);
    expect(() => transferLines('ETH', 1n, 'ETH', -1n, 'a', 'b')).toThrow(LedgerInvariantError);
    expect(() => transferLines('ETH', 1n, 'ETH', 0n, 'a', 'a')).toThrow(LedgerInvariantError);
  });
});
