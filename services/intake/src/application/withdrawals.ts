// Use cases on withdrawals: submit (validated, idempotent, evented), get, list, cancel.
import { createHash, randomUUID } from 'node:crypto';
import type { AssetRegistry } from '../domain/asset-registry.js';
import { encodeBody, type BodyField } from '../domain/canonical.js';
import { IdempotencyConflictError, InvalidArgumentError, MaintenanceError, NotCancellableError, NotFoundError, PermissionError } from '../domain/errors.js';
import { activeWithdrawalSuspension } from '../domain/maintenance.js';
import { validateSubmission, type RequestEvidence, type SubmissionInput, type Withdrawal } from '../domain/withdrawal.js';
import { CANCELLABLE_STATES, canTransition, type WithdrawalStateName } from '../domain/withdrawal-state.js';
import type { Caller } from './authenticate.js';
import type { Clock, IntegratorDirectory, ListFilter, MaintenanceStore, WithdrawalNotifier, WithdrawalStore } from './ports.js';

/** Canonical body of SubmitWithdrawal, fields 1-7 in field-number order. */
export function submitBody(input: SubmissionInput): BodyField[] {
  return [
    ['idempotency_key', input.idempotencyKey],
    ['customer_account', input.customerAccount],
    ['asset', input.asset],
    ['amount', input.amount],
    ['destination_address', input.destinationAddress],
    ['destination_tag', input.destinationTag],
    ['client_reference', input.clientReference],
  ];
}

export function cancelBody(input: { readonly withdrawalId: string; readonly reason: string }): BodyField[] {
  return [
    ['withdrawal_id', input.withdrawalId],
    ['reason', input.reason],
  ];
}

export interface WithdrawalUseCaseDeps {
  readonly store: WithdrawalStore;
  readonly directory: IntegratorDirectory;
  readonly registry: AssetRegistry;
  readonly maintenance: MaintenanceStore;
  readonly notifier: WithdrawalNotifier;
  readonly clock: Clock;
  readonly newId?: () => string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 100;

export class WithdrawalUseCases {
  constructor(private readonly deps: WithdrawalUseCaseDeps) {}

  async submit(caller: Caller, input: SubmissionInput, correlationId: string): Promise<{ withdrawal: Withdrawal; created: boolean }> {
    const { integrator, evidence } = caller;
    if (!evidence) throw new PermissionError('SIGNATURE_REQUIRED', 'SubmitWithdrawal must be signed');
    const valid = validateSubmission(input, this.deps.registry);
    if (!integrator.allowedAssets.includes(valid.asset.id)) {
      throw new PermissionError('ASSET_NOT_ALLOWED', `this integrator may not withdraw ${valid.asset.id}`);
    }
    if (!(await this.deps.directory.accountExists(integrator.clientId, input.customerAccount))) {
      throw new InvalidArgumentError('customer_account', 'UNKNOWN_CUSTOMER_ACCOUNT', 'is not an account of this integrator');
    }
    const now = this.deps.clock.now();
    const windows = await this.deps.maintenance.listCurrentAndUpcoming(now);
    const suspension = activeWithdrawalSuspension(windows, valid.asset, now);
    if (suspension) throw new MaintenanceError(suspension.id, suspension.endsAt, suspension.endsAt.getTime() - now.getTime());

    const requestHash = new Uint8Array(createHash('sha256').update(encodeBody(submitBody(input))).digest());
    const withdrawal: Withdrawal = {
      id: (this.deps.newId ?? randomUUID)(),
      clientId: integrator.clientId,
      customerAccount: input.customerAccount,
      asset: valid.asset.id,
      chain: valid.asset.chain,
      amount: valid.amount,
      destinationAddress: valid.destinationAddress,
      destinationTag: valid.destinationTag,
      clientReference: input.clientReference,
      idempotencyKey: input.idempotencyKey,
      requestHash,
      state: 'REQUESTED',
      reasonCode: '',
      reasonDetail: '',
      txHash: '',
      confirmations: 0,
      evidence: evidence satisfies RequestEvidence,
      createdAt: now,
      updatedAt: now,
    };
    const outcome = await this.deps.store.create(withdrawal, correlationId);
    if (outcome.created) {
      this.deps.notifier.publish(outcome.withdrawal);
      return { withdrawal: outcome.withdrawal, created: true };
    }
    if (!Buffer.from(outcome.existing.requestHash).equals(Buffer.from(requestHash))) throw new IdempotencyConflictError();
    return { withdrawal: outcome.existing, created: false };
  }

  async get(caller: Caller, withdrawalId: string): Promise<Withdrawal> {
    if (!UUID.test(withdrawalId)) throw new InvalidArgumentError('withdrawal_id', 'WITHDRAWAL_ID_MALFORMED', 'must be a UUID');
    const found = await this.deps.store.get(caller.integrator.clientId, withdrawalId);
    // Another client's withdrawal is reported exactly like a missing one.
    if (!found) throw new NotFoundError('WITHDRAWAL_NOT_FOUND', 'no withdrawal with this id for this client');
    return found;
  }

  async list(caller: Caller, query: Omit<ListFilter, 'clientId' | 'limit'> & { readonly pageSize: number }): Promise<readonly Withdrawal[]> {
    if (!Number.isInteger(query.pageSize) || query.pageSize < 0) throw new InvalidArgumentError('page_size', 'PAGE_SIZE_INVALID', 'must be >= 0');
    const limit = query.pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(query.pageSize, MAX_PAGE_SIZE);
    const { pageSize: _ignored, ...rest } = query;
    return this.deps.store.list({ ...rest, clientId: caller.integrator.clientId, limit });
  }

  async cancel(caller: Caller, input: { readonly withdrawalId: string; readonly reason: string }, correlationId: string): Promise<Withdrawal> {
    if (!caller.evidence) throw new PermissionError('SIGNATURE_REQUIRED', 'CancelWithdrawal must be signed');
    if (input.reason.length > 256) throw new InvalidArgumentError('reason', 'REASON_TOO_LONG', 'is longer than 256 characters');
    const current = await this.get(caller, input.withdrawalId);
    if (current.state === 'CANCELLED') return current; // idempotent
    let refused: WithdrawalStateName | undefined;
    const result = await this.deps.store.transition(
      current.id,
      (w) => {
        if (w.state === 'CANCELLED') return undefined;
        if (!CANCELLABLE_STATES.has(w.state) || !canTransition(w.state, 'CANCELLED')) {
          refused = w.state;
          return undefined;
        }
        return { to: 'CANCELLED', reasonCode: 'CANCELLED_BY_CLIENT', reasonDetail: input.reason };
      },
      { correlationId },
    );
    if (refused) throw new NotCancellableError(refused);
    if (result) {
      this.deps.notifier.publish(result.after);
      return result.after;
    }
    return (await this.deps.store.get(caller.integrator.clientId, current.id)) ?? current;
  }
}
