import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { NO_BREACH, TreasurySettingsError, assessHotWallet, capRatio, isTreasuryTransferId, transferGate, treasurySettingsFromData, treasuryTransferInput, type AssetTreasury, type HotWalletState } from './treasury.js';

const ROOT = new URL('../../../../', import.meta.url);
const shipped = {
  limits: (JSON.parse(readFileSync(new URL('policies/data/limits.json', ROOT), 'utf8')) as { limits: unknown }).limits,
  treasury: (JSON.parse(readFileSync(new URL('policies/data/treasury.json', ROOT), 'utf8')) as { treasury: unknown }).treasury,
};

const eth: AssetTreasury = {
  asset: 'ETH',
  cap: 50n * 10n ** 18n,
  target: 30n * 10n ** 18n,
  floor: 5n * 10n ** 18n,
  sweepTo: 'cold',
  wallets: { hot: [{ id: 'eth-hot-01', address: '0xa', tier: 'hot' }], warm: [{ id: 'eth-warm-01', address: '0xb', tier: 'warm' }], cold: [{ id: 'eth-cold-01', address: '0xc', tier: 'cold' }] },
};
const t0 = new Date('2026-01-01T00:00:00Z');
const later = (s: number): Date => new Date(t0.getTime() + s * 1000);
const base = { settings: eth, graceSeconds: 900, now: t0, state: NO_BREACH, openSweep: false, openReplenish: false };

describe('C-9.3.7.1-a hot-wallet monitor rules', () => {
  it('above the cap: sweep balance − target, breach starts now, no incident yet', () => {
    const hot = eth.cap + 1n;
    const a = assessHotWallet({ ...base, hot });
    expect(a.sweep).toBe(hot - eth.target);
    expect(a.state).toEqual({ breachSince: t0, paused: false });
    expect(a.raiseIncident).toBe(false);
    expect(a.replenish).toBeUndefined();
  });

  it('an excess larger than the cap leaves in transfers of at most the cap (the signer\'s per-transaction hot cap): 105 ETH → 50 ETH now, the rest next round', () => {
    const eth18 = 10n ** 18n;
    const first = assessHotWallet({ ...base, hot: 105n * eth18 });
    expect(first.sweep).toBe(eth.cap);
    const second = assessHotWallet({ ...base, hot: 105n * eth18 - eth.cap, state: first.state, now: later(60) });
    expect(second.sweep).toBe(105n * eth18 - eth.cap - eth.target);
    expect(second.state.breachSince).toEqual(t0);
  });

  it('at the cap exactly: nothing to do', () => {
    const a = assessHotWallet({ ...base, hot: eth.cap });
    expect(a).toEqual({ state: NO_BREACH, sweep: undefined, replenish: undefined, raiseIncident: false, resumed: false });
  });

  it('no second sweep while one is in flight, the breach keeps its start', () => {
    const a = assessHotWallet({ ...base, hot: eth.cap * 2n, now: later(60), state: { breachSince: t0, paused: false }, openSweep: true });
    expect(a.sweep).toBeUndefined();
    expect(a.state.breachSince).toEqual(t0);
  });

  it('a breach longer than the grace period raises the incident once and pauses; back under the cap resumes', () => {
    const within = assessHotWallet({ ...base, hot: eth.cap + 1n, now: later(900), state: { breachSince: t0, paused: false }, openSweep: true });
    expect(within.raiseIncident).toBe(false);
    expect(within.state.paused).toBe(false);
    const over = assessHotWallet({ ...base, hot: eth.cap + 1n, now: later(901), state: { breachSince: t0, paused: false }, openSweep: true });
    expect(over.raiseIncident).toBe(true);
    expect(over.state).toEqual({ breachSince: t0, paused: true });
    const still = assessHotWallet({ ...base, hot: eth.cap + 1n, now: later(2000), state: over.state, openSweep: true });
    expect(still.raiseIncident).toBe(false);
    expect(still.state.paused).toBe(true);
    const back = assessHotWallet({ ...base, hot: eth.cap, now: later(2100), state: still.state, openSweep: true });
    expect(back.state).toEqual(NO_BREACH);
    expect(back.resumed).toBe(true);
  });

  it('below the floor: replenish up to the target, once', () => {
    const hot = eth.floor - 1n;
    expect(assessHotWallet({ ...base, hot }).replenish).toBe(eth.target - hot);
    expect(assessHotWallet({ ...base, hot, openReplenish: true }).replenish).toBeUndefined();
    expect(assessHotWallet({ ...base, hot: eth.floor }).replenish).toBeUndefined();
  });

  it('property: a sweep lands the hot balance on the target (or moves exactly the cap when the excess is larger), and only above the cap', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.boolean(), (hot, open) => {
        const a = assessHotWallet({ ...base, hot, openSweep: open });
        if (a.sweep !== undefined) {
          expect(hot > eth.cap && !open).toBe(true);
          if (hot - eth.target <= eth.cap) expect(hot - a.sweep).toBe(eth.target);
          else expect(a.sweep).toBe(eth.cap);
          expect(a.sweep > 0n && a.sweep <= eth.cap).toBe(true);
        } else expect(hot <= eth.cap || open).toBe(true);
        if (a.replenish !== undefined) {
          expect(hot < eth.floor).toBe(true);
          expect(hot + a.replenish).toBe(eth.target);
        }
        expect(a.sweep !== undefined && a.replenish !== undefined).toBe(false);
      }),
    );
  });

  it('property: the pause is raised exactly when the breach outlasts the grace period', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 1, max: 10_000 }), (elapsed, grace) => {
        const a = assessHotWallet({ ...base, hot: eth.cap + 1n, graceSeconds: grace, now: later(elapsed), state: { breachSince: t0, paused: false } });
        expect(a.state.paused).toBe(elapsed > grace);
        expect(a.raiseIncident).toBe(elapsed > grace);
      }),
    );
  });

  it('cap ratio with 4 decimals from integers (wei beyond 2^53)', () => {
    expect(capRatio(eth.cap, eth.cap)).toBe(1);
    expect(capRatio(75n * 10n ** 18n, eth.cap)).toBe(1.5);
    expect(capRatio(-eth.cap, eth.cap)).toBe(-1);
    expect(capRatio(1n, 3n)).toBe(0.3333);
  });

  it('transfer ids are recognisable by their prefix; the input has the transfer.rego shape', () => {
    expect(isTreasuryTransferId('treasury:sweep:ETH:1')).toBe(true);
    expect(isTreasuryTransferId('5f8e2c1e-0000-4000-8000-000000000000')).toBe(false);
    expect(
      treasuryTransferInput({ transferId: 'treasury:1', direction: 'sweep', requestedBy: 'm', now: '2026-01-01T00:00:00Z', asset: 'ETH', amount: 10n ** 20n, source: { id: 'eth-hot-01', tier: 'hot' }, destination: { address: '0xc', walletId: 'eth-cold-01' } }),
    ).toEqual({
      kind: 'treasury_transfer',
      transfer_id: 'treasury:1',
      direction: 'sweep',
      requested_by: 'm',
      now: '2026-01-01T00:00:00Z',
      asset: 'ETH',
      amount: '100000000000000000000',
      source_wallet: { id: 'eth-hot-01', tier: 'hot' },
      destination: { address: '0xc', wallet_id: 'eth-cold-01' },
      approvals: [],
    });
  });
});

describe('C-9.3.7.1-a settling guard: a sweep final in policy but not booked by the ledger blocks the next proposal', () => {
  const sweep = (transferId: string) => ({ transferId, direction: 'sweep' as const });

  it('settling (final here, not confirmed booked) blocks a new sweep; booked (confirmed before the balance read) releases it', () => {
    const settling = transferGate({ open: [], settling: [sweep('s1')], bookedBeforeRead: new Set() });
    expect(settling).toEqual({ sweepBlocked: true, replenishBlocked: false, released: [], unbooked: ['s1'] });
    expect(assessHotWallet({ ...base, hot: eth.cap * 2n, openSweep: settling.sweepBlocked }).sweep).toBeUndefined();
    const booked = transferGate({ open: [], settling: [sweep('s1')], bookedBeforeRead: new Set(['s1']) });
    expect(booked).toEqual({ sweepBlocked: false, replenishBlocked: false, released: ['s1'], unbooked: [] });
    expect(assessHotWallet({ ...base, hot: eth.cap + 1n, openSweep: booked.sweepBlocked }).sweep).toBe(eth.cap + 1n - eth.target);
  });

  it('an open sweep blocks whatever the ledger says; a settling replenishment blocks only replenishments; one unconfirmed of two still blocks', () => {
    expect(transferGate({ open: [{ direction: 'sweep' }], settling: [], bookedBeforeRead: new Set() }).sweepBlocked).toBe(true);
    expect(transferGate({ open: [], settling: [{ transferId: 'r1', direction: 'replenish' }], bookedBeforeRead: new Set() })).toMatchObject({ sweepBlocked: false, replenishBlocked: true });
    expect(transferGate({ open: [], settling: [sweep('s1'), sweep('s2')], bookedBeforeRead: new Set(['s1']) })).toMatchObject({ sweepBlocked: true, released: ['s1'], unbooked: ['s2'] });
  });

  /**
   * A model of the race: one chain, two consumers of the same tx.status FINAL (policy closes the
   * sweep, the ledger books it; either order), and monitor rounds whose three steps (booking
   * lookup, balance read, decision under the lock) interleave with both. The ledger's hot
   * balance drops only when it books. Whatever the interleaving, the sweeps proposed never
   * move more than the excess there was (each excess is swept once).
   */
  type Step = 'final' | 'book' | 'lookup' | 'read' | 'decide';
  interface Sweep {
    readonly id: string;
    readonly amount: bigint;
    finalInPolicy: boolean;
    bookedInLedger: boolean;
    markedBooked: boolean;
  }
  function simulate(hot0: bigint, steps: readonly Step[], guard: boolean): { proposed: bigint[]; ledgerHot: bigint } {
    let ledgerHot = hot0;
    const sweeps: Sweep[] = [];
    const proposed: bigint[] = [];
    let state: HotWalletState = NO_BREACH;
    let round: { booked: Set<string>; read?: bigint } | undefined;
    for (const step of steps) {
      if (step === 'final') {
        const s = sweeps.find((x) => !x.finalInPolicy);
        if (s) s.finalInPolicy = true;
      } else if (step === 'book') {
        const s = sweeps.find((x) => !x.bookedInLedger);
        if (s) {
          s.bookedInLedger = true;
          ledgerHot -= s.amount;
        }
      } else if (step === 'lookup') {
        round = { booked: new Set(sweeps.filter((x) => x.finalInPolicy && !x.markedBooked && x.bookedInLedger).map((x) => x.id)) };
      } else if (step === 'read') {
        if (round) round.read = ledgerHot;
      } else if (round?.read !== undefined) {
        const open = sweeps.filter((x) => !x.finalInPolicy).map(() => ({ direction: 'sweep' as const }));
        const settling = guard ? sweeps.filter((x) => x.finalInPolicy && !x.markedBooked).map((x) => sweep(x.id)) : [];
        const gate = transferGate({ open, settling, bookedBeforeRead: round.booked });
        for (const id of gate.released) sweeps.find((x) => x.id === id)!.markedBooked = true;
        const a = assessHotWallet({ ...base, hot: round.read, state, openSweep: gate.sweepBlocked });
        state = a.state;
        if (a.sweep !== undefined) {
          proposed.push(a.sweep);
          sweeps.push({ id: `s${sweeps.length}`, amount: a.sweep, finalInPolicy: false, bookedInLedger: false, markedBooked: false });
        }
        round = undefined;
      }
    }
    return { proposed, ledgerHot };
  }
  const eth18 = 10n ** 18n;

  it('without the guard the race proposes the same excess twice; with it, once (example: round after policy FINAL, before the ledger books)', () => {
    const steps: Step[] = ['lookup', 'read', 'decide', 'final', 'lookup', 'read', 'decide', 'book', 'lookup', 'read', 'decide'];
    expect(simulate(60n * eth18, steps, false).proposed).toEqual([30n * eth18, 30n * eth18]);
    expect(simulate(60n * eth18, steps, true).proposed).toEqual([30n * eth18]);
  });

  it('property: over any interleaving of {final in policy, booked in ledger, monitor round steps} the sweeps proposed never exceed the excess; an excess ≤ cap is swept at most once', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 51n, max: 200n }), fc.array(fc.constantFrom<Step>('final', 'book', 'lookup', 'read', 'decide'), { maxLength: 80 }), (hotEth, steps) => {
        const hot0 = hotEth * eth18;
        const { proposed } = simulate(hot0, steps, true);
        const total = proposed.reduce((a, b) => a + b, 0n);
        expect(total <= hot0 - eth.target).toBe(true);
        for (const p of proposed) expect(p > 0n && p <= eth.cap).toBe(true);
        if (hot0 - eth.target <= eth.cap) expect(proposed.length <= 1).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('property: once every sweep is final and booked, a full round proposes again exactly while the books are still above the cap (booked releases it)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 81n, max: 250n }), (hotEth) => {
        const hot0 = hotEth * eth18;
        const { proposed, ledgerHot } = simulate(hot0, ['lookup', 'read', 'decide', 'final', 'book', 'lookup', 'read', 'decide'], true);
        expect(proposed[0]).toBe(eth.cap);
        // The books show the first sweep only (the second, if any, is not booked).
        const afterFirst = hot0 - eth.cap;
        expect(ledgerHot).toBe(afterFirst);
        if (afterFirst > eth.cap) expect(proposed).toEqual([eth.cap, afterFirst - eth.target > eth.cap ? eth.cap : afterFirst - eth.target]);
        else expect(proposed).toEqual([eth.cap]);
      }),
    );
  });
});

describe('C-9.3.7.1-b treasury settings from the bundle data', () => {
  it('reads the shipped data: every asset with a cap has target, floor and the three tiers', () => {
    const s = treasurySettingsFromData(shipped);
    expect([...s.assets.keys()].sort()).toEqual(['BTC', 'ETH']);
    const e = s.assets.get('ETH')!;
    expect(e.cap).toBe(50n * 10n ** 18n);
    expect(e.target).toBe(30n * 10n ** 18n);
    expect(e.wallets.cold[0]).toEqual({ id: 'eth-cold-01', address: '0x00000000000000000000000000000000000a3301', tier: 'cold' });
    expect(s.graceSeconds).toBe(900);
  });

  it('fails closed on incomplete data', () => {
    const treasury = shipped.treasury as { assets: Record<string, Record<string, unknown>> };
    const without = (asset: string, key: string): unknown => ({ ...treasury, assets: { ...treasury.assets, [asset]: { ...treasury.assets[asset], [key]: undefined } } });
    expect(() => treasurySettingsFromData({ limits: shipped.limits, treasury: without('ETH', 'hot_target') })).toThrow(TreasurySettingsError);
    expect(() => treasurySettingsFromData({ limits: shipped.limits, treasury: without('BTC', 'wallets') })).toThrow(TreasurySettingsError);
    expect(() => treasurySettingsFromData({ limits: shipped.limits, treasury: { ...treasury, assets: { ETH: treasury.assets['ETH'] } } })).toThrow(/BTC/);
    expect(() => treasurySettingsFromData({ limits: shipped.limits, treasury: { ...treasury, breach_grace_seconds: 0 } })).toThrow(TreasurySettingsError);
    expect(() => treasurySettingsFromData({ limits: shipped.limits, treasury: without('ETH', 'sweep_to') })).toThrow(TreasurySettingsError);
    const inverted = { ...treasury, assets: { ...treasury.assets, ETH: { ...treasury.assets['ETH'], hot_target: '60000000000000000000' } } };
    expect(() => treasurySettingsFromData({ limits: shipped.limits, treasury: inverted })).toThrow(/hot_floor < hot_target < hot_wallet_cap/);
  });
});
