// Projects pipeline events (risk, policy, chain-adapter, signer) onto the withdrawal state
// machine. An event that would move a withdrawal backwards or out of a terminal state is
// ignored (events from different topics arrive in any order); the result says so.
import { canTransition, type WithdrawalStateName } from '../domain/withdrawal-state.js';
import type { StateChange, Tx, WithdrawalNotifier, WithdrawalStore } from './ports.js';

/** A pipeline fact in intake's terms (the Kafka adapter decodes events into these). */
export interface PipelineFact {
  readonly withdrawalId: string;
  readonly to: WithdrawalStateName;
  readonly reasonCode: string;
  readonly reasonDetail: string;
  readonly txHash?: string;
  readonly confirmations?: number;
}

export type ProjectionResult = 'applied' | 'updated' | 'ignored' | 'unknown-withdrawal';

export class PipelineProjector {
  constructor(
    private readonly store: WithdrawalStore,
    private readonly notifier: WithdrawalNotifier,
  ) {}

  async apply(fact: PipelineFact, context: { correlationId: string; causationId?: string }, tx?: Tx): Promise<ProjectionResult> {
    let outcome: ProjectionResult = 'ignored';
    const result = await this.store.transition(
      fact.withdrawalId,
      (w): StateChange | undefined => {
        // Same state with news (more confirmations, a replacement hash): an update, not a transition.
        if (w.state === fact.to) {
          const txHash = fact.txHash && fact.txHash !== w.txHash ? fact.txHash : undefined;
          const confirmations = fact.confirmations !== undefined && fact.confirmations > w.confirmations ? fact.confirmations : undefined;
          if (txHash === undefined && confirmations === undefined) return undefined;
          outcome = 'updated';
          return { to: w.state, reasonCode: w.reasonCode, reasonDetail: w.reasonDetail, ...(txHash ? { txHash } : {}), ...(confirmations !== undefined ? { confirmations } : {}) };
        }
        if (!canTransition(w.state, fact.to)) return undefined;
        outcome = 'applied';
        return {
          to: fact.to,
          reasonCode: fact.reasonCode,
          reasonDetail: fact.reasonDetail,
          ...(fact.txHash ? { txHash: fact.txHash } : {}),
          ...(fact.confirmations !== undefined ? { confirmations: fact.confirmations } : {}),
        };
      },
      context,
      tx,
    );
    if (result === undefined && outcome === 'ignored') {
      const exists = await this.store.getById(fact.withdrawalId, tx);
      if (!exists) return 'unknown-withdrawal';
    }
    if (result) this.notifier.publish(result.after);
    return outcome;
  }
}
