/**
 * Hot-wallet cap monitor and treasury transfers (C-9.3.7.1-a, C-9.3.7.1-b).
 *
 * Every round (`tick`), per asset of the active bundle: the ledger's balance of our hot
 * wallets (GetWalletBalances) is compared with the bundle's cap, target and floor
 * (domain/treasury.ts). A sweep or replenishment becomes a treasury transfer: a request of
 * kind `treasury_transfer` decided by the same Wasm bundle (treasury/transfer.rego), stored as
 * a decision like a withdrawal's (input, output, bundle digest) and emitted as policy.decided —
 * an ALLOW carries the decision token binding source wallet, our own destination and amount,
 * so chain-adapter and the signer handle it like any withdrawal; a REQUIRE_APPROVAL waits for
 * the quorum through ApprovalService. At most one transfer per asset and direction is open
 * (a unique index); it closes when the chain reports it final or failed (tx.status /
 * tx.refused, adapters/kafka/treasury-consumer.ts) or when its decision ends without allow.
 *
 * A breach lasting longer than the grace period raises `custody.incident.raised.v1` once and
 * pauses hot withdrawals of the asset (input.hot_wallet_pause → treasury/hot_pause.rego) until
 * the balance is back under the cap.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@custody/platform';
import type { Decision } from '../domain/decision.js';
import type { Clock } from '../domain/clock.js';
import { toCanonicalTimestamp } from '../domain/timestamp.js';
import {
  TREASURY_TRANSFER_PREFIX,
  assessHotWallet,
  capRatio,
  treasurySettingsFromData,
  treasuryTransferInput,
  type AssetTreasury,
  type HotWalletState,
  type OwnWallet,
  transferGate,
  type TransferBooking,
  type TransferDirection,
  type TreasurySettings,
  type WalletTier,
} from '../domain/treasury.js';
import type { BundleRegistry } from './bundle-registry.js';
import type { DecisionRecord, DecisionService, PolicyStore } from './decisions.js';
import type { PolicyEvaluator } from './policy-evaluator.js';
import type { Tx } from './ports.js';

/** One custodial wallet balance as the ledger reports it (GetWalletBalances). */
export interface WalletBalanceFact {
  readonly walletId: string;
  readonly chain: string;
  readonly available: bigint;
}

/** The ledger's facts the monitor reads. Rejects when the ledger cannot answer (never a guessed value). */
export interface WalletBalanceSource {
  /** Per-wallet balances of an asset (GetWalletBalances); a rejection skips the round. */
  walletBalances(asset: string): Promise<readonly WalletBalanceFact[]>;
  /** Whether the ledger has booked a treasury transfer (GetTransferBooking); a rejection blocks that direction this round. */
  transferBooking(transferId: string): Promise<TransferBooking>;
}

export type TransferStatus = 'open' | 'closed';

export interface TreasuryTransferRecord {
  readonly transferId: string;
  readonly decisionId: string;
  readonly asset: string;
  readonly direction: TransferDirection;
  readonly status: TransferStatus;
  readonly amount: bigint;
  readonly sourceWallet: string;
  readonly destinationWallet: string;
  readonly destinationAddress: string;
  readonly requestedBy: string;
  readonly openedAt: Date;
  readonly closeReason: string;
}

export interface TreasuryIncident {
  readonly incidentId: string;
  readonly asset: string;
  readonly chain: string;
  readonly wallet: string;
  readonly detail: string;
  readonly evidence: Readonly<Record<string, string | number>>;
  readonly raisedAt: Date;
}

export interface TreasuryStore {
  /** Serialises rounds and proposals of one asset (advisory lock, held to the end of `tx`). */
  lockAsset(tx: Tx, asset: string): Promise<void>;
  hotState(tx: Tx, asset: string): Promise<HotWalletState>;
  saveHotState(tx: Tx, asset: string, state: HotWalletState, hot: bigint, cap: bigint, now: Date): Promise<void>;
  /** The pause as the decision input shows it (undefined: not paused). Read in the decision's transaction. */
  hotPause(tx: Tx, asset: string): Promise<{ readonly since: Date } | undefined>;
  openTransfers(tx: Tx, asset: string): Promise<readonly TreasuryTransferRecord[]>;
  /** Transfers closed as final whose booking the ledger has not confirmed yet ("settling"). */
  settlingTransfers(tx: Tx, asset: string): Promise<readonly TreasuryTransferRecord[]>;
  /** settling → booked (the ledger confirmed it); false when it was not settling. */
  markBooked(tx: Tx, transferId: string, now: Date): Promise<boolean>;
  transfer(tx: Tx, transferId: string): Promise<TreasuryTransferRecord | undefined>;
  insertTransfer(tx: Tx, t: TreasuryTransferRecord): Promise<void>;
  /** open → closed; false when it was not open. */
  closeTransfer(tx: Tx, transferId: string, reason: string, now: Date): Promise<boolean>;
  /** closed (as final, settling or booked) → open again (the final block left the chain). */
  reopenTransfer(tx: Tx, transferId: string, now: Date): Promise<boolean>;
  publishIncident(tx: Tx, incident: TreasuryIncident): Promise<void>;
}

export interface TreasuryMetrics {
  capRatio(asset: string, ratio: number): void;
}

export interface TreasuryServiceDeps {
  readonly store: TreasuryStore;
  readonly decisions: PolicyStore;
  readonly decisionService: DecisionService;
  readonly registry: BundleRegistry;
  readonly evaluator: PolicyEvaluator;
  readonly balances: WalletBalanceSource;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: TreasuryMetrics;
  /** requested_by of the monitor's own proposals. */
  readonly monitorId?: string;
}

export const TREASURY_MONITOR_ID = 'policy-treasury-monitor';
/** The ledger's pseudo wallet of the HD deposit addresses. */
const DEPOSITS_WALLET = 'deposits';
const ENDED = new Set(['deny', 'rejected', 'expired', 'hold']);

export class TreasuryProposalError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'TreasuryProposalError';
  }
}

export interface RoundResult {
  readonly asset: string;
  readonly hot: bigint;
  readonly proposed: readonly TreasuryTransferRecord[];
  readonly incident: boolean;
  readonly paused: boolean;
}

export class TreasuryService {
  constructor(private readonly deps: TreasuryServiceDeps) {}

  /** The settings of the active bundle (throws TreasurySettingsError on incomplete data). */
  settings(): TreasurySettings {
    return treasurySettingsFromData(this.deps.registry.current().data);
  }

  /** One monitoring round over every asset; a failing asset is logged and does not stop the others. */
  async tick(): Promise<readonly RoundResult[]> {
    const settings = this.settings();
    const out: RoundResult[] = [];
    for (const asset of [...settings.assets.keys()].sort()) {
      try {
        out.push(await this.round(asset, settings));
      } catch (err) {
        this.deps.logger.warn({ err, asset, alert: 'treasury_round_failed' }, 'hot-wallet round failed; retried next round');
      }
    }
    return out;
  }

  /** One asset's round: balance from the ledger, then state, proposals and incident in one transaction. */
  async round(asset: string, settings: TreasurySettings = this.settings()): Promise<RoundResult> {
    const s = settings.assets.get(asset);
    if (!s) throw new TreasuryProposalError('TREASURY_ASSET_UNKNOWN', `no treasury settings for ${asset}`);
    // Settling guard (domain transferGate): ask the ledger about every settling transfer BEFORE
    // reading the balances, so a BOOKED answer means the balances read next include it.
    const settlingBefore = await this.deps.decisions.transaction((tx) => this.deps.store.settlingTransfers(tx, asset));
    const bookedBeforeRead = new Set<string>();
    for (const t of settlingBefore) {
      let booking: TransferBooking | 'unknown';
      try {
        booking = await this.deps.balances.transferBooking(t.transferId);
      } catch (err) {
        booking = 'unknown';
        this.deps.logger.warn({ err, asset, transferId: t.transferId, alert: 'treasury_booking_unknown' }, 'ledger cannot say whether a final treasury transfer is booked: no proposal of that direction this round');
      }
      if (booking === 'booked') bookedBeforeRead.add(t.transferId);
    }
    const balances = await this.deps.balances.walletBalances(asset);
    const hotIds = new Set(s.wallets.hot.map((w) => w.id));
    // Online exposure: our hot wallets plus the HD deposit addresses (custodian:<asset>:deposits,
    // also online keys, swept into the hot wallet by chain-adapter without a booking).
    const hot = balances.filter((b) => hotIds.has(b.walletId) || b.walletId === DEPOSITS_WALLET).reduce((sum, b) => sum + b.available, 0n);
    this.deps.metrics?.capRatio(asset, capRatio(hot, s.cap));
    return this.deps.decisions.transaction(async (tx) => {
      const { store } = this.deps;
      await store.lockAsset(tx, asset);
      const now = this.deps.clock.now();
      const open = await this.closeEnded(tx, await store.openTransfers(tx, asset), now);
      // Re-read under the lock: a transfer that became final after the lookup is settling and unconfirmed.
      const gate = transferGate({ open, settling: await store.settlingTransfers(tx, asset), bookedBeforeRead });
      for (const id of gate.released) await store.markBooked(tx, id, now);
      if (gate.unbooked.length > 0) this.deps.logger.info({ asset, settling: gate.unbooked }, 'treasury transfer final but not booked by the ledger yet: no proposal of its direction on the balances read');
      const before = await store.hotState(tx, asset);
      const a = assessHotWallet({
        hot,
        settings: s,
        graceSeconds: settings.graceSeconds,
        now,
        state: before,
        openSweep: gate.sweepBlocked,
        openReplenish: gate.replenishBlocked,
      });
      const proposed: TreasuryTransferRecord[] = [];
      if (a.sweep !== undefined) {
        // The whole excess leaves from the hot wallet holding most: on chain it also holds the swept
        // deposits the books keep under `deposits` (its ledger account may even be negative).
        const source = largest(s.wallets.hot, balances);
        const destination = s.wallets[s.sweepTo][0] as OwnWallet;
        if (source) proposed.push(await this.propose(tx, { asset, direction: 'sweep', amount: a.sweep, source: source.wallet, chain: source.chain, destination, requestedBy: this.monitorId() }, now));
        else this.deps.logger.warn({ asset, alert: 'treasury_no_hot_wallet' }, 'above the cap but the ledger names no registered hot wallet of the treasury data: no sweep');
      }
      if (a.replenish !== undefined) {
        const source = largest(s.wallets.warm, balances);
        const destination = s.wallets.hot[0] as OwnWallet;
        if (source && source.available > 0n) {
          const amount = source.available < a.replenish ? source.available : a.replenish;
          proposed.push(await this.propose(tx, { asset, direction: 'replenish', amount, source: source.wallet, chain: source.chain, destination, requestedBy: this.monitorId() }, now));
        }
      }
      if (a.raiseIncident) {
        const wallet = s.wallets.hot[0] as OwnWallet;
        const chain = balances.find((b) => hotIds.has(b.walletId) && b.chain !== '')?.chain ?? '';
        const since = a.state.breachSince ?? now;
        await store.publishIncident(tx, {
          incidentId: randomUUID(),
          asset,
          chain,
          wallet: wallet.id,
          detail: `${asset} hot balance ${hot} has been above the cap ${s.cap} since ${since.toISOString()} (grace ${settings.graceSeconds} s): hot withdrawals paused`,
          evidence: { hot: hot.toString(), cap: s.cap.toString(), target: s.target.toString(), breach_since: since.toISOString(), grace_seconds: settings.graceSeconds, open_sweeps: open.filter((t) => t.direction === 'sweep').length },
          raisedAt: now,
        });
        this.deps.logger.error({ alert: 'hot_wallet_cap_breach', asset, hot: hot.toString(), cap: s.cap.toString(), since }, 'hot wallet above its cap longer than the grace period: incident raised, hot withdrawals paused');
      }
      if (a.resumed) this.deps.logger.info({ asset, hot: hot.toString(), cap: s.cap.toString() }, 'hot wallet back under its cap: hot withdrawals resumed');
      await store.saveHotState(tx, asset, a.state, hot, s.cap, now);
      return { asset, hot, proposed, incident: a.raiseIncident, paused: a.state.paused };
    });
  }

  /**
   * An operator's replenishment (warm/cold → hot). The policy decides it like the monitor's:
   * a quorum is required, and a destination that is not our own hot wallet is denied.
   */
  async proposeReplenishment(args: { asset: string; amount: bigint; sourceWallet: string; destinationWallet: string; destinationAddress: string; requestedBy: string; chain: string }): Promise<TreasuryTransferRecord> {
    if (args.amount <= 0n) throw new TreasuryProposalError('AMOUNT_INVALID', 'amount must be a positive base-unit integer');
    const s = this.settings().assets.get(args.asset);
    if (!s) throw new TreasuryProposalError('TREASURY_ASSET_UNKNOWN', `no treasury settings for ${args.asset}`);
    // The tier is what our data says of the source id; an unknown id is passed as warm and the Rego denies it (treasury_source_not_own).
    const sourceTier: WalletTier = (['warm', 'cold', 'hot'] as const).find((t) => s.wallets[t].some((w) => w.id === args.sourceWallet)) ?? 'warm';
    return this.deps.decisions.transaction(async (tx) => {
      await this.deps.store.lockAsset(tx, args.asset);
      const now = this.deps.clock.now();
      const open = await this.closeEnded(tx, await this.deps.store.openTransfers(tx, args.asset), now);
      if (open.some((t) => t.direction === 'replenish')) throw new TreasuryProposalError('TRANSFER_IN_FLIGHT', `a replenishment of ${args.asset} is already open`);
      const destinationTier = (['hot', 'warm', 'cold'] as const).find((t) => s.wallets[t].some((w) => w.id === args.destinationWallet)) ?? 'hot';
      return this.propose(
        tx,
        {
          asset: args.asset,
          direction: 'replenish',
          amount: args.amount,
          source: { id: args.sourceWallet, address: '', tier: sourceTier },
          chain: args.chain,
          destination: { id: args.destinationWallet, address: args.destinationAddress, tier: destinationTier },
          requestedBy: args.requestedBy,
        },
        now,
      );
    });
  }

  /** tx.status / tx.refused of a transfer: final or failed closes it; a reorg of a final one reopens it. */
  async onChainOutcome(tx: Tx, transferId: string, outcome: 'final' | 'failed' | 'reorged', reason: string): Promise<'closed' | 'reopened' | 'ignored'> {
    const t = await this.deps.store.transfer(tx, transferId);
    if (!t) return 'ignored';
    await this.deps.store.lockAsset(tx, t.asset);
    const now = this.deps.clock.now();
    if (outcome === 'reorged') return (await this.deps.store.reopenTransfer(tx, transferId, now)) ? 'reopened' : 'ignored';
    return (await this.deps.store.closeTransfer(tx, transferId, outcome === 'final' ? 'final' : `failed:${reason}`.slice(0, 200), now)) ? 'closed' : 'ignored';
  }

  private monitorId(): string {
    return this.deps.monitorId ?? TREASURY_MONITOR_ID;
  }

  /** Open transfers whose decision ended without allow (denied, rejected, expired) are closed. */
  private async closeEnded(tx: Tx, open: readonly TreasuryTransferRecord[], now: Date): Promise<readonly TreasuryTransferRecord[]> {
    const still: TreasuryTransferRecord[] = [];
    for (const t of open) {
      const d = await this.deps.decisions.getDecision(tx, t.decisionId, false);
      if (d && ENDED.has(d.status)) await this.deps.store.closeTransfer(tx, t.transferId, `decision_${d.status}`, now);
      else still.push(t);
    }
    return still;
  }

  private async propose(
    tx: Tx,
    p: { asset: string; direction: TransferDirection; amount: bigint; source: OwnWallet; chain: string; destination: OwnWallet; requestedBy: string },
    now: Date,
  ): Promise<TreasuryTransferRecord> {
    const transferId = `${TREASURY_TRANSFER_PREFIX}${p.direction}:${p.asset}:${randomUUID()}`;
    const input = {
      ...treasuryTransferInput({
        transferId,
        direction: p.direction,
        requestedBy: p.requestedBy,
        now: toCanonicalTimestamp(now),
        asset: p.asset,
        amount: p.amount,
        source: { id: p.source.id, tier: p.source.tier },
        destination: { address: p.destination.address, walletId: p.destination.id },
      }),
      // For the event only (PolicyDecided.treasury_transfer); the Rego derives the tier from its data.
      destination_tier: p.destination.tier,
      chain: p.chain,
    };
    const bundle = this.deps.registry.current();
    const { decision } = await this.deps.evaluator.evaluate(bundle, input);
    const id = randomUUID();
    const base: DecisionRecord = {
      id,
      withdrawalId: transferId,
      assessmentId: 'treasury',
      status: decision.outcome,
      requestedBy: p.requestedBy,
      accountId: 'treasury',
      asset: p.asset,
      chain: p.chain,
      amount: p.amount,
      sourceWallet: p.source.id,
      destinationAddress: p.destination.address,
      destinationTag: '',
      input,
      output: decision,
      bundleDigest: bundle.digest,
      quorum: decision.approvals.quorum,
      roles: decision.approvals.roles,
      expiresAt: decision.outcome === 'require_approval' ? new Date((Math.floor(now.getTime() / 1000) + decision.approvals.expiresInSeconds) * 1000) : undefined,
      decisionToken: undefined,
      decidedAt: now,
      updatedAt: now,
    };
    const record = decision.outcome === 'allow' ? this.deps.decisionService.withToken(base, now) : base;
    const ctx = { correlationId: transferId };
    await this.deps.decisions.insertDecision(tx, record);
    await this.deps.decisions.recordEvaluation(tx, { decisionId: id, trigger: `treasury:${p.direction}`, input, output: record.output, bundleDigest: bundle.digest, at: now });
    await this.deps.decisions.publishDecided(tx, record, [], ctx);
    const transfer: TreasuryTransferRecord = {
      transferId,
      decisionId: id,
      asset: p.asset,
      direction: p.direction,
      status: 'open',
      amount: p.amount,
      sourceWallet: p.source.id,
      destinationWallet: p.destination.id,
      destinationAddress: p.destination.address,
      requestedBy: p.requestedBy,
      openedAt: now,
      closeReason: '',
    };
    await this.deps.store.insertTransfer(tx, transfer);
    const closed = ENDED.has(record.status);
    if (closed) await this.deps.store.closeTransfer(tx, transferId, `decision_${record.status}`, now);
    this.deps.logger.info({ transferId, decisionId: id, asset: p.asset, direction: p.direction, amount: p.amount.toString(), outcome: record.status, reasons: reasonCodes(record.output) }, 'treasury transfer proposed');
    return closed ? { ...transfer, status: 'closed', closeReason: `decision_${record.status}` } : transfer;
  }
}

function largest(wallets: readonly OwnWallet[], balances: readonly { walletId: string; chain: string; available: bigint }[]): { wallet: OwnWallet; chain: string; available: bigint } | undefined {
  let best: { wallet: OwnWallet; chain: string; available: bigint } | undefined;
  for (const wallet of wallets) {
    const b = balances.find((x) => x.walletId === wallet.id);
    if (!b || b.chain === '') continue;
    if (!best || b.available > best.available) best = { wallet, chain: b.chain, available: b.available };
  }
  return best;
}

const reasonCodes = (d: Decision): string[] => d.reasons.map((r) => r.code);

export type { AssetTreasury };
