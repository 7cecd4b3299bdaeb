// Follows the chain: records (height, hash, parent) of every block seen, detects
// reorganisations by hash comparison (C-5.5.4.2-a), moves our transactions BROADCAST →
// CONFIRMED(n) → FINAL at the asset's depth (C-5.5.4-a), returns reorged ones to pending
// and re-broadcasts the same bytes (C-5.5.4.2-c), detects deposits to custody addresses and
// credits them only at FINAL (C-5.3-b), and matches every outflow from a custody address to
// one of our signed attempts (C-9.3.9.4-c).
import { DepositDetected, DepositState, TxState, timestampFromDate } from '@custody/contracts';
import type { EvmAssetProfile } from '../domain/assets.js';
import { ChainAdapterError } from '../domain/errors.js';
import { activeDepthFactor, reorgTrip, type BreakerPolicy, type BreakerTripKind } from '../domain/breaker.js';
import { confirmationsAt, inclusionState, isBeyondFinality, requiredConfirmations } from '../domain/finality.js';
import { tripBreaker } from './breaker.js';
import { findCommonAncestor } from '../domain/reorg.js';
import type { ChainGuard } from './chain-guard.js';
import type { Clock, EvmChain, Receipt } from './ports.js';
import type { ChainStore, DepositRow, IncidentRow, OutEvent, StoreScope, WithdrawalRow } from './store.js';
import { statusEvent, type WithdrawalFlow } from './withdrawals.js';

/** Guard or quorum refusals that need a human: recorded and published as incidents. */
const CHAIN_VIEW_INCIDENTS: ReadonlySet<string> = new Set(['CHAIN_ID_MISMATCH', 'GENESIS_MISMATCH', 'CHAIN_VIEW_DIVERGENCE']);

const DEPOSIT_STATE = { PENDING: DepositState.DEPOSIT_STATE_PENDING, FINAL: DepositState.DEPOSIT_STATE_FINAL, ORPHANED: DepositState.DEPOSIT_STATE_ORPHANED } as const;

export interface FollowerHooks {
  /** `tracked`: a replaced block held one of our withdrawals or deposits. */
  onReorg?(depth: number, beyondFinality: boolean, tracked: boolean): void;
  onIncident?(incident: IncidentRow): void;
  onHealth?(healthy: boolean, reason: string): void;
  onHead?(head: bigint): void;
  /** The top of the block index after the pass indexed what it could. */
  onIndexed?(height: bigint): void;
  onNonceGaps?(gaps: readonly NonceGap[]): void;
  /** The breaker's state read at the start of each pass. */
  onBreaker?(tripped: boolean): void;
}

export interface FollowerDeps {
  readonly chain: EvmChain;
  readonly store: ChainStore;
  readonly guard: ChainGuard;
  readonly flow: WithdrawalFlow;
  readonly clock: Clock;
  readonly profile: EvmAssetProfile;
  /** Deposit addresses (lower case) → customer account ('' when unattributed). */
  readonly depositAddresses: ReadonlyMap<string, string>;
  /** Every custody address whose outflows must match a signed withdrawal (lower case). */
  readonly custodyAddresses: ReadonlySet<string>;
  /** First height to index when nothing is stored yet (default: the head at first tick). */
  readonly startHeight?: bigint;
  readonly maxReorgDepth?: number;
  readonly maxBlocksPerTick?: number;
  /** Auto fee bump for a tx unconfirmed this long (0 = manual only). */
  readonly stuckAfterMs?: number;
  /** Pause breaker (C-8.3.3-b): default: trips only past finality / divergence, depths ×2 while tripped. */
  readonly breaker?: BreakerPolicy;
  readonly hooks?: FollowerHooks;
}

/** A nonce that blocks later ones: they cannot be mined until it is. */
export interface NonceGap {
  readonly wallet: string;
  readonly nonce: bigint;
  /** The withdrawal holding that nonce ('' when no withdrawal of ours has it). */
  readonly withdrawalId: string;
  readonly state: string;
  readonly blockedWithdrawals: number;
  /** What an operator should do. */
  readonly fix: string;
}

export interface TickResult {
  readonly healthy: boolean;
  readonly head?: bigint;
  readonly reorgDepth: number;
  readonly nonceGaps: readonly NonceGap[];
}

export class Follower {
  private running: Promise<TickResult> | undefined;
  /** The breaker's depth factor for this pass (1 when clear). */
  private factor = 1;

  constructor(private readonly d: FollowerDeps) {}

  /** One pass; concurrent callers share the pass in flight. */
  tick(): Promise<TickResult> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<TickResult> {
    try {
      await this.d.guard.assertHealthy();
      this.d.hooks?.onHealth?.(true, '');
    } catch (err) {
      const reason = err instanceof ChainAdapterError ? err.code : 'NODE_UNREACHABLE';
      this.d.hooks?.onHealth?.(false, reason);
      await this.raiseFor(err);
      return { healthy: false, reorgDepth: 0, nonceGaps: [] };
    }
    try {
      return await this.followChain();
    } catch (err) {
      // Endpoints that disagree on a block, receipt or balance mid-pass: nothing more is acted on.
      if (!(err instanceof ChainAdapterError) || !CHAIN_VIEW_INCIDENTS.has(err.code)) throw err;
      this.d.hooks?.onHealth?.(false, err.code);
      await this.raiseFor(err);
      return { healthy: false, reorgDepth: 0, nonceGaps: [] };
    }
  }

  /** Records (once per incident id) and publishes an incident; the hook only hears of new ones. */
  private async raise(incident: IncidentRow): Promise<void> {
    if (await this.d.store.transaction((s) => s.recordIncident(incident))) this.d.hooks?.onIncident?.(incident);
  }

  /** Wrong chain, wrong genesis, endpoints disagreeing: an incident (the same finding once). */
  private async raiseFor(err: unknown): Promise<void> {
    if (!(err instanceof ChainAdapterError) || !CHAIN_VIEW_INCIDENTS.has(err.code)) return;
    await this.raise({ chain: this.d.profile.chain, asset: this.d.profile.asset, kind: err.code, detail: err.message, wallet: '', txHash: '', evidence: err.evidence });
    // Endpoints that disagree about the chain: latched pause (C-5.5.4-b), only an operator resumes.
    if (err.code === 'CHAIN_VIEW_DIVERGENCE') await this.trip('CHAIN_VIEW_DIVERGENCE', err.message, err.evidence);
  }

  private get policy(): BreakerPolicy {
    return this.d.breaker ?? { pauseReorgDepth: 0, depthFactor: 2 };
  }

  /** Trips the breaker in its own transaction (the incident once per trip). */
  private async trip(kind: BreakerTripKind, detail: string, evidence?: Readonly<Record<string, string>>): Promise<void> {
    const incident = await this.d.store.transaction((scope) => tripBreaker(scope, { chain: this.d.profile.chain, asset: this.d.profile.asset, kind, detail, depthFactor: this.policy.depthFactor, now: this.d.clock.now(), ...(evidence ? { evidence } : {}) }));
    if (incident) this.d.hooks?.onIncident?.(incident);
    this.d.hooks?.onBreaker?.(true);
  }

  /** Depth for a transfer of `amount` now: amount tiers, times the breaker's factor while tripped. */
  private required(amount: bigint): number {
    return requiredConfirmations(amount, this.d.profile, this.factor);
  }

  private async followChain(): Promise<TickResult> {
    const chainName = this.d.profile.chain;
    const head = await this.d.chain.headNumber();
    this.d.hooks?.onHead?.(head);
    const reorgDepth = await this.detectReorg(head);
    // After the reorg check: a trip in this pass already raises this pass's depths.
    const breaker = await this.d.store.breaker(chainName);
    this.factor = activeDepthFactor(breaker);
    this.d.hooks?.onBreaker?.(breaker?.state === 'TRIPPED');
    await this.indexBlocks(head);
    const top = await this.d.store.topBlock(chainName);
    if (top) this.d.hooks?.onIndexed?.(top.height);
    const indexedHead = top?.height ?? head;
    await this.followWithdrawals(indexedHead);
    await this.followDeposits(indexedHead);
    const nonceGaps = await this.findNonceGaps();
    this.d.hooks?.onNonceGaps?.(nonceGaps);
    return { healthy: true, head, reorgDepth, nonceGaps };
  }

  /**
   * Per wallet: the lowest nonce the chain still waits for (its `latest` count). If that nonce
   * is not signed and broadcast by us while higher ones are, everything above it is stuck.
   */
  private async findNonceGaps(): Promise<NonceGap[]> {
    const open = await this.d.store.withdrawalsIn(this.d.profile.chain, ['PREPARED', 'SIGNED', 'BROADCAST', 'FAILED']);
    const byWallet = new Map<string, WithdrawalRow[]>();
    for (const w of open) byWallet.set(w.wallet, [...(byWallet.get(w.wallet) ?? []), w]);
    const gaps: NonceGap[] = [];
    for (const [wallet, rows] of byWallet) {
      const waiting = rows.filter((w) => w.state === 'SIGNED' || w.state === 'BROADCAST');
      if (waiting.length === 0) continue;
      const next = await this.d.chain.latestNonce(wallet);
      // A withdrawal whose nonce was released (signer refusal) no longer holds it.
      const holder = rows.find((w) => w.nonce === next && !w.nonceReleased);
      const blocked = waiting.filter((w) => w.nonce > next).length;
      if (blocked === 0 || holder?.state === 'SIGNED' || holder?.state === 'BROADCAST') continue;
      gaps.push({
        wallet,
        nonce: next,
        withdrawalId: holder?.withdrawalId ?? '',
        state: holder?.state ?? 'UNKNOWN',
        blockedWithdrawals: blocked,
        fix: holder?.state === 'PREPARED'
          ? `withdrawal ${holder.withdrawalId} holds nonce ${next} and has no signature: get it signed, or have an operator cancel it (ChainAdminService.CancelWithdrawal: FAILED, nonce ${next} released and reused by the next withdrawal)`
          : rows.some((w) => w.nonce === next && w.nonceReleased)
            ? `nonce ${next} was released by a signer refusal: the next withdrawal prepared for this wallet reuses it, or operators approve a cancellation (0-value self-transfer at nonce ${next}) to unblock ${blocked} withdrawal(s)`
            : `no live withdrawal holds nonce ${next}: operators must approve a cancellation (0-value self-transfer at nonce ${next}) to unblock ${blocked} withdrawal(s)`,
      });
    }
    return gaps;
  }

  /** Walk back from our top block to the last one the node still has: the common ancestor. */
  private async detectReorg(head: bigint): Promise<number> {
    const chainName = this.d.profile.chain;
    const top = await this.d.store.topBlock(chainName);
    if (!top) return 0;
    const maxDepth = this.d.maxReorgDepth ?? 256;
    const scan = await findCommonAncestor({
      top: top.height,
      head,
      maxDepth,
      stored: async (h) => (await this.d.store.block(chainName, h))?.hash,
      canonical: async (h) => (await this.d.chain.block(h))?.hash,
    });
    if (scan.kind === 'none') return 0;
    if (scan.kind === 'too-deep') {
      const incident: IncidentRow = { chain: chainName, asset: this.d.profile.asset, kind: 'REORG_TOO_DEEP', detail: `no common ancestor within ${maxDepth} blocks of ${top.height}: the asset stops here until an operator looks`, wallet: '', txHash: '' };
      await this.raise(incident);
      await this.trip('REORG_TOO_DEEP', incident.detail, { top: top.height.toString(), searched: String(maxDepth) });
      throw new ChainAdapterError('REORG_TOO_DEEP', incident.detail);
    }
    await this.rollBack(scan.ancestor, scan.depth);
    return scan.depth;
  }

  private async rollBack(ancestor: bigint, depth: number): Promise<void> {
    const chainName = this.d.profile.chain;
    const required = this.d.profile.confirmations;
    const beyond = isBeyondFinality(depth, required);
    const tripKind = reorgTrip(depth, beyond, this.policy);
    const affected = await this.d.store.withdrawalsAbove(chainName, ancestor);
    const deposits = await this.d.store.depositsAbove(chainName, ancestor);
    const incidents: IncidentRow[] = [];
    const recorded: IncidentRow[] = [];
    await this.d.store.transaction(async (scope) => {
      await scope.deleteBlocksAbove(chainName, ancestor);
      const now = this.d.clock.now();
      const events: OutEvent[] = [];
      for (const w of affected) {
        events.push(statusEvent(w, TxState.TX_STATE_REORGED, now, { reasonCode: beyond || w.state === 'FINAL' ? 'REORG_BEYOND_FINALITY' : 'REORGED' }));
        if (w.state === 'FINAL' || beyond) incidents.push({ chain: chainName, asset: this.d.profile.asset, kind: 'REORG_BEYOND_FINALITY', evidence: { withdrawalId: w.withdrawalId, blockHeight: String(w.blockHeight ?? ''), blockHash: w.blockHash ?? '', reorgDepth: String(depth), commonAncestor: ancestor.toString(), requiredConfirmations: String(required) }, detail: `withdrawal ${w.withdrawalId} was in block ${w.blockHeight} (${w.blockHash}), removed by a ${depth}-block reorg`, wallet: w.wallet, txHash: w.txHash ?? '' });
        await scope.updateWithdrawal(w.withdrawalId, { state: 'BROADCAST', blockHeight: null, blockHash: null, confirmations: 0, updatedAt: now });
      }
      for (const dep of deposits) {
        if (dep.state === 'ORPHANED') continue;
        const orphaned: DepositRow = { ...dep, state: 'ORPHANED', confirmations: 0 };
        await scope.upsertDeposit(orphaned);
        events.push(this.depositEvent(orphaned));
        if (dep.state === 'FINAL') incidents.push({ chain: chainName, asset: this.d.profile.asset, kind: 'REORG_BEYOND_FINALITY', evidence: { depositId: dep.depositId, amount: dep.amount.toString(), blockHeight: dep.blockHeight.toString(), blockHash: dep.blockHash, reorgDepth: String(depth), commonAncestor: ancestor.toString(), requiredConfirmations: String(required) }, detail: `deposit ${dep.depositId} credited at block ${dep.blockHeight} was removed by a ${depth}-block reorg`, wallet: dep.address, txHash: dep.txHash });
      }
      if (beyond && incidents.length === 0) incidents.push({ chain: chainName, asset: this.d.profile.asset, kind: 'REORG_BEYOND_FINALITY', evidence: { reorgDepth: String(depth), commonAncestor: ancestor.toString(), requiredConfirmations: String(required) }, detail: `a ${depth}-block reorg below height ${ancestor + BigInt(depth)} reached past the finality depth ${required}`, wallet: '', txHash: '' });
      for (const i of incidents) if (await scope.recordIncident(i)) recorded.push(i);
      await scope.emit(events);
      // Deep reorg (C-8.3.3-b): latched pause in the same transaction as the rollback.
      if (tripKind) {
        const tripped = await tripBreaker(scope, { chain: chainName, asset: this.d.profile.asset, kind: tripKind, detail: `a ${depth}-block reorg below height ${ancestor + BigInt(depth)} (pause threshold ${this.policy.pauseReorgDepth || 'finality'}, finality depth ${required})`, depthFactor: this.policy.depthFactor, evidence: { reorgDepth: String(depth), commonAncestor: ancestor.toString(), requiredConfirmations: String(required), pauseReorgDepth: String(this.policy.pauseReorgDepth) }, now: this.d.clock.now() });
        if (tripped) recorded.push(tripped);
      }
    });
    this.d.hooks?.onReorg?.(depth, beyond, affected.length > 0 || deposits.some((d) => d.state !== 'ORPHANED'));
    if (tripKind) this.d.hooks?.onBreaker?.(true);
    for (const i of recorded) this.d.hooks?.onIncident?.(i);
    // Same signed bytes again (never a new payload): valid if the nonce is still free.
    for (const w of affected) await this.d.flow.broadcast(w.withdrawalId).catch(() => undefined);
  }

  private async indexBlocks(head: bigint): Promise<void> {
    const chainName = this.d.profile.chain;
    const top = await this.d.store.topBlock(chainName);
    let from = top ? top.height + 1n : (this.d.startHeight ?? head);
    const limit = BigInt(this.d.maxBlocksPerTick ?? 200);
    const to = head < from + limit - 1n ? head : from + limit - 1n;
    let parent = top;
    for (; from <= to; from++) {
      const block = await this.d.chain.blockWithTransactions(from);
      if (!block) return;
      if (parent && block.parentHash !== parent.hash) return; // the chain moved under us: next tick's reorg check
      const incidents: IncidentRow[] = [];
      const recorded: IncidentRow[] = [];
      await this.d.store.transaction(async (scope) => {
        await scope.putBlock({ chain: chainName, height: block.number, hash: block.hash, parentHash: block.parentHash });
        for (const tx of block.transactions) {
          if (this.d.custodyAddresses.has(tx.from) && !(await this.d.store.attemptByHash(tx.hash))) {
            incidents.push({ chain: chainName, asset: this.d.profile.asset, kind: 'UNMATCHED_OUTFLOW', evidence: { value: tx.value.toString(), nonce: tx.nonce.toString(), blockHeight: block.number.toString(), blockHash: block.hash }, detail: `outflow of ${tx.value} wei from custody address ${tx.from} (nonce ${tx.nonce}) in block ${block.number} matches no signed, approved withdrawal: suspend the key`, wallet: tx.from, txHash: tx.hash });
          }
          if (tx.to === null || !this.d.depositAddresses.has(tx.to) || tx.value === 0n) continue;
          const receipt = await this.d.chain.receipt(tx.hash);
          if (!receipt || receipt.status !== 'success' || receipt.blockHash !== block.hash) continue; // C-5.5.5.3-b: only successful executions
          await this.recordDeposit(scope, { depositId: `${chainName}:${tx.hash}:0`, chain: chainName, asset: this.d.profile.asset, address: tx.to, txHash: tx.hash, outputIndex: 0, amount: tx.value, fromAddress: tx.from, blockHeight: block.number, blockHash: block.hash, confirmations: confirmationsAt(block.number, head), state: 'PENDING', detectedAt: this.d.clock.now() });
        }
        for (const i of incidents) if (await scope.recordIncident(i)) recorded.push(i);
      });
      for (const i of recorded) this.d.hooks?.onIncident?.(i);
      parent = { chain: chainName, height: block.number, hash: block.hash, parentHash: block.parentHash };
    }
  }

  private async recordDeposit(scope: StoreScope, row: DepositRow): Promise<void> {
    const state = inclusionState(row.confirmations, this.required(row.amount)) === 'FINAL' ? 'FINAL' : 'PENDING';
    const next: DepositRow = { ...row, state };
    await scope.upsertDeposit(next);
    await scope.emit([this.depositEvent(next)]);
  }

  private depositEvent(dep: DepositRow): OutEvent {
    return {
      type: 'deposit.detected',
      correlationId: dep.depositId,
      message: DepositDetected.fromPartial({
        depositId: dep.depositId,
        chain: dep.chain,
        asset: dep.asset,
        address: dep.address,
        customerAccount: this.d.depositAddresses.get(dep.address) ?? '',
        amount: dep.amount.toString(),
        txHash: dep.txHash,
        outputIndex: dep.outputIndex,
        blockHeight: dep.blockHeight.toString(),
        blockHash: dep.blockHash,
        confirmations: dep.confirmations,
        detectedAt: timestampFromDate(dep.detectedAt),
        sourceAddresses: [dep.fromAddress],
        state: DEPOSIT_STATE[dep.state],
        requiredConfirmations: this.required(dep.amount),
      }),
    };
  }

  private async followDeposits(indexedHead: bigint): Promise<void> {
    for (const dep of await this.d.store.depositsActive(this.d.profile.chain)) {
      const confirmations = confirmationsAt(dep.blockHeight, indexedHead);
      if (confirmations === dep.confirmations) continue;
      await this.d.store.transaction((scope) => this.recordDeposit(scope, { ...dep, confirmations }));
    }
  }

  private async minedAttempt(w: WithdrawalRow): Promise<Receipt | undefined> {
    for (const a of await this.d.store.attempts(w.withdrawalId)) {
      if (!a.txHash) continue;
      const r = await this.d.chain.receipt(a.txHash);
      if (r) return r;
    }
    return undefined;
  }

  private async followWithdrawals(indexedHead: bigint): Promise<void> {
    const chainName = this.d.profile.chain;
    const open = await this.d.store.withdrawalsIn(chainName, ['SIGNED', 'BROADCAST', 'CONFIRMED']);
    for (const w of open) {
      const receipt = await this.minedAttempt(w);
      if (!receipt) {
        if (w.state === 'CONFIRMED') continue; // its block is still ours: the reorg check handles removal
        // SIGNED = sent-but-unknown: ask the node for the hash, resend the same bytes if absent.
        await this.d.flow.broadcast(w.withdrawalId).catch(() => undefined);
        const stuckAfter = this.d.stuckAfterMs ?? 0;
        if (stuckAfter > 0 && (w.state === 'BROADCAST' || w.state === 'SIGNED') && this.d.clock.now().getTime() - w.updatedAt.getTime() > stuckAfter) {
          await this.d.flow.bumpFee(w.withdrawalId).catch(() => undefined);
        }
        continue;
      }
      const stored = await this.d.store.block(chainName, receipt.blockNumber);
      if (!stored || stored.hash !== receipt.blockHash) continue; // not indexed yet, or about to be reorged
      const confirmations = confirmationsAt(receipt.blockNumber, indexedHead);
      const state = receipt.status === 'reverted' ? 'FAILED' : inclusionState(confirmations, this.required(w.amount));
      if (state === 'PENDING') continue;
      if (w.state === state && w.confirmations === confirmations && w.txHash === receipt.transactionHash) continue;
      await this.d.store.transaction(async (scope) => {
        const current = await scope.withdrawal(w.withdrawalId, true);
        if (!current || current.state === 'FINAL' || current.state === 'FAILED') return;
        const now = this.d.clock.now();
        const next: WithdrawalRow = { ...current, state, confirmations, txHash: receipt.transactionHash, blockHeight: receipt.blockNumber, blockHash: receipt.blockHash, updatedAt: now, reasonCode: state === 'FAILED' ? 'TX_REVERTED' : '' };
        const events: OutEvent[] = [];
        if (current.txHash && current.txHash !== receipt.transactionHash) {
          events.push(statusEvent(current, TxState.TX_STATE_REPLACED, now, { replacedByTxHash: receipt.transactionHash }));
        }
        const fee = (receipt.gasUsed * receipt.effectiveGasPrice).toString();
        const txState = state === 'FINAL' ? TxState.TX_STATE_FINAL : state === 'FAILED' ? TxState.TX_STATE_FAILED : TxState.TX_STATE_CONFIRMED;
        events.push(statusEvent(next, txState, now, { feePaid: fee, ...(state === 'FAILED' ? { reasonCode: 'TX_REVERTED' } : {}) }));
        await scope.updateWithdrawal(w.withdrawalId, { state, confirmations, txHash: next.txHash, blockHeight: next.blockHeight, blockHash: next.blockHash, updatedAt: now, reasonCode: next.reasonCode });
        await scope.emit(events);
      });
    }
  }
}
