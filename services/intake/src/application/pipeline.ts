// Projects pipeline events (risk, policy, chain-adapter, signer) onto the withdrawal state
// machine. Events from different topics arrive in any order, so each one is placed against
// the withdrawal's state (domain/pipeline-order.ts): applied, parked when it is AHEAD (a
// valid later transition, just early: table intake_pending_event), dropped as stale when it
// is BEHIND, and nothing changes for a terminal withdrawal. After every applied transition
// the withdrawal's parked events are retried, in the same transaction, until none applies.
import type { Withdrawal } from '../domain/withdrawal.js';
import { nextParked, placeEvent, type Placement } from '../domain/pipeline-order.js';
import type { WithdrawalStateName } from '../domain/withdrawal-state.js';
import type { ParkedPipelineEvent, PendingPipelineEvents, StateChange, Tx, WithdrawalNotifier, WithdrawalStore } from './ports.js';

/** A pipeline fact in intake's terms (the Kafka adapter decodes events into these). */
export interface PipelineFact {
  readonly withdrawalId: string;
  readonly to: WithdrawalStateName;
  readonly reasonCode: string;
  readonly reasonDetail: string;
  readonly txHash?: string;
  readonly confirmations?: number;
}

export type ProjectionResult = 'applied' | 'updated' | 'parked' | 'stale' | 'terminal' | 'unknown-withdrawal';

export interface ProjectionContext {
  readonly correlationId: string;
  /** The event's id (inbox key; the parked event's key). */
  readonly causationId?: string;
  /** The event's topic (kept with a parked event). */
  readonly topic?: string;
}

function changeOf(w: Withdrawal, fact: Omit<PipelineFact, 'withdrawalId'>, placement: Placement): StateChange | undefined {
  if (placement === 'update') {
    // Same state with news (more confirmations, a replacement hash): an update, not a transition.
    const txHash = fact.txHash && fact.txHash !== w.txHash ? fact.txHash : undefined;
    const confirmations = fact.confirmations !== undefined && fact.confirmations > w.confirmations ? fact.confirmations : undefined;
    return { to: w.state, reasonCode: w.reasonCode, reasonDetail: w.reasonDetail, ...(txHash ? { txHash } : {}), ...(confirmations !== undefined ? { confirmations } : {}) };
  }
  if (placement !== 'apply') return undefined;
  return {
    to: fact.to,
    reasonCode: fact.reasonCode,
    reasonDetail: fact.reasonDetail,
    ...(fact.txHash ? { txHash: fact.txHash } : {}),
    ...(fact.confirmations !== undefined ? { confirmations: fact.confirmations } : {}),
  };
}

export class PipelineProjector {
  constructor(
    private readonly store: WithdrawalStore,
    private readonly notifier: WithdrawalNotifier,
    private readonly pending: PendingPipelineEvents,
  ) {}

  async apply(fact: PipelineFact, context: ProjectionContext, tx?: Tx): Promise<ProjectionResult> {
    return this.pending.inTransaction(async (t) => {
      const changed: Withdrawal[] = [];
      const placed = await this.place(fact, { correlationId: context.correlationId, ...(context.causationId ? { causationId: context.causationId } : {}) }, t, changed);
      if (placed.placement === undefined) return 'unknown-withdrawal';
      let result: ProjectionResult;
      switch (placed.placement) {
        case 'apply':
          result = 'applied';
          break;
        case 'update':
          result = 'updated';
          break;
        case 'park':
          result = 'parked';
          break;
        default:
          result = placed.placement;
      }
      if (placed.placement === 'park') {
        // Without an event id there is no key to park under; an undeliverable fact would be lost silently.
        if (!context.causationId) throw new Error('a pipeline event ahead of its withdrawal needs an event id to be parked');
        const { withdrawalId, ...rest } = fact;
        await this.pending.park(
          { eventId: context.causationId, withdrawalId, topic: context.topic ?? '', payload: { ...rest, correlationId: context.correlationId } },
          t,
        );
      } else if (placed.placement === 'apply' || placed.placement === 'update') {
        await this.drain(fact.withdrawalId, placed.after as Withdrawal, t, changed);
      }
      // Watchers see the changes in the order they were applied.
      for (const w of changed) this.notifier.publish(w);
      return result;
    }, tx);
  }

  private async place(
    fact: PipelineFact,
    context: { correlationId: string; causationId?: string },
    tx: Tx,
    changed: Withdrawal[],
  ): Promise<{ placement: Placement | undefined; after: Withdrawal | undefined }> {
    let placement: Placement | undefined;
    let current: Withdrawal | undefined;
    const result = await this.store.transition(
      fact.withdrawalId,
      (w) => {
        current = w;
        placement = placeEvent(w, fact);
        return changeOf(w, fact, placement);
      },
      context,
      tx,
    );
    if (result) changed.push(result.after);
    return { placement, after: result?.after ?? current };
  }

  /** Retries the withdrawal's parked events until none applies; drops the ones that went stale. */
  private async drain(withdrawalId: string, start: Withdrawal, tx: Tx, changed: Withdrawal[]): Promise<void> {
    let current = start;
    let parked: ParkedPipelineEvent[] = [...(await this.pending.parked(withdrawalId, tx))];
    // Bounded: every round removes one parked event.
    while (parked.length > 0) {
      const i = nextParked(current, parked.map((p) => p.payload));
      if (i === undefined) break;
      const next = parked[i] as ParkedPipelineEvent;
      parked = parked.filter((_, j) => j !== i);
      await this.pending.remove([next.eventId], tx);
      const { correlationId, ...fact } = next.payload;
      const placed = await this.place({ withdrawalId, ...fact }, { correlationId, causationId: next.eventId }, tx, changed);
      if (placed.after) current = placed.after;
    }
    const stale = parked.filter((p) => {
      const placement = placeEvent(current, p.payload);
      return placement === 'stale' || placement === 'terminal';
    });
    if (stale.length > 0) await this.pending.remove(stale.map((p) => p.eventId), tx);
  }
}
