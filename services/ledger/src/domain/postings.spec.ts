import { describe, expect, it } from '@jest/globals';
import { parseAmount } from './amount.js';
import { assertBalanced, balanceDelta, custodianAccount, customerAccount, depositLines, feeAccount, holdLines, negate, releaseLines, settleLines, type Line } from './postings.js';

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
      settleLines(alice, 'USDC', 300n, 'ETH', 7n),
    ];
    for (const e of entries) expect(() => assertBalanced(e)).not.toThrow();
    const settle = entries[4] as Line[];
    expect(settle).toEqual(
      expect.arrayContaining([
        { account: feeAccount('ETH'), asset: 'ETH', bucket: 'available', amount: 7n },
        { account: custodianAccount('ETH'), asset: 'ETH', bucket: 'available', amount: -7n },
      ]),
    );
    const b = apply(entries);
    expect(b.get(`${alice}|USDC|available`)).toBe(700n);
    expect(b.get(`${alice}|USDC|held`)).toBe(0n);
    expect(b.get(`${custodianAccount('USDC')}|USDC|available`)).toBe(700n);
    expect(b.get(`${custodianAccount('ETH')}|ETH|available`)).toBe(43n);
    expect(b.get(`${feeAccount('ETH')}|ETH|available`)).toBe(7n);
  });

  it('a reversal (compensation) restores exactly the balances before the settlement', () => {
    const before = [depositLines(alice, 'ETH', 100n), holdLines(alice, 'ETH', 60n)];
    const settle = settleLines(alice, 'ETH', 60n, 'ETH', 3n);
    const after = apply([...before, settle, negate(settle)]);
    const expected = apply(before);
    for (const [k, v] of expected) expect(after.get(k)).toBe(v);
    expect(after.get(`${feeAccount('ETH')}|ETH|available`)).toBe(0n);
  });

  it('a fee in the withdrawal asset merges into one custodian line', () => {
    const lines = settleLines(alice, 'ETH', 60n, 'ETH', 3n);
    expect(lines.filter((l) => l.account === custodianAccount('ETH'))).toEqual([{ account: custodianAccount('ETH'), asset: 'ETH', bucket: 'available', amount: -63n }]);
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
      const lines = pick === 0 ? depositLines(who, asset, amount) : pick === 1 ? holdLines(who, asset, amount) : pick === 2 ? releaseLines(who, asset, amount) : settleLines(who, asset, amount, 'ETH', BigInt(rnd(10)));
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
