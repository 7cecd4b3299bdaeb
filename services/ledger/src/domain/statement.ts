// A customer's statement for a period, as plain computation: request checks, running
// balances, and the arithmetic every statement page must satisfy. A customer account is
// credit-normal, so in the customer's view a journal line moves the balance by -amount
// (debit > 0 in the journal). Any arithmetic mismatch is a StatementInconsistentError
// (INTERNAL): the ledger answers no statement rather than a wrong one.
import { DomainError } from '@custody/platform';
import { InvalidArgumentError } from './errors.js';
import type { Bucket, EntryKind } from './postings.js';

export const MAX_STATEMENT_PERIOD_MS = 366 * 24 * 60 * 60 * 1000;
export const ASSET_FORMAT = /^[A-Z0-9]{2,12}$/;

export class StatementInconsistentError extends DomainError {
  constructor(message: string) {
    super('STATEMENT_INCONSISTENT', message);
  }
}

export interface StatementBalance {
  readonly available: bigint;
  readonly held: bigint;
}

export const ZERO: StatementBalance = Object.freeze({ available: 0n, held: 0n });

/** One journal line of the account, as booked (journal sign: debit > 0). */
export interface JournalLineRow {
  readonly sequence: bigint;
  readonly lineNo: number;
  readonly entryId: string;
  readonly kind: EntryKind;
  readonly causeEventId: string;
  readonly referenceId: string;
  readonly correlationId: string;
  readonly bookedAt: Date;
  readonly bucket: Bucket;
  readonly amount: bigint;
}

export interface StatementLine extends Omit<JournalLineRow, 'amount'> {
  /** Customer's view: > 0 = the custodian owes the customer more. */
  readonly amount: bigint;
  readonly balanceAfter: StatementBalance;
}

export interface StatementPeriod {
  readonly from: Date;
  readonly to: Date;
}

/** [from, to): both required, from < to, at most MAX_STATEMENT_PERIOD_MS long. */
export function checkPeriod(from: Date | undefined, to: Date | undefined): StatementPeriod {
  if (!from || Number.isNaN(from.getTime())) throw new InvalidArgumentError('from', 'FIELD_REQUIRED', 'is required');
  if (!to || Number.isNaN(to.getTime())) throw new InvalidArgumentError('to', 'FIELD_REQUIRED', 'is required');
  if (from.getTime() >= to.getTime()) throw new InvalidArgumentError('to', 'PERIOD_INVALID', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_STATEMENT_PERIOD_MS) throw new InvalidArgumentError('to', 'PERIOD_TOO_LONG', 'the period may be at most 366 days');
  return { from, to };
}

export function checkAsset(asset: string): string {
  if (asset.length === 0) throw new InvalidArgumentError('asset', 'FIELD_REQUIRED', 'is required');
  if (!ASSET_FORMAT.test(asset)) throw new InvalidArgumentError('asset', 'ASSET_INVALID', 'must be an asset symbol of 2 to 12 characters A-Z, 0-9');
  return asset;
}

export const add = (a: StatementBalance, b: StatementBalance): StatementBalance => ({ available: a.available + b.available, held: a.held + b.held });
const same = (a: StatementBalance, b: StatementBalance): boolean => a.available === b.available && a.held === b.held;
const show = (b: StatementBalance): string => `available ${b.available}, held ${b.held}`;

/** Journal sums per bucket (debit > 0) -> the customer's balance. */
export function customerBalance(journalSums: StatementBalance): StatementBalance {
  return { available: -journalSums.available, held: -journalSums.held };
}

export interface StatementPageInput {
  /** Customer balances at `from` and at `to`. */
  readonly opening: StatementBalance;
  readonly closing: StatementBalance;
  /** Customer-view net of the period's lines before this page, and after it. */
  readonly before: StatementBalance;
  readonly after: StatementBalance;
  /** This page's lines (journal sign), in booking order. */
  readonly lines: readonly JournalLineRow[];
}

export interface StatementPage {
  readonly opening: StatementBalance;
  readonly closing: StatementBalance;
  readonly pageOpening: StatementBalance;
  readonly pageClosing: StatementBalance;
  readonly lines: StatementLine[];
}

/**
 * Running balances of one page, and the check that the books add up:
 * opening + before + this page's lines + after = closing.
 */
export function statementPage(input: StatementPageInput): StatementPage {
  const pageOpening = add(input.opening, input.before);
  let running = pageOpening;
  let previous: JournalLineRow | undefined;
  const lines = input.lines.map((row): StatementLine => {
    if (previous && (row.sequence < previous.sequence || (row.sequence === previous.sequence && row.lineNo <= previous.lineNo))) {
      throw new StatementInconsistentError('statement lines are not in booking order');
    }
    previous = row;
    const delta = -row.amount;
    running = add(running, row.bucket === 'available' ? { available: delta, held: 0n } : { available: 0n, held: delta });
    return { ...row, amount: delta, balanceAfter: running };
  });
  const pageClosing = running;
  const total = add(pageClosing, input.after);
  if (!same(total, input.closing)) {
    throw new StatementInconsistentError(`opening + lines (${show(total)}) is not the closing balance (${show(input.closing)})`);
  }
  return { opening: input.opening, closing: input.closing, pageOpening, pageClosing, lines };
}

/** Deposit entries reference a deposit id, the others a withdrawal id. */
export function referenceKind(kind: EntryKind): 'deposit' | 'withdrawal' {
  return kind === 'DEPOSIT' || kind === 'DEPOSIT_REVERSAL' ? 'deposit' : 'withdrawal';
}
