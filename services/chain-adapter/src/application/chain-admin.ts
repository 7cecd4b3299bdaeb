// Operator use cases (ChainAdminService): read the breaker, resume the chain, cancel an
// unsigned withdrawal. Each change and its authenticated request (operator, nonce, signature,
// certificate) commit in one transaction with the events they publish (outbox); a replayed
// nonce changes nothing.
// With an operator audit gate (@custody/platform), ResumeChain and CancelWithdrawal are recorded
// by the audit service AFTER the request authenticated and validated and BEFORE anything
// changes: if audit does not commit the record, the call is refused (UNAVAILABLE,
// AUDIT_UNAVAILABLE) and nothing changes (ISO/TR 23576 9.3.9.4, docs/chain-adapter.md).
// GetBreaker is read-only: not audited.
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { DomainError, operatorRequestDigest, recordOperatorAction, type OperatorAuditGate } from '@custody/platform';
import { CLEAR_BREAKER, type BreakerRow } from '../domain/breaker.js';
import { resumeBreaker } from './breaker.js';
import type { AuthenticatedOperator } from './operator-auth.js';
import type { Clock } from './ports.js';
import type { ChainStore, IncidentRow, StoreScope } from './store.js';
import type { WithdrawalFlow } from './withdrawals.js';

export class ChainAdminError extends DomainError {}

/** The audit action names (lower-case dotted). */
export const CHAIN_ADMIN_AUDIT_ACTIONS = Object.freeze({ ResumeChain: 'chain.breaker.resume', CancelWithdrawal: 'chain.withdrawal.cancel' });
/** Domain of the audited request digest (operatorRequestDigest). */
export const CHAIN_ADMIN_REQUEST_DIGEST_DOMAIN = 'custody.chain.v1.admin-audit';

/** Facts of the call the audit record needs (from the transport). */
export interface AdminCallContext {
  /** The caller's IP ("0.0.0.0" when unknown; audit refuses anything but an IP). */
  readonly sourceIp: string;
  readonly correlationId: string;
}

export class ChainAdmin {
  constructor(
    private readonly d: {
      readonly store: ChainStore;
      readonly flow: WithdrawalFlow;
      readonly clock: Clock;
      readonly chain: string;
      readonly asset: string;
      readonly onIncident?: (i: IncidentRow) => void;
      readonly onResume?: () => void;
      /** Every change is recorded in audit first (fail closed); absent: unaudited (dev/test compositions). */
      readonly audit?: OperatorAuditGate;
    },
  ) {}

  /** Records the action in audit before the change; throws AuditUnavailableError (nothing changes) if audit does not commit it. */
  private async audit(method: keyof typeof CHAIN_ADMIN_AUDIT_ACTIONS, target: string, reason: string, actor: AuthenticatedOperator, ctx: AdminCallContext | undefined): Promise<void> {
    if (!this.d.audit) return;
    await recordOperatorAction(this.d.audit, {
      operatorId: actor.operatorId,
      action: CHAIN_ADMIN_AUDIT_ACTIONS[method],
      target,
      deviceId: `cert:${actor.certificateSha256}`,
      sourceIp: ctx && isIP(ctx.sourceIp) !== 0 ? ctx.sourceIp : '0.0.0.0',
      requestId: actor.nonce,
      approvalIds: [],
      correlationId: ctx?.correlationId ?? randomUUID(),
      occurredAt: this.d.clock.now(),
      // The operator's signed request: method, target, reason, nonce and its Ed25519 signature.
      requestDigest: operatorRequestDigest(CHAIN_ADMIN_REQUEST_DIGEST_DOMAIN, [method, actor.operatorId, target, reason, actor.nonce, actor.signature]),
    });
  }

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

  async resumeChain(chain: string, reason: string, actor: AuthenticatedOperator, ctx?: AdminCallContext): Promise<BreakerRow> {
    this.assertChain(chain);
    if (reason.trim().length < 3 || reason.length > 1_000) throw new ChainAdminError('REASON_REQUIRED', 'a reason (3..1000 characters) is required');
    await this.audit('ResumeChain', chain, reason, actor, ctx);
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

  async cancelWithdrawal(withdrawalId: string, reason: string, actor: AuthenticatedOperator, ctx?: AdminCallContext): Promise<{ nonce: bigint }> {
    if (withdrawalId.length === 0 || withdrawalId.length > 200) throw new ChainAdminError('WITHDRAWAL_ID_REQUIRED', 'withdrawal_id is required');
    if (reason.trim().length < 3 || reason.length > 1_000) throw new ChainAdminError('REASON_REQUIRED', 'a reason (3..1000 characters) is required');
    await this.audit('CancelWithdrawal', withdrawalId, reason, actor, ctx);
    return this.d.store.transaction(async (scope) => {
      const out = await this.d.flow.cancel(withdrawalId, actor.operatorId, scope);
      await this.record(scope, actor, 'CancelWithdrawal', withdrawalId, reason, 'CANCELLED');
      return out;
    });
  }
}
