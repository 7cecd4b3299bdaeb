/**
 * The ledger-hold part of the facts port, read from the ledger's LedgerService
 * (GetWithdrawalHold) over grpc-js (C-8.2.2.5-b: ledger reservation precedes signing).
 *
 * The ledger places the hold asynchronously when it consumes withdrawal.requested, so the
 * policy may ask before it exists. For a bounded time (`holdWaitMs`, measured from the
 * first time this process asked about the withdrawal) "no hold yet" and "ledger not
 * reachable / deadline exceeded" throw LedgerHoldPendingError, a retryable error: the
 * decision transaction rolls back and the bus redelivers the event with backoff. After
 * the bound the fact is given as unknown (no `ledgerHold`) and the policy denies
 * `ledger_hold_missing` (fail closed). A hold the ledger refused (REJECTED: funds short),
 * released or settled is final: no hold, at once. A held amount smaller than the request
 * is passed as it is and the policy denies `ledger_hold_insufficient`. A hold booked on
 * another account or asset than the request is no hold.
 */
import { Metadata, credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { LedgerServiceClient, WithdrawalHoldState, type GetWithdrawalHoldResponse } from '@custody/contracts';
import type { Logger } from '@custody/platform';
import { BoundedWait } from './bounded-wait.js';
import type { FactsRequest, WithdrawalFacts, WithdrawalFactsProvider } from '../../application/ports.js';

/** Thrown while the hold may still come: retryable (the bus redelivers with backoff). */
export class LedgerHoldPendingError extends Error {
  readonly retryable = true;
  constructor(
    readonly withdrawalId: string,
    readonly why: string,
  ) {
    super(`ledger hold for withdrawal ${withdrawalId} not available yet (${why}); retrying`);
    this.name = 'LedgerHoldPendingError';
  }
}

/** One GetWithdrawalHold call with a deadline; rejects on any gRPC error. */
export type HoldLookup = (withdrawalId: string, timeoutMs: number) => Promise<GetWithdrawalHoldResponse>;

/** A grpc-js LedgerService client (close it on shutdown). */
export function createLedgerClient(address: string, channelCredentials: ChannelCredentials = grpcCredentials.createInsecure()): LedgerServiceClient {
  return new LedgerServiceClient(address, channelCredentials);
}

export function grpcHoldLookup(client: LedgerServiceClient): HoldLookup {
  return (withdrawalId, timeoutMs) =>
    new Promise((resolve, reject) => {
      client.getWithdrawalHold({ withdrawalId }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
    });
}

export interface LedgerFactsOptions {
  readonly lookup: HoldLookup;
  /** How long a missing hold / unreachable ledger is retried before denying (default 30 s). */
  readonly holdWaitMs?: number;
  /** Deadline of one GetWithdrawalHold call (default 2 s). */
  readonly callTimeoutMs?: number;
  readonly logger?: Logger;
  /** Milliseconds now (tests). */
  readonly now?: () => number;
}

export const DEFAULT_HOLD_WAIT_MS = 30_000;
export const DEFAULT_CALL_TIMEOUT_MS = 2_000;
const AMOUNT = /^[1-9][0-9]{0,77}$/;

/** The ledger's account naming (services/ledger domain/postings.ts customerAccount). */
export const ledgerAccountOf = (clientId: string, account: string): string => `customer:${clientId}:${account}`;

export class LedgerFactsProvider implements WithdrawalFactsProvider {
  private readonly wait: BoundedWait;
  private readonly callTimeoutMs: number;

  constructor(private readonly options: LedgerFactsOptions) {
    this.wait = new BoundedWait(options.holdWaitMs ?? DEFAULT_HOLD_WAIT_MS, options.now ?? Date.now);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  }

  async factsFor(r: FactsRequest): Promise<WithdrawalFacts> {
    let res: GetWithdrawalHoldResponse | undefined;
    let unavailable = '';
    try {
      res = await this.options.lookup(r.withdrawalId, this.callTimeoutMs);
    } catch (err) {
      const e = err as { code?: number; details?: string };
      unavailable = `ledger unavailable (grpc code ${e.code ?? '?'})`;
    }
    if (res && res.state === WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD) {
      this.wait.answered(r.withdrawalId);
      if (res.asset !== r.asset || res.customerAccount !== ledgerAccountOf(r.clientId, r.customerAccount) || !AMOUNT.test(res.amount)) {
        this.options.logger?.error({ alert: 'ledger_hold_mismatch', withdrawalId: r.withdrawalId }, 'the ledger hold does not belong to this request; treated as no hold');
        return {};
      }
      return { ledgerHold: { id: res.holdEntryId || `hold-${r.withdrawalId}`, amount: BigInt(res.amount) } };
    }
    if (res && (res.state === WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_REJECTED || res.state === WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_RELEASED || res.state === WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_SETTLED)) {
      this.wait.answered(r.withdrawalId);
      this.options.logger?.info({ withdrawalId: r.withdrawalId, state: WithdrawalHoldState[res.state] }, 'no ledger hold reserves this withdrawal');
      return {};
    }
    // NONE (not placed yet), UNSPECIFIED or unreachable: retry within the bound, then unknown.
    const { waiting, waitedMs } = this.wait.unanswered(r.withdrawalId);
    if (waiting) throw new LedgerHoldPendingError(r.withdrawalId, unavailable || 'hold not placed yet');
    this.options.logger?.warn({ withdrawalId: r.withdrawalId, waitedMs, why: unavailable || 'hold not placed' }, 'ledger hold still unknown after the bounded wait; deciding without it (deny)');
    return {};
  }
}

/**
 * Account and wallet facts from `base` (e.g. StaticFactsProvider), the ledger hold from
 * `ledger` only (a base provider never supplies it). The ledger is asked first: its
 * retryable error leaves nothing half-done.
 */
export function withLedgerHolds(base: WithdrawalFactsProvider, ledger: WithdrawalFactsProvider): WithdrawalFactsProvider {
  return {
    async factsFor(r) {
      const { ledgerHold } = await ledger.factsFor(r);
      const { account, sourceWallet } = await base.factsFor(r);
      return { ...(account ? { account } : {}), ...(sourceWallet ? { sourceWallet } : {}), ...(ledgerHold ? { ledgerHold } : {}) };
    },
  };
}

/**
 * Redelivery settings for the decision consumer such that the backoff between attempts
 * outlasts the hold wait (the last attempt decides, the event never reaches the DLQ for a
 * missing hold). Exponential from `initialMs`, capped at `maxMs`.
 */
export function redeliveryFor(holdWaitMs: number, initialMs = 200, maxMs = 5_000): { maxAttempts: number; backoff: { initialMs: number; maxMs: number; factor: number } } {
  let total = 0;
  let attempts = 1;
  while (total <= holdWaitMs && attempts < 1_000) {
    total += Math.min(maxMs, initialMs * 2 ** (attempts - 1));
    attempts++;
  }
  return { maxAttempts: attempts + 1, backoff: { initialMs, maxMs, factor: 2 } };
}
