// The reconciliation job (C-8.2.3-d): per configured asset, ask the chain-adapter for one
// consistent custodial snapshot, read the books in one database snapshot, classify the
// difference (domain/reconciliation.ts) and store the run with its evidence. Unexplained
// drift raises an incident (custody.incident.raised.v1) in the same transaction. A snapshot
// that cannot be obtained gives a FAILED run: it is never recorded or reported as balanced.
import { randomUUID } from 'node:crypto';
import { classify, evidenceOf, type ChainSnapshot, type Classification, type LedgerPosition } from '../domain/reconciliation.js';
import { InvalidArgumentError } from '../domain/errors.js';
import type { Clock } from './ports.js';

export interface ReconciliationTarget {
  readonly asset: string;
  readonly chain: string;
  /** Asset the chain's network fees are paid in. */
  readonly feeAsset: string;
}

/** The chain-adapter's ChainQueryService (adapters/grpc/chain-query-client.ts). Throws when it cannot answer. */
export interface ChainSnapshotSource {
  snapshot(asset: string, heldWithdrawalIds: readonly string[]): Promise<ChainSnapshot>;
}

export type RunOutcome = 'BALANCED' | 'DRIFT' | 'FAILED';

export interface IncidentToRaise {
  readonly incidentId: string;
  readonly chain: string;
  readonly asset: string;
  /** The one wallet that drifted ('' when several, or only the unattributed remainder). */
  readonly wallet: string;
  readonly detail: string;
  readonly evidence: Record<string, unknown>;
  readonly raisedAt: Date;
}

export interface ReconciliationRun {
  readonly runId: string;
  readonly asset: string;
  readonly chain: string;
  readonly outcome: RunOutcome;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly blockHeight?: bigint;
  readonly blockHash?: string;
  readonly classification?: Classification;
  readonly evidence: Record<string, unknown>;
  /** FAILED: why (no secrets). */
  readonly failureReason: string;
  /** Set when this run raised an incident, or continues the one already raised for the same drift. */
  readonly incidentId: string;
}

export interface ReconciliationStore {
  /** Withdrawal ids of `asset` the books hold (HELD), at most `limit`. */
  heldWithdrawalIds(asset: string, limit: number): Promise<string[]>;
  /** Ids of the `limit` latest settlements of `asset` (SETTLED withdrawals and treasury transfers, newest first). */
  recentlySettledIds(asset: string, limit: number): Promise<string[]>;
  /**
   * Every custodian:<asset>% account (total and per wallet), the ledger state of the given
   * withdrawals/deposits and, for the SETTLED ones, what their settlement entry did to the
   * custodial accounts — in ONE database snapshot.
   */
  position(asset: string, withdrawalIds: readonly string[], depositIds: readonly string[]): Promise<LedgerPosition>;
  /** The latest stored run of the asset (any outcome but FAILED), to avoid re-raising the same drift. */
  lastComparedRun(asset: string): Promise<{ readonly outcome: RunOutcome; readonly unexplained: bigint; readonly driftKey: string; readonly incidentId: string } | undefined>;
  /** Stores the run and, when given, enqueues the incident in the same transaction. */
  recordRun(run: ReconciliationRun, incident?: IncidentToRaise): Promise<void>;
}

export interface ReconciliationHooks {
  onRun?(run: ReconciliationRun): void;
  onFailure?(asset: string, err: unknown): void;
}

/** Ids sent with one request (the chain-adapter's bound): the held ones first, then the latest settlements. */
export const MAX_REQUEST_IDS = 10_000;
export const MAX_HELD_IDS = 9_000;
/**
 * The latest settlements asked about, so one whose transaction the chain-adapter places above
 * its snapshot block (its block index lagging its receipts) is compared as of the snapshot.
 */
export const MAX_RECENT_SETTLED_IDS = 1_000;
/** Addresses carried by the incident event (the stored run keeps them all): bounded so the event stays far below broker limits. */
export const MAX_INCIDENT_ADDRESSES = 200;

/** The run's evidence for the event: the largest balances first, at most MAX_INCIDENT_ADDRESSES, with the total count. */
function incidentEvidence(runId: string, evidence: Record<string, unknown>): Record<string, unknown> {
  const addresses = (evidence['addresses'] as { balance: string }[] | undefined) ?? [];
  const sorted = [...addresses].sort((a, b) => (BigInt(b.balance) > BigInt(a.balance) ? 1 : BigInt(b.balance) < BigInt(a.balance) ? -1 : 0));
  return { runId, ...evidence, addresses: sorted.slice(0, MAX_INCIDENT_ADDRESSES), addressCount: addresses.length, addressesTruncated: addresses.length > MAX_INCIDENT_ADDRESSES };
}

export class Reconciler {
  private running: Promise<ReconciliationRun[]> | undefined;

  constructor(
    private readonly deps: {
      readonly targets: readonly ReconciliationTarget[];
      readonly source: ChainSnapshotSource;
      readonly store: ReconciliationStore;
      readonly clock: Clock;
      readonly hooks?: ReconciliationHooks;
    },
  ) {}

  get assets(): string[] {
    return this.deps.targets.map((t) => t.asset);
  }

  /** One run for each asset (all when `assets` is empty). Runs never overlap: a call during a run waits for it, then runs. */
  async runOnce(assets: readonly string[] = []): Promise<ReconciliationRun[]> {
    const unknown = assets.filter((a) => !this.deps.targets.some((t) => t.asset === a));
    if (unknown.length > 0) throw new UnknownAssetError(unknown);
    while (this.running) await this.running.catch(() => undefined);
    const targets = assets.length === 0 ? this.deps.targets : this.deps.targets.filter((t) => assets.includes(t.asset));
    const mine = (async () => {
      const runs: ReconciliationRun[] = [];
      for (const t of targets) runs.push(await this.reconcile(t));
      return runs;
    })();
    this.running = mine;
    try {
      return await mine;
    } finally {
      if (this.running === mine) this.running = undefined;
    }
  }

  private async reconcile(target: ReconciliationTarget): Promise<ReconciliationRun> {
    const runId = randomUUID();
    const startedAt = this.deps.clock.now();
    let snapshot: ChainSnapshot;
    try {
      const held = await this.deps.store.heldWithdrawalIds(target.asset, MAX_HELD_IDS);
      const settled = await this.deps.store.recentlySettledIds(target.asset, Math.min(MAX_RECENT_SETTLED_IDS, MAX_REQUEST_IDS - held.length));
      snapshot = await this.deps.source.snapshot(target.asset, [...new Set([...held, ...settled])]);
      if (snapshot.asset !== target.asset || snapshot.chain !== target.chain) {
        throw new Error(`the chain-adapter answered for ${snapshot.asset} on ${snapshot.chain}, expected ${target.asset} on ${target.chain}`);
      }
    } catch (err) {
      return this.failed(target, runId, startedAt, err);
    }
    try {
      const position = await this.deps.store.position(
        target.asset,
        snapshot.withdrawals.map((w) => w.withdrawalId),
        snapshot.deposits.map((d) => d.depositId),
      );
      const c = classify(position, snapshot, { feeAsset: target.feeAsset });
      const evidence = evidenceOf(snapshot, c);
      const finishedAt = this.deps.clock.now();
      let incident: IncidentToRaise | undefined;
      let incidentId = '';
      if (c.outcome === 'DRIFT') {
        const last = await this.deps.store.lastComparedRun(target.asset);
        if (last?.outcome === 'DRIFT' && last.driftKey === c.driftKey && last.incidentId) {
          incidentId = last.incidentId; // the same drift as the last run: already raised
        } else {
          incidentId = randomUUID();
          const drifting = c.wallets.filter((w) => w.unexplained !== 0n);
          const named = drifting.filter((w) => w.walletId !== '');
          incident = {
            incidentId,
            chain: target.chain,
            asset: target.asset,
            wallet: drifting.length === 1 && named.length === 1 ? named[0]!.walletId : '',
            detail: `reconciliation of ${target.asset} on ${target.chain} at block ${snapshot.blockHeight}: unexplained ${c.unexplained} base units (chain ${c.chainBalance}, books ${c.ledgerBalance}, in flight ${c.inFlight}, fees ${c.fees}, pending deposits ${c.pendingDeposits}, settled above the snapshot ${c.settledAboveSnapshot}); wallets in drift: ${drifting.map((w) => `${w.walletId === '' ? '(unattributed)' : w.walletId} ${w.unexplained}`).join(', ')}`,
            evidence: incidentEvidence(runId, evidence),
            raisedAt: finishedAt,
          };
        }
      }
      const run: ReconciliationRun = {
        runId,
        asset: target.asset,
        chain: target.chain,
        outcome: c.outcome,
        startedAt,
        finishedAt,
        blockHeight: snapshot.blockHeight,
        blockHash: snapshot.blockHash,
        classification: c,
        evidence,
        failureReason: '',
        incidentId,
      };
      await this.deps.store.recordRun(run, incident);
      this.deps.hooks?.onRun?.(run);
      return run;
    } catch (err) {
      return this.failed(target, runId, startedAt, err);
    }
  }

  private async failed(target: ReconciliationTarget, runId: string, startedAt: Date, err: unknown): Promise<ReconciliationRun> {
    this.deps.hooks?.onFailure?.(target.asset, err);
    const run: ReconciliationRun = {
      runId,
      asset: target.asset,
      chain: target.chain,
      outcome: 'FAILED',
      startedAt,
      finishedAt: this.deps.clock.now(),
      evidence: {},
      failureReason: failureReason(err),
      incidentId: '',
    };
    try {
      await this.deps.store.recordRun(run);
    } catch (storeErr) {
      this.deps.hooks?.onFailure?.(target.asset, storeErr);
    }
    this.deps.hooks?.onRun?.(run);
    return run;
  }
}

/** An asset this ledger does not reconcile (INVALID_ARGUMENT on the RPC). */
export class UnknownAssetError extends InvalidArgumentError {
  constructor(readonly assets: readonly string[]) {
    super('assets', 'ASSET_NOT_RECONCILED', `not reconciled here: ${assets.join(', ')}`);
  }
}

/** A short, secret-free reason: the error's stable code when it has one, else its class and first line (bounded). */
function failureReason(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown; message?: unknown; name?: unknown };
  const parts = [typeof e?.name === 'string' ? e.name : 'Error', typeof e?.code === 'string' || typeof e?.code === 'number' ? String(e.code) : '', typeof e?.details === 'string' ? e.details : typeof e?.message === 'string' ? e.message : ''];
  return parts
    .filter((p) => p !== '')
    .join(': ')
    .split('\n')[0]!
    .slice(0, 300);
}
