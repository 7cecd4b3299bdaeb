// Operator use cases (ChainAdminService): read the breaker, resume the chain, cancel an
// unsigned withdrawal. Each change and its authenticated request (operator, nonce, signature,
// certificate) commit in one transaction with the events they publish (outbox); a replayed
// nonce changes nothing.
import { DomainError } from '@custody/platform';
import { CLEAR_BREAKER, type BreakerRow } from '../domain/breaker.js';
import { resumeBreaker } from './breaker.js';
import type { AuthenticatedOperator } from './operator-auth.js';
import type { Clock } from './ports.js';
import type { ChainStore, IncidentRow, StoreScope } from './store.js';
import type { WithdrawalFlow } from './withdrawals.js';

export class ChainAdminError extends DomainError {}

export class ChainAdmin {
  constructor(private readonly d: { readonly store: ChainStore; readonly flow: WithdrawalFlow; readonly clock: Clock; readonly chain: string; readonly asset: string; readonly onIncident?: (i: IncidentRow) => void; readonly onResume?: () => void }) {}

  private assertChain(chain: string): void {
    if (chain !== this.d.chain) throw new ChainAdminError('CHAIN_NOT_SERVED', `this adapter serves ${this.d.chain}`);
  }

  private async record(scope: StoreScope, actor: AuthenticatedOperator, method: string, target: string, reason: string, outcome: string): Promise<void> {
    if (!(await scope.recordAdminAction({ operatorId: actor.operatorId, nonce: actor.nonce, method, target, reason, outcome, certificateSha256: actor.certificateSha256, signature: actor.signature }))) {
      throw new ChainAdminError('REPLAYED_REQUEST', 'this request nonce was already used');
    }
  }

  async getBreaker(chain: string, actor: AuthenticatedOperator): Promise<BreakerRow> {
    this.assertChain(chain);
    return this.d.store.transaction(async (scope) => {
      await this.record(scope, actor, 'GetBreaker', chain, '', 'READ');
      return (await scope.breaker(chain)) ?? CLEAR_BREAKER(chain);
    });
  }

  async resumeChain(chain: string, reason: string, actor: AuthenticatedOperator): Promise<BreakerRow> {
    this.assertChain(chain);
    if (reason.trim().length < 3 || reason.length > 1_000) throw new ChainAdminError('REASON_REQUIRED', 'a reason (3..1000 characters) is required');
    const result = await this.d.store.transaction(async (scope) => {
      const resumed = await resumeBreaker(scope, { chain, asset: this.d.asset, operatorId: actor.operatorId, reason, now: this.d.clock.now() });
      if (!resumed) throw new ChainAdminError('BREAKER_NOT_TRIPPED', `the breaker of ${chain} is not tripped`);
      await this.record(scope, actor, 'ResumeChain', chain, reason, 'RESUMED');
      return resumed;
    });
    if (result.incident) this.d.onIncident?.(result.incident);
    this.d.onResume?.();
    return result.breaker;
  }

  async cancelWithdrawal(withdrawalId: string, reason: string, actor: AuthenticatedOperator): Promise<{ nonce: bigint }> {
    if (withdrawalId.length === 0 || withdrawalId.length > 200) throw new ChainAdminError('WITHDRAWAL_ID_REQUIRED', 'withdrawal_id is required');
    if (reason.trim().length < 3 || reason.length > 1_000) throw new ChainAdminError('REASON_REQUIRED', 'a reason (3..1000 characters) is required');
    return this.d.store.transaction(async (scope) => {
      const out = await this.d.flow.cancel(withdrawalId, actor.operatorId, scope);
      await this.record(scope, actor, 'CancelWithdrawal', withdrawalId, reason, 'CANCELLED');
      return out;
    });
  }
}
