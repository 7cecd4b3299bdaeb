// Customer statements: request checks and paging here, the arithmetic in
// domain/statement.ts, the SQL in adapters/persistence/postgres-statement-reader.ts.
import { createHash } from 'node:crypto';
import { InvalidArgumentError } from '../domain/errors.js';
import { customerAccount } from '../domain/postings.js';
import { checkAsset, checkPeriod, statementPage, type JournalLineRow, type StatementBalance, type StatementPage } from '../domain/statement.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './queries.js';

export interface StatementSliceQuery {
  readonly account: string;
  readonly asset: string;
  readonly from: Date;
  readonly to: Date;
  /** Lines of entries with a journal sequence above this (0 = from the start of the period). */
  readonly afterSequence: bigint;
  /** Whole journal entries to return at most. */
  readonly entries: number;
}

/** Everything one page needs, read in ONE database snapshot. Sums are in the journal's sign (debit > 0). */
export interface StatementSlice {
  readonly lines: JournalLineRow[];
  /** More entries of the period follow this slice. */
  readonly more: boolean;
  /** Journal sums per bucket: booked before `from`, before `to`, in the period up to afterSequence, in the period after the slice's last entry. */
  readonly sums: { readonly beforeFrom: StatementBalance; readonly beforeTo: StatementBalance; readonly periodBefore: StatementBalance; readonly periodAfter: StatementBalance };
}

export interface StatementReader {
  statementSlice(q: StatementSliceQuery): Promise<StatementSlice>;
}

export interface StatementRequest {
  readonly clientId: string;
  readonly customerAccount: string;
  readonly asset: string;
  readonly from: Date | undefined;
  readonly to: Date | undefined;
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface Statement extends StatementPage {
  readonly account: string;
  readonly asset: string;
  readonly from: Date;
  readonly to: Date;
  readonly nextPageToken: string;
}

const TOKEN = /^([1-9][0-9]{0,18})\.([0-9a-f]{16})$/;
const neg = (b: StatementBalance): StatementBalance => ({ available: -b.available, held: -b.held });

export class LedgerStatements {
  constructor(private readonly reader: StatementReader) {}

  async statement(req: StatementRequest): Promise<Statement> {
    required('client_id', req.clientId);
    required('customer_account', req.customerAccount);
    const asset = checkAsset(req.asset);
    const period = checkPeriod(req.from, req.to);
    if (req.pageSize !== 0 && (!Number.isInteger(req.pageSize) || req.pageSize < 1 || req.pageSize > MAX_PAGE_SIZE)) {
      throw new InvalidArgumentError('page_size', 'PAGE_SIZE_INVALID', `must be between 1 and ${MAX_PAGE_SIZE} (0 = ${DEFAULT_PAGE_SIZE})`);
    }
    const account = customerAccount(req.clientId, req.customerAccount);
    const binding = bindingOf(account, asset, period.from, period.to);
    let afterSequence = 0n;
    if (req.pageToken !== '') {
      const m = TOKEN.exec(req.pageToken);
      if (!m || m[2] !== binding) throw new InvalidArgumentError('page_token', 'PAGE_TOKEN_INVALID', 'is not a token returned by a previous page of this statement');
      afterSequence = BigInt(m[1] as string);
    }
    const entries = req.pageSize === 0 ? DEFAULT_PAGE_SIZE : req.pageSize;
    const slice = await this.reader.statementSlice({ account, asset, from: period.from, to: period.to, afterSequence, entries });
    const page = statementPage({
      opening: neg(slice.sums.beforeFrom),
      closing: neg(slice.sums.beforeTo),
      before: neg(slice.sums.periodBefore),
      after: neg(slice.sums.periodAfter),
      lines: slice.lines,
    });
    const last = slice.lines[slice.lines.length - 1];
    const nextPageToken = slice.more && last ? `${last.sequence}.${binding}` : '';
    return { ...page, account, asset, from: period.from, to: period.to, nextPageToken };
  }
}

/** A page token only continues the statement it came from (same account, asset and period). */
function bindingOf(account: string, asset: string, from: Date, to: Date): string {
  return createHash('sha256').update(`${account}\u0000${asset}\u0000${from.getTime()}\u0000${to.getTime()}`).digest('hex').slice(0, 16);
}

function required(field: string, value: string): void {
  if (value.length === 0) throw new InvalidArgumentError(field, 'FIELD_REQUIRED', 'is required');
  if (value.length > 200) throw new InvalidArgumentError(field, 'FIELD_TOO_LONG', 'must be at most 200 characters');
}
