import { describe, expect, it } from '@jest/globals';
import type { ChainSnapshot, LedgerPosition } from '../domain/reconciliation.js';
import { Reconciler, UnknownAssetError, type ChainSnapshotSource, type IncidentToRaise, type ReconciliationRun, type ReconciliationStore } from './reconciliation.js';

const snap = (balance: bigint, asset = 'ETH', chain = 'ethereum'): ChainSnapshot => ({
  chain,
  asset,
  blockHeight: 10n,
  blockHash: `0x${'a'.repeat(64)}`,
  addresses: [{ address: '0x01', walletId: 'w', role: 'hot-wallet', balance }],
  withdrawals: [],
  deposits: [],
});

class FakeStore implements ReconciliationStore {
  runs: ReconciliationRun[] = [];
  incidents: IncidentToRaise[] = [];
  held: string[] = [];
  constructor(public custodian = 100n) {}
  settled: string[] = [];
  async heldWithdrawalIds(): Promise<string[]> {
    return this.held;
  }
  async recentlySettledIds(_asset: string, limit: number): Promise<string[]> {
    return this.settled.slice(0, limit);
  }
  async position(asset: string): Promise<LedgerPosition> {
    // The books hold it in wallet 'w' (the wallet the snapshot names).
    return { asset, custodianBalance: this.custodian, walletBalances: new Map([['w', this.custodian]]), withdrawals: new Map(), deposits: new Map() };
  }
  async lastComparedRun(asset: string) {
    const r = [...this.runs].reverse().find((x) => x.asset === asset && x.outcome !== 'FAILED');
    return r ? { outcome: r.outcome, unexplained: r.classification!.unexplained, driftKey: r.classification!.driftKey, incidentId: r.incidentId } : undefined;
  }
  async recordRun(run: ReconciliationRun, incident?: IncidentToRaise): Promise<void> {
    this.runs.push(run);
    if (incident) this.incidents.push(incident);
  }
}

const source = (fn: (asset: string, held: readonly string[]) => Promise<ChainSnapshot>): ChainSnapshotSource => ({ snapshot: fn });
const clock = { now: () => new Date('2026-01-01T00:00:00Z') };
const target = { asset: 'ETH', chain: 'ethereum', feeAsset: 'ETH' };

describe('Reconciler (the job around the classification)', () => {
  it('balanced → one stored BALANCED run, no incident; the held withdrawal ids go to the chain-adapter', async () => {
    const store = new FakeStore(100n);
    store.held = ['w1', 'w2'];
    let asked: readonly string[] = [];
    const r = new Reconciler({ targets: [target], source: source(async (_a, held) => ((asked = held), snap(100n))), store, clock });
    const [run] = await r.runOnce();
    expect(run).toMatchObject({ outcome: 'BALANCED', incidentId: '', blockHeight: 10n });
    expect(asked).toEqual(['w1', 'w2']);
    expect(store.incidents).toEqual([]);
  });

  it('the latest settlements go with the request too (after the held ones, once each), so one above the snapshot is compared as of the snapshot', async () => {
    const store = new FakeStore(100n);
    store.held = ['w1', 'w2'];
    store.settled = ['w3', 'w2', 'w4'];
    let asked: readonly string[] = [];
    const r = new Reconciler({ targets: [target], source: source(async (_a, held) => ((asked = held), snap(100n))), store, clock });
    await r.runOnce();
    expect(asked).toEqual(['w1', 'w2', 'w3', 'w4']);
  });

  it('drift → DRIFT with an incident carrying the evidence; the same drift again reuses it; a different amount raises a new one', async () => {
    const store = new FakeStore(100n);
    let chain = 90n;
    const r = new Reconciler({ targets: [target], source: source(async () => snap(chain)), store, clock });
    const [first] = await r.runOnce();
    expect(first).toMatchObject({ outcome: 'DRIFT' });
    expect(store.incidents).toHaveLength(1);
    expect(store.incidents[0]).toMatchObject({ incidentId: first!.incidentId, asset: 'ETH', chain: 'ethereum', wallet: 'w', evidence: { runId: first!.runId, unexplained: '-10', mismatchedWallets: ['w'] } });
    expect(first!.classification!.mismatchedWallets).toBe(1);
    expect(store.incidents[0]!.evidence).toMatchObject({ addressCount: 1, addressesTruncated: false, addresses: [{ address: '0x01', balance: '90' }] });
    const [again] = await r.runOnce();
    expect(again!.incidentId).toBe(first!.incidentId);
    expect(store.incidents).toHaveLength(1);
    chain = 80n;
    const [worse] = await r.runOnce();
    expect(worse!.incidentId).not.toBe(first!.incidentId);
    expect(store.incidents).toHaveLength(2);
  });

  it('a chain-adapter that cannot answer, or answers for another asset/chain → FAILED (stored), never compared', async () => {
    for (const failing of [
      source(async () => {
        throw Object.assign(new Error('14 UNAVAILABLE: connect ECONNREFUSED'), { code: 14, details: 'No connection established' });
      }),
      source(async () => snap(100n, 'BTC')),
      source(async () => snap(100n, 'ETH', 'polygon')),
    ]) {
      const store = new FakeStore(100n);
      const failures: string[] = [];
      const [run] = await new Reconciler({ targets: [target], source: failing, store, clock, hooks: { onFailure: (a) => failures.push(a) } }).runOnce();
      expect(run).toMatchObject({ outcome: 'FAILED', incidentId: '' });
      expect(run!.classification).toBeUndefined();
      expect(run!.failureReason).not.toBe('');
      expect(store.runs.map((x) => x.outcome)).toEqual(['FAILED']);
      expect(failures).toEqual(['ETH']);
    }
  });

  it('an asset not configured is refused before anything runs', async () => {
    const store = new FakeStore();
    const r = new Reconciler({ targets: [target], source: source(async () => snap(100n)), store, clock });
    await expect(r.runOnce(['DOGE'])).rejects.toBeInstanceOf(UnknownAssetError);
    expect(store.runs).toEqual([]);
  });

  it('runs never overlap: a second call waits for the first', async () => {
    const store = new FakeStore(100n);
    let inFlight = 0;
    let maxInFlight = 0;
    const r = new Reconciler({
      targets: [target],
      source: source(async () => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((res) => setImmediate(res));
        inFlight--;
        return snap(100n);
      }),
      store,
      clock,
    });
    await Promise.all([r.runOnce(), r.runOnce(), r.runOnce()]);
    expect(maxInFlight).toBe(1);
    expect(store.runs).toHaveLength(3);
  });

  it('the incident event carries at most 200 addresses, largest balances first; the stored run keeps them all', async () => {
    const store = new FakeStore(1n);
    const many: ChainSnapshot = { ...snap(0n), addresses: Array.from({ length: 250 }, (_, i) => ({ address: `0x${i.toString(16).padStart(40, '0')}`, walletId: '', role: 'deposit', balance: BigInt(i) })) };
    const [run] = await new Reconciler({ targets: [target], source: source(async () => many), store, clock }).runOnce();
    expect(run!.outcome).toBe('DRIFT');
    expect((run!.evidence['addresses'] as unknown[]).length).toBe(250);
    const e = store.incidents[0]!.evidence as { addresses: { balance: string }[]; addressCount: number; addressesTruncated: boolean };
    expect(e.addresses).toHaveLength(200);
    expect(e.addresses[0]!.balance).toBe('249');
    expect(e).toMatchObject({ addressCount: 250, addressesTruncated: true });
  });
});
