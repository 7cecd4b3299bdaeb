/**
 * The ledger's 24-hour outflow of the account and asset (LedgerService.GetOutflow over
 * grpc-js), the figure the rolling limits compare (C-8.2.2.5-c): every withdrawal of the
 * account whose hold the ledger booked in the 24 h before the decision and that is still
 * HELD or SETTLED, except the one being decided. The decision takes the larger of this and
 * the policy's own record (application/decisions.ts).
 *
 * Same pattern as the hold lookup (ledger-grpc-facts.ts): while the ledger does not answer
 * (unreachable, deadline) the lookup throws LedgerOutflowPendingError, a retryable error —
 * the decision transaction rolls back and the bus redelivers with backoff — for at most
 * `waitMs` from the first ask in this process; then the fact is `known: false` and the
 * policy denies `velocity_ledger_unavailable` (fail closed). An answer that is not about
 * this account and asset, or whose total is not a base-unit amount, is `known: false` at
 * once (logged `alert: ledger_outflow_mismatch`).
 */
import { Metadata } from '@grpc/grpc-js';
import { timestampFromDate, type GetOutflowResponse, type LedgerServiceClient } from '@custody/contracts';
import type { Logger } from '@custody/platform';
import type { FactsRequest, WithdrawalFacts, WithdrawalFactsProvider } from '../../application/ports.js';
import { BoundedWait } from './bounded-wait.js';
import { DEFAULT_CALL_TIMEOUT_MS, DEFAULT_HOLD_WAIT_MS, ledgerAccountOf } from './ledger-grpc-facts.js';

export const OUTFLOW_WINDOW_MS = 86_400_000;

/** Thrown while the ledger may still answer: retryable (the bus redelivers with backoff). */
export class LedgerOutflowPendingError extends Error {
  readonly retryable = true;
  constructor(
    readonly withdrawalId: string,
    readonly why: string,
  ) {
    super(`ledger outflow for withdrawal ${withdrawalId} not available (${why}); retrying`);
    this.name = 'LedgerOutflowPendingError';
  }
}

export interface OutflowQuery {
  readonly clientId: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly since: Date;
  readonly excludeWithdrawalId: string;
}

/** One GetOutflow call with a deadline; rejects on any gRPC error. */
export type OutflowLookup = (query: OutflowQuery, timeoutMs: number) => Promise<GetOutflowResponse>;

export function grpcOutflowLookup(client: LedgerServiceClient): OutflowLookup {
  return (q, timeoutMs) =>
    new Promise((resolve, reject) => {
      client.getOutflow(
        { clientId: q.clientId, customerAccount: q.customerAccount, asset: q.asset, since: timestampFromDate(q.since), excludeWithdrawalId: q.excludeWithdrawalId },
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => (err ? reject(err) : resolve(res)),
      );
    });
}

export interface LedgerOutflowOptions {
  readonly lookup: OutflowLookup;
  /** How long an unreachable ledger is retried before the policy denies (default 30 s, as the hold wait). */
  readonly waitMs?: number;
  /** Deadline of one GetOutflow call (default 2 s). */
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
  /** Milliseconds now (tests; also the window's end when the request carries no `at`). */
  readonly now?: () => number;
}

const TOTAL = /^(0|[1-9][0-9]{0,77})$/;

export class LedgerOutflowProvider implements WithdrawalFactsProvider {
  private readonly wait: BoundedWait;
  private readonly callTimeoutMs: number;
  private readonly now: () => number;

  constructor(private readonly options: LedgerOutflowOptions) {
    this.now = options.now ?? Date.now;
    this.wait = new BoundedWait(options.waitMs ?? DEFAULT_HOLD_WAIT_MS, this.now);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  async factsFor(r: FactsRequest): Promise<WithdrawalFacts> {
    const end = r.at ? r.at.getTime() : this.now();
    let res: GetOutflowResponse;
    try {
      res = await this.options.lookup(
        { clientId: r.clientId, customerAccount: r.customerAccount, asset: r.asset, since: new Date(end - OUTFLOW_WINDOW_MS), excludeWithdrawalId: r.withdrawalId },
        this.callTimeoutMs,
      );
    } catch (err) {
      const why = `ledger unavailable (grpc code ${(err as { code?: number }).code ?? '?'})`;
      const { waiting, waitedMs } = this.wait.unanswered(r.withdrawalId);
      if (waiting) throw new LedgerOutflowPendingError(r.withdrawalId, why);
      this.options.logger?.warn({ alert: 'ledger_outflow_unavailable', withdrawalId: r.withdrawalId, waitedMs, why }, 'ledger outflow still unknown after the bounded wait; deciding without it (deny)');
      return { ledgerOutflow: { known: false, why } };
    }
    this.wait.answered(r.withdrawalId);
    if (res.account !== ledgerAccountOf(r.clientId, r.customerAccount) || res.asset !== r.asset || !TOTAL.test(res.total)) {
      this.options.logger?.error({ alert: 'ledger_outflow_mismatch', withdrawalId: r.withdrawalId }, 'the ledger outflow answer is not about this account and asset, or malformed; treated as unknown');
      return { ledgerOutflow: { known: false, why: 'ledger answer does not match the request' } };
    }
    return { ledgerOutflow: { known: true, total: BigInt(res.total) } };
  }
}

/**
 * `base`'s facts with the ledger outflow from `ledger` only (a base provider never supplies
 * it). Both are asked on every delivery, concurrently, so the bounded waits of the hold and
 * of the outflow run side by side (one redelivery budget, `redeliveryFor`, covers both);
 * either one's retryable error fails the whole lookup (nothing is half-done, only reads).
 */
export function withLedgerOutflow(base: WithdrawalFactsProvider, ledger: WithdrawalFactsProvider): WithdrawalFactsProvider {
  return {
    async factsFor(r) {
      const [fromLedger, fromBase] = await Promise.allSettled([ledger.factsFor(r), base.factsFor(r)]);
      if (fromLedger.status === 'rejected') throw fromLedger.reason;
      if (fromBase.status === 'rejected') throw fromBase.reason;
      const { ledgerOutflow } = fromLedger.value;
      const rest: WithdrawalFacts = { ...fromBase.value };
      delete (rest as { ledgerOutflow?: unknown }).ledgerOutflow;
      return { ...rest, ...(ledgerOutflow ? { ledgerOutflow } : {}) };
    },
  };
}
