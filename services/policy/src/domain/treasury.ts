/**
 * Hot-wallet cap and rebalancing (C-9.3.7.1-a, C-9.3.7.1-b), as plain rules.
 *
 * The settings come from the active policy bundle's data (limits.json `hot_wallet_cap`,
 * treasury.json), so the numbers the monitor acts on are the ones the Rego decides with and
 * both change only with a new bundle (admin quorum). Amounts are bigint base units.
 *
 *   hot > cap                   → sweep hot - target (at most cap per transfer) to our own warm/cold
 *                                 wallet (one open at a time; a larger excess leaves over several rounds)
 *   hot > cap for > grace       → incident (once per breach) + hot withdrawals of the asset paused
 *   hot ≤ cap                   → breach over, pause lifted
 *   hot < floor                 → replenishment target - hot proposed (needs a quorum; one open at a time)
 *   a transfer final on chain   → "settling" until the ledger reports it booked: no proposal of
 *                                 that direction on balances that do not show it yet (transferGate)
 */
import { parseAmount } from './amount.js';

export type WalletTier = 'hot' | 'warm' | 'cold';
export type TransferDirection = 'sweep' | 'replenish';

/** Every treasury transfer id starts with this (proto PolicyDecided.treasury_transfer). */
export const TREASURY_TRANSFER_PREFIX = 'treasury:';
export const isTreasuryTransferId = (id: string): boolean => id.startsWith(TREASURY_TRANSFER_PREFIX);

export interface OwnWallet {
  readonly id: string;
  readonly address: string;
  readonly tier: WalletTier;
}

export interface AssetTreasury {
  readonly asset: string;
  readonly cap: bigint;
  readonly target: bigint;
  readonly floor: bigint;
  readonly sweepTo: 'warm' | 'cold';
  readonly wallets: Readonly<Record<WalletTier, readonly OwnWallet[]>>;
}

export interface TreasurySettings {
  readonly graceSeconds: number;
  readonly assets: ReadonlyMap<string, AssetTreasury>;
}

export class TreasurySettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TreasurySettingsError';
  }
}

const TIERS: readonly WalletTier[] = ['hot', 'warm', 'cold'];
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The settings from a bundle's data document (`{limits: {assets}, treasury: {...}}`). An asset
 * with a hot-wallet cap but no complete treasury entry is an error (fail closed: the monitor
 * does not start on data it cannot act on; catalog tests reject such data anyway).
 */
export function treasurySettingsFromData(data: Readonly<Record<string, unknown>>): TreasurySettings {
  const limits = data['limits'];
  const treasury = data['treasury'];
  if (!isObject(limits) || !isObject(limits['assets'])) throw new TreasurySettingsError('bundle data has no limits.assets');
  if (!isObject(treasury) || !isObject(treasury['assets'])) throw new TreasurySettingsError('bundle data has no treasury.assets');
  const grace = treasury['breach_grace_seconds'];
  if (typeof grace !== 'number' || !Number.isInteger(grace) || grace <= 0) throw new TreasurySettingsError('treasury.breach_grace_seconds must be a positive integer');
  const assets = new Map<string, AssetTreasury>();
  for (const [asset, limit] of Object.entries(limits['assets'])) {
    if (!isObject(limit) || typeof limit['hot_wallet_cap'] !== 'string') throw new TreasurySettingsError(`limits.assets.${asset}.hot_wallet_cap missing`);
    const t = treasury['assets'][asset];
    if (!isObject(t)) throw new TreasurySettingsError(`treasury.assets.${asset} missing`);
    const amount = (v: unknown, what: string): bigint => {
      const parsed = parseAmount(v);
      if (parsed === undefined || parsed <= 0n) throw new TreasurySettingsError(`${what} must be a positive base-unit amount (decimal string)`);
      return parsed;
    };
    const cap = amount(limit['hot_wallet_cap'], `${asset} hot_wallet_cap`);
    const target = amount(t['hot_target'], `${asset} hot_target`);
    const floor = amount(t['hot_floor'], `${asset} hot_floor`);
    if (!(floor < target && target < cap)) throw new TreasurySettingsError(`${asset}: need hot_floor < hot_target < hot_wallet_cap`);
    const sweepTo = t['sweep_to'];
    if (sweepTo !== 'warm' && sweepTo !== 'cold') throw new TreasurySettingsError(`${asset}: sweep_to must be warm or cold`);
    const rawWallets = t['wallets'];
    if (!isObject(rawWallets)) throw new TreasurySettingsError(`${asset}: wallets missing`);
    const wallets = {} as Record<WalletTier, OwnWallet[]>;
    for (const tier of TIERS) {
      const list = rawWallets[tier];
      if (!Array.isArray(list) || list.length === 0) throw new TreasurySettingsError(`${asset}: no ${tier} wallet`);
      wallets[tier] = list.map((w: unknown) => {
        if (!isObject(w) || typeof w['id'] !== 'string' || typeof w['address'] !== 'string' || w['id'] === '' || w['address'] === '') throw new TreasurySettingsError(`${asset}: malformed ${tier} wallet`);
        return Object.freeze({ id: w['id'], address: w['address'], tier });
      });
    }
    assets.set(asset, Object.freeze({ asset, cap, target, floor, sweepTo, wallets: Object.freeze(wallets) }));
  }
  return Object.freeze({ graceSeconds: grace, assets });
}

/** What the monitor remembers per asset between rounds (stored in policy's schema). */
export interface HotWalletState {
  /** Since when the hot balance has been above the cap (undefined: not in breach). */
  readonly breachSince: Date | undefined;
  /** Hot withdrawals of the asset paused (breach lasted longer than the grace period). */
  readonly paused: boolean;
}

export const NO_BREACH: HotWalletState = Object.freeze({ breachSince: undefined, paused: false });

export interface HotWalletAssessment {
  readonly state: HotWalletState;
  /** Sweep this much hot → sweepTo (only when none is in flight or settling). */
  readonly sweep: bigint | undefined;
  /** Replenish this much warm → hot (only when none is in flight). */
  readonly replenish: bigint | undefined;
  /** The breach outlasted the grace period in this round: raise the incident (once per breach). */
  readonly raiseIncident: boolean;
  /** The pause ended in this round (balance back under the cap). */
  readonly resumed: boolean;
}

/**
 * One round for one asset. `hot` is the ledger's available balance of our hot wallets;
 * `openSweep` / `openReplenish`: a transfer of that direction is still in flight or settling
 * (transferGate; no second proposal then — the balance the ledger reports does not yet show it).
 */
export function assessHotWallet(args: {
  readonly hot: bigint;
  readonly settings: AssetTreasury;
  readonly graceSeconds: number;
  readonly now: Date;
  readonly state: HotWalletState;
  readonly openSweep: boolean;
  readonly openReplenish: boolean;
}): HotWalletAssessment {
  const { hot, settings: s, now, state } = args;
  if (hot <= s.cap) {
    const replenish = hot < s.floor && !args.openReplenish ? s.target - hot : undefined;
    return { state: NO_BREACH, sweep: undefined, replenish, raiseIncident: false, resumed: state.paused };
  }
  const breachSince = state.breachSince ?? now;
  const outlasted = now.getTime() - breachSince.getTime() > args.graceSeconds * 1000;
  const paused = state.paused || outlasted;
  return {
    state: { breachSince, paused },
    // One transfer never moves more than the cap: a hot-source movement above the cap is what
    // hot_cap.rego sends to a dual approval, and the signer's hot tier cap (per transaction)
    // mirrors it; the rest of the excess is swept in the next round once this one is final.
    sweep: args.openSweep ? undefined : hot - s.target > s.cap ? s.cap : hot - s.target,
    replenish: undefined,
    raiseIncident: paused && !state.paused,
    resumed: false,
  };
}

/**
 * What the ledger says of a treasury transfer's booking (LedgerService.GetTransferBooking):
 * `booked` — its TRANSFER entry is in the books, so the wallet balances include it;
 * `pending` — authorised, not (or no longer, after a reorg) booked; `not_known` — the ledger
 * has not consumed its decision yet.
 */
export type TransferBooking = 'not_known' | 'pending' | 'booked';

/**
 * The settling guard (C-9.3.7.1-a): policy closes a transfer on tx.status FINAL, the ledger
 * books it on the same event in its own consumer. Until the ledger has booked it, the balance
 * GetWalletBalances reports is the one from before the transfer, so a proposal of the same
 * direction on it would move the same excess twice. A direction is blocked while a transfer of
 * it is open, or settling (final here) and not confirmed booked by a lookup made BEFORE the
 * balances were read (a booking confirmed after the read says nothing about that read).
 * Fail closed: a lookup that failed is simply not in `bookedBeforeRead`.
 */
export function transferGate(args: {
  readonly open: readonly { readonly direction: TransferDirection }[];
  readonly settling: readonly { readonly transferId: string; readonly direction: TransferDirection }[];
  readonly bookedBeforeRead: ReadonlySet<string>;
}): { readonly sweepBlocked: boolean; readonly replenishBlocked: boolean; readonly released: readonly string[]; readonly unbooked: readonly string[] } {
  const unbooked = args.settling.filter((t) => !args.bookedBeforeRead.has(t.transferId));
  const blocked = (d: TransferDirection): boolean => args.open.some((t) => t.direction === d) || unbooked.some((t) => t.direction === d);
  return {
    sweepBlocked: blocked('sweep'),
    replenishBlocked: blocked('replenish'),
    released: args.settling.filter((t) => args.bookedBeforeRead.has(t.transferId)).map((t) => t.transferId),
    unbooked: unbooked.map((t) => t.transferId),
  };
}

/** hot / cap as a number for the gauge (4 decimals; exact integers first, then one division). */
export function capRatio(hot: bigint, cap: bigint): number {
  if (cap <= 0n) return Number.POSITIVE_INFINITY;
  const sign = hot < 0n ? -1 : 1;
  const abs = hot < 0n ? -hot : hot;
  return (sign * Number((abs * 10_000n) / cap)) / 10_000;
}

/** The policy input of a treasury transfer (treasury/transfer.rego). */
export function treasuryTransferInput(t: {
  readonly transferId: string;
  readonly direction: TransferDirection;
  readonly requestedBy: string;
  readonly now: string;
  readonly asset: string;
  readonly amount: bigint;
  readonly source: { readonly id: string; readonly tier: WalletTier };
  readonly destination: { readonly address: string; readonly walletId: string };
}): Readonly<Record<string, unknown>> {
  return Object.freeze({
    kind: 'treasury_transfer',
    transfer_id: t.transferId,
    direction: t.direction,
    requested_by: t.requestedBy,
    now: t.now,
    asset: t.asset,
    amount: t.amount.toString(),
    source_wallet: { id: t.source.id, tier: t.source.tier },
    destination: { address: t.destination.address, wallet_id: t.destination.walletId },
    approvals: [],
  });
}
