import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { classify, evidenceOf, type ChainSnapshot, type LedgerPosition, type SnapshotDeposit, type SnapshotWithdrawal } from './reconciliation.js';

const ETH = 'ETH';
const position = (custodianBalance: bigint, withdrawals: [string, 'HELD' | 'RELEASED' | 'SETTLED' | 'REJECTED'][] = [], deposits: [string, 'CREDITED' | 'REVERSED' | 'REVERSAL_REFUSED'][] = []): LedgerPosition => ({
  asset: ETH,
  custodianBalance,
  walletBalances: new Map(),
  withdrawals: new Map(withdrawals),
  deposits: new Map(deposits),
});
const snapshot = (balances: bigint[], withdrawals: SnapshotWithdrawal[] = [], deposits: SnapshotDeposit[] = []): ChainSnapshot => ({
  chain: 'ethereum',
  asset: ETH,
  blockHeight: 100n,
  blockHash: '0xabc',
  addresses: balances.map((balance, i) => ({ address: `0x${i.toString(16).padStart(40, '0')}`, walletId: '', role: 'hot-wallet', balance })),
  withdrawals,
  deposits,
});
const withdrawal = (id: string, amount: bigint, feePaid: bigint, included = true, state = 'CONFIRMED'): SnapshotWithdrawal => ({
  withdrawalId: id,
  wallet: '0xhot',
  amount,
  state,
  txHash: `0x${id}`,
  ...(included ? { feePaid } : {}),
  feeCap: feePaid * 2n,
  includedHeight: included ? 99n : 0n,
  includedAtSnapshot: included,
});
const deposit = (id: string, amount: bigint, state: 'PENDING' | 'FINAL' = 'PENDING', blockHeight = 98n): SnapshotDeposit => ({ depositId: id, address: '0xdep', amount, state, blockHeight });

describe('reconciliation classification (examples)', () => {
  it('books equal to the chain: balanced, nothing in flight', () => {
    const c = classify(position(1_000n), snapshot([600n, 400n]), { feeAsset: ETH });
    expect(c).toMatchObject({ chainBalance: 1_000n, ledgerBalance: 1_000n, unexplained: 0n, outcome: 'BALANCED', inFlight: 0n, fees: 0n, pendingDeposits: 0n });
  });

  it('a withdrawal paid on chain but not settled in the books is in flight (amount + actual fee), not drift', () => {
    const c = classify(position(1_000n, [['w1', 'HELD']]), snapshot([679n], [withdrawal('w1', 300n, 21n)]), { feeAsset: ETH });
    expect(c).toMatchObject({ inFlight: 300n, fees: 21n, unexplained: 0n, outcome: 'BALANCED' });
    expect(c.inFlightItems).toEqual([{ withdrawalId: 'w1', wallet: '0xhot', txHash: '0xw1', amount: 300n, fee: 21n, includedHeight: 99n, ledgerState: 'HELD' }]);
  });

  it('a withdrawal broadcast but not in a block at the snapshot explains nothing (the chain has not paid)', () => {
    const c = classify(position(1_000n, [['w1', 'HELD']]), snapshot([1_000n], [withdrawal('w1', 300n, 0n, false, 'BROADCAST')]), { feeAsset: ETH });
    expect(c).toMatchObject({ inFlight: 0n, fees: 0n, outcome: 'BALANCED' });
  });

  it('a settled withdrawal is already in the books; a released one the chain paid is unexplained', () => {
    const settled = classify(position(679n, [['w1', 'SETTLED']]), snapshot([679n], [withdrawal('w1', 300n, 21n, true, 'FINAL')]), { feeAsset: ETH });
    expect(settled).toMatchObject({ inFlight: 0n, outcome: 'BALANCED' });
    const released = classify(position(1_000n, [['w1', 'RELEASED']]), snapshot([679n], [withdrawal('w1', 300n, 21n)]), { feeAsset: ETH });
    expect(released).toMatchObject({ inFlight: 0n, unexplained: -321n, outcome: 'DRIFT' });
    expect(released.unbookedOutflows).toEqual([{ withdrawalId: 'w1', wallet: '0xhot', txHash: '0xw1', amount: 321n, ledgerState: 'RELEASED' }]);
  });

  it('a reverted withdrawal (adapter FAILED) still held explains its fee only', () => {
    const c = classify(position(1_000n, [['w1', 'HELD']]), snapshot([979n], [withdrawal('w1', 300n, 21n, true, 'FAILED')]), { feeAsset: ETH });
    expect(c).toMatchObject({ inFlight: 0n, fees: 21n, outcome: 'BALANCED' });
  });

  it('fees in another asset (tokens) do not reduce this asset', () => {
    const c = classify(position(1_000n, [['w1', 'HELD']]), snapshot([700n], [withdrawal('w1', 300n, 21n)]), { feeAsset: 'OTHER' });
    expect(c).toMatchObject({ inFlight: 300n, fees: 0n, outcome: 'BALANCED' });
  });

  it('deposits on chain not credited yet are pending; credited ones are in the books already', () => {
    const c = classify(position(1_000n, [], [['d2', 'CREDITED']]), snapshot([1_050n], [], [deposit('d1', 50n), deposit('d2', 70n, 'FINAL')]), { feeAsset: ETH });
    expect(c).toMatchObject({ pendingDeposits: 50n, outcome: 'BALANCED' });
    expect(c.pendingDepositItems.map((d) => d.depositId)).toEqual(['d1']);
  });

  it('an outflow nobody booked is the unexplained remainder, with its sign', () => {
    const c = classify(position(1_000n), snapshot([600n, 150n]), { feeAsset: ETH });
    expect(c).toMatchObject({ unexplained: -250n, outcome: 'DRIFT' });
    expect(classify(position(1_000n), snapshot([1_001n]), { feeAsset: ETH })).toMatchObject({ unexplained: 1n, outcome: 'DRIFT' });
  });

  it('amounts beyond 2^64 stay exact', () => {
    const big = 2n ** 100n + 7n;
    const c = classify(position(big, [['w', 'HELD']]), snapshot([big - 2n ** 70n - 3n], [withdrawal('w', 2n ** 70n, 3n)]), { feeAsset: ETH });
    expect(c).toMatchObject({ unexplained: 0n, inFlight: 2n ** 70n });
  });

  it('refuses a snapshot of another asset, a negative balance, a duplicated address', () => {
    expect(() => classify({ ...position(1n), asset: 'BTC' }, snapshot([1n]), { feeAsset: ETH })).toThrow(/LEDGER_INVARIANT|compared/);
    expect(() => classify(position(1n), snapshot([-1n]), { feeAsset: ETH })).toThrow(/non-negative/);
    const dup = snapshot([1n, 1n]);
    expect(() => classify(position(2n), { ...dup, addresses: [dup.addresses[0]!, dup.addresses[0]!] }, { feeAsset: ETH })).toThrow(/twice/);
  });

  it('evidence carries the block, every address and amounts as decimal strings', () => {
    const s = snapshot([679n], [withdrawal('w1', 300n, 21n)]);
    const e = evidenceOf(s, classify(position(1_000n, [['w1', 'HELD']]), s, { feeAsset: ETH }));
    expect(e).toMatchObject({ block: { height: '100', hash: '0xabc' }, chainBalance: '679', ledgerBalance: '1000', inFlight: '300', fees: '21', unexplained: '0' });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });
});

const amount = fc.bigInt({ min: 0n, max: 2n ** 96n });
const positive = fc.bigInt({ min: 1n, max: 2n ** 96n });

describe('reconciliation classification (properties)', () => {
  it('always: chain = ledger − in-flight − fees + pending + unexplained, and balanced iff unexplained = 0', () => {
    fc.assert(
      fc.property(
        amount,
        fc.array(amount, { maxLength: 6 }),
        fc.array(fc.record({ amount, fee: amount, included: fc.boolean(), ledger: fc.constantFrom('HELD', 'RELEASED', 'SETTLED', 'REJECTED', undefined) }), { maxLength: 8 }),
        fc.array(fc.record({ amount, credited: fc.boolean() }), { maxLength: 8 }),
        (ledger, balances, ws, ds) => {
          const withdrawals = ws.map((w, i) => withdrawal(`w${i}`, w.amount, w.fee, w.included));
          const deposits = ds.map((d, i) => deposit(`d${i}`, d.amount));
          const pos = position(
            ledger,
            ws.flatMap((w, i) => (w.ledger ? [[`w${i}`, w.ledger] as [string, 'HELD']] : [])),
            ds.flatMap((d, i) => (d.credited ? [[`d${i}`, 'CREDITED'] as [string, 'CREDITED']] : [])),
          );
          const c = classify(pos, snapshot(balances, withdrawals, deposits), { feeAsset: ETH });
          expect(c.chainBalance).toBe(balances.reduce((a, b) => a + b, 0n));
          expect(c.chainBalance).toBe(c.ledgerBalance - c.inFlight - c.fees + c.pendingDeposits + c.unexplained);
          expect(c.outcome === 'BALANCED').toBe(c.unexplained === 0n);
          expect(c.inFlight).toBe(c.inFlightItems.reduce((a, w) => a + w.amount, 0n));
          expect(c.pendingDeposits).toBe(c.pendingDepositItems.reduce((a, d) => a + d.amount, 0n));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('books that only lag the chain (held withdrawals paid, deposits not credited) reconcile exactly; any extra movement is exactly the unexplained amount', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ amount: positive, fee: amount }), { maxLength: 6 }),
        fc.array(positive, { maxLength: 6 }),
        amount,
        fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
        (ws, ds, spare, delta) => {
          const out = ws.reduce((a, w) => a + w.amount + w.fee, 0n);
          const ledger = out + spare;
          const onChain = spare + ds.reduce((a, d) => a + d, 0n);
          fc.pre(onChain + delta >= 0n);
          const pos = position(
            ledger,
            ws.map((_, i) => [`w${i}`, 'HELD']),
          );
          const snap = (b: bigint) => snapshot([b], ws.map((w, i) => withdrawal(`w${i}`, w.amount, w.fee)), ds.map((d, i) => deposit(`d${i}`, d)));
          const balanced = classify(pos, snap(onChain), { feeAsset: ETH });
          expect(balanced.outcome).toBe('BALANCED');
          const moved = classify(pos, snap(onChain + delta), { feeAsset: ETH });
          expect(moved.unexplained).toBe(delta);
          expect(moved.outcome).toBe(delta === 0n ? 'BALANCED' : 'DRIFT');
        },
      ),
      { numRuns: 500 },
    );
  });

  it('withdrawals not in a block at the snapshot, and settled ones, never change the classification', () => {
    fc.assert(
      fc.property(amount, amount, fc.array(fc.record({ amount, fee: amount, settled: fc.boolean() }), { maxLength: 6 }), (ledger, chain, ws) => {
        const base = classify(position(ledger), snapshot([chain]), { feeAsset: ETH });
        const pos = position(ledger, ws.map((w, i) => [`w${i}`, w.settled ? 'SETTLED' : 'HELD']));
        // settled ones are included; held ones are not in a block yet
        const withNoise = classify(pos, snapshot([chain], ws.map((w, i) => withdrawal(`w${i}`, w.amount, w.fee, w.settled, w.settled ? 'FINAL' : 'BROADCAST'))), { feeAsset: ETH });
        expect(withNoise.unexplained).toBe(base.unexplained);
        expect(withNoise.outcome).toBe(base.outcome);
      }),
      { numRuns: 300 },
    );
  });
});

describe('reconciliation per wallet (where the snapshot names wallet ids)', () => {
  const hot = '0x00000000000000000000000000000000000000a1';
  const warm = '0x00000000000000000000000000000000000000b2';
  const dep = '0x00000000000000000000000000000000000000c3';
  const perWallet = (chain: { hot: bigint; warm: bigint; dep: bigint }, extra: Partial<ChainSnapshot> = {}): ChainSnapshot => ({
    chain: 'ethereum',
    asset: ETH,
    blockHeight: 100n,
    blockHash: '0xabc',
    addresses: [
      { address: hot, walletId: 'eth-hot-01', role: 'hot-wallet', balance: chain.hot },
      { address: warm, walletId: 'eth-warm-01', role: 'custody', balance: chain.warm },
      { address: dep, walletId: '', role: 'deposit', balance: chain.dep },
    ],
    withdrawals: [],
    deposits: [],
    ...extra,
  });
  // Books: hot 600, warm 300, deposits account 50, legacy omnibus 50 (total 1,000).
  const books = (withdrawals: [string, 'HELD' | 'SETTLED'][] = []): LedgerPosition => ({
    asset: ETH,
    custodianBalance: 1_000n,
    walletBalances: new Map([
      ['eth-hot-01', 600n],
      ['eth-warm-01', 300n],
      ['deposits', 50n],
    ]),
    withdrawals: new Map(withdrawals),
    deposits: new Map(),
  });

  it('each named wallet is compared alone; what no wallet id names (legacy omnibus, deposits account, address without id) is one remainder', () => {
    const c = classify(books(), perWallet({ hot: 600n, warm: 300n, dep: 100n }), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'BALANCED', mismatchedWallets: 0, unexplained: 0n, driftKey: '' });
    expect(c.wallets.map((w) => [w.walletId, w.ledgerBalance, w.chainBalance, w.unexplained])).toEqual([
      ['eth-hot-01', 600n, 600n, 0n],
      ['eth-warm-01', 300n, 300n, 0n],
      ['', 100n, 100n, 0n],
    ]);
  });

  it('drift on one wallet: that wallet alone is mismatched, named in the evidence; the asset total shows it too', () => {
    const c = classify(books(), perWallet({ hot: 550n, warm: 300n, dep: 100n }), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'DRIFT', mismatchedWallets: 1, unexplained: -50n, driftKey: 'total=-50,eth-hot-01=-50' });
    expect(evidenceOf(perWallet({ hot: 550n, warm: 300n, dep: 100n }), c)).toMatchObject({ mismatchedWallets: ['eth-hot-01'], wallets: expect.arrayContaining([expect.objectContaining({ walletId: 'eth-hot-01', unexplained: '-50' })]) });
  });

  it('value moved between wallets without a booking: the asset total balances, the two wallets drift', () => {
    const c = classify(books(), perWallet({ hot: 700n, warm: 200n, dep: 100n }), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'DRIFT', unexplained: 0n, mismatchedWallets: 2, driftKey: 'total=0,eth-hot-01=100,eth-warm-01=-100' });
  });

  it('in-flight withdrawals and their fees count against the wallet they leave from (matched by address)', () => {
    const w = { ...withdrawal('w1', 100n, 5n), wallet: hot };
    const c = classify(books([['w1', 'HELD']]), perWallet({ hot: 495n, warm: 300n, dep: 100n }, { withdrawals: [w] }), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'BALANCED', inFlight: 100n, fees: 5n });
    expect(c.wallets[0]).toMatchObject({ walletId: 'eth-hot-01', inFlight: 100n, fees: 5n, unexplained: 0n });
  });

  it('property: the per-wallet unexplained amounts always sum to the asset\'s', () => {
    fc.assert(
      fc.property(amount, amount, amount, amount, amount, (h, wm, d, bh, bw) => {
        const pos: LedgerPosition = { ...books(), custodianBalance: bh + bw + 100n, walletBalances: new Map([['eth-hot-01', bh], ['eth-warm-01', bw]]) };
        const c = classify(pos, perWallet({ hot: h, warm: wm, dep: d }), { feeAsset: ETH });
        expect(c.wallets.reduce((s, w) => s + w.unexplained, 0n)).toBe(c.unexplained);
        expect(c.outcome === 'BALANCED').toBe(c.mismatchedWallets === 0 && c.unexplained === 0n);
      }),
    );
  });
});

// The books read NOW, the chain at the chain-adapter's snapshot block: a settlement whose
// transaction is mined in a block ABOVE the snapshot (the adapter's mined_height, not included
// at the snapshot) is compared as of the snapshot — what its entry took from the
// custodial accounts is added back — never as unexplained drift. Found by the distributed
// fault-injection test (snapshot at block 99, withdrawals at 109 and 120 already SETTLED).
describe('C-8.2.3-d reconciliation as of the snapshot block: settlements above it are not drift', () => {
  const hot = '0x00000000000000000000000000000000000000a1';
  const cold = '0x00000000000000000000000000000000000000b2';
  const snap = (chain: { hot: bigint; cold: bigint }, withdrawals: SnapshotWithdrawal[]): ChainSnapshot => ({
    chain: 'ethereum',
    asset: ETH,
    blockHeight: 99n,
    blockHash: '0xabc',
    addresses: [
      { address: hot, walletId: 'eth-hot-01', role: 'hot-wallet', balance: chain.hot },
      { address: cold, walletId: 'eth-cold-01', role: 'custody', balance: chain.cold },
    ],
    withdrawals,
    deposits: [],
  });
  const above = (id: string, amount: bigint, state = 'FINAL', minedHeight = 109n): SnapshotWithdrawal => ({ ...withdrawal(id, amount, 0n, false, state), wallet: hot, minedHeight });
  // Books after the settlements: hot and cold accounts, settled ids with their entry's custodial lines.
  const books = (hotBalance: bigint, coldBalance: bigint, settled: [string, [string, bigint][]][], withSettlements = true): LedgerPosition => ({
    asset: ETH,
    custodianBalance: hotBalance + coldBalance,
    walletBalances: new Map([
      ['eth-hot-01', hotBalance],
      ['eth-cold-01', coldBalance],
    ]),
    withdrawals: new Map(settled.map(([id]) => [id, 'SETTLED' as const])),
    deposits: new Map(),
    ...(withSettlements ? { settlements: new Map(settled.map(([id, lines]) => [id, new Map(lines)])) } : {}),
  });
  const ETHER = 10n ** 18n;
  const fee1 = 21_000n * 468_000_000n;
  const fee2 = 21_000n * 469_000_000n;
  // Chain at block 99: 10 ETH on hot. Books now: two withdrawals (blocks 109, 120) settled.
  const settledTwo: [string, [string, bigint][]][] = [
    ['w1', [['eth-hot-01', -(ETHER + fee1)]]],
    ['w2', [['eth-hot-01', -(3n * ETHER + fee2)]]],
  ];
  const booksNow = 10n * ETHER - 4n * ETHER - fee1 - fee2;

  it('the fault-injection case: two withdrawals settled above the snapshot → BALANCED, classified "settled above the snapshot", no unexplained amount', () => {
    // w2: the adapter read its row before its follower saw the receipt (BROADCAST), the node has it at 120.
    const s = snap({ hot: 10n * ETHER, cold: 0n }, [above('w1', ETHER), above('w2', 3n * ETHER, 'BROADCAST', 120n)]);
    const c = classify(books(booksNow, 0n, settledTwo), s, { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'BALANCED', unexplained: 0n, settledAboveSnapshot: 4n * ETHER + fee1 + fee2, inFlight: 0n, fees: 0n, mismatchedWallets: 0, driftKey: '' });
    expect(c.wallets.find((w) => w.walletId === 'eth-hot-01')).toMatchObject({ settledAboveSnapshot: 4n * ETHER + fee1 + fee2, unexplained: 0n });
    expect(c.settledAboveSnapshotItems.map((i) => [i.withdrawalId, i.chainState, i.amount])).toEqual([
      ['w1', 'FINAL', ETHER + fee1],
      ['w2', 'BROADCAST', 3n * ETHER + fee2],
    ]);
    expect(evidenceOf(s, c)).toMatchObject({ settledAboveSnapshot: (4n * ETHER + fee1 + fee2).toString(), settledAboveSnapshotWithdrawals: [expect.objectContaining({ withdrawalId: 'w1' }), expect.objectContaining({ withdrawalId: 'w2' })] });
  });

  it('without the books\' settlement lines it stays what the fault test saw: DRIFT of exactly the amounts + fees', () => {
    const c = classify(books(booksNow, 0n, settledTwo, false), snap({ hot: 10n * ETHER, cold: 0n }, [above('w1', ETHER), above('w2', 3n * ETHER)]), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'DRIFT', unexplained: 4n * ETHER + fee1 + fee2, settledAboveSnapshot: 0n });
  });

  it('real drift is still detected: coins missing on top of the settlements above the snapshot', () => {
    const c = classify(books(booksNow, 0n, settledTwo), snap({ hot: 10n * ETHER - 7n, cold: 0n }, [above('w1', ETHER), above('w2', 3n * ETHER)]), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'DRIFT', unexplained: -7n, driftKey: 'total=-7,eth-hot-01=-7' });
  });

  it('a settlement of a transaction mined in no block, at or below the snapshot yet not included, or reverted, is not explained: DRIFT', () => {
    for (const [state, minedHeight] of [['SIGNED', 0n], ['BROADCAST', 0n], ['FINAL', 0n], ['FINAL', 99n], ['FAILED', 120n]] as const) {
      const c = classify(books(booksNow, 0n, settledTwo), snap({ hot: 10n * ETHER, cold: 0n }, [above('w1', ETHER), above('w2', 3n * ETHER, state, minedHeight)]), { feeAsset: ETH });
      expect(c).toMatchObject({ outcome: 'DRIFT', unexplained: 3n * ETHER + fee2, settledAboveSnapshot: ETHER + fee1 });
    }
  });

  it('a treasury transfer hot → cold settled above the snapshot: both wallets compared as of the snapshot (fee and amount added back per wallet)', () => {
    const x = 2n * ETHER;
    const f = fee1;
    const c = classify(books(10n * ETHER - x - f, x, [['treasury:t1', [['eth-hot-01', -(x + f)], ['eth-cold-01', x]]]]), snap({ hot: 10n * ETHER, cold: 0n }, [above('treasury:t1', x)]), { feeAsset: ETH });
    expect(c).toMatchObject({ outcome: 'BALANCED', unexplained: 0n, settledAboveSnapshot: f, mismatchedWallets: 0 });
    expect(c.wallets.map((w) => [w.walletId, w.settledAboveSnapshot, w.unexplained])).toEqual([
      ['eth-cold-01', -x, 0n],
      ['eth-hot-01', x + f, 0n],
      ['', 0n, 0n],
    ]);
  });

  it('property: settlements above the snapshot never change the outcome; any extra movement is exactly the unexplained amount, per asset and per wallet', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ amount: positive, fee: amount, confirmed: fc.boolean() }), { maxLength: 6 }),
        amount,
        fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
        (ws, spare, delta) => {
          const out = ws.reduce((a, w) => a + w.amount + w.fee, 0n);
          fc.pre(spare + out + delta >= 0n);
          const settled = ws.map((w, i): [string, [string, bigint][]] => [`w${i}`, [['eth-hot-01', -(w.amount + w.fee)]]]);
          const c = classify(books(spare, 0n, settled), snap({ hot: spare + out + delta, cold: 0n }, ws.map((w, i) => above(`w${i}`, w.amount, w.confirmed ? 'CONFIRMED' : 'BROADCAST', 100n + BigInt(i)))), { feeAsset: ETH });
          expect(c.settledAboveSnapshot).toBe(out);
          expect(c.unexplained).toBe(delta);
          expect(c.wallets.find((w) => w.walletId === 'eth-hot-01')!.unexplained).toBe(delta);
          expect(c.outcome).toBe(delta === 0n ? 'BALANCED' : 'DRIFT');
          expect(c.chainBalance).toBe(c.ledgerBalance - c.inFlight - c.fees + c.pendingDeposits + c.settledAboveSnapshot + c.unexplained);
        },
      ),
      { numRuns: 500 },
    );
  });
});
