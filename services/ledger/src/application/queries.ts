// Read side: balances of an account, its history (paged by journal sequence) and the hold
// of one withdrawal (what the policy service checks before it allows signing).
import { InvalidArgumentError } from '../domain/errors.js';
import { DEPOSITS_WALLET, custodianAccount, customerAccount as customerAccountOf, walletOfAccount, type Bucket, type EntryKind } from '../domain/postings.js';
import type { WalletTier } from '../domain/wallets.js';
import type { WithdrawalState } from './ports.js';

export interface BalanceView {
  readonly asset: string;
  readonly available: bigint;
  readonly held: bigint;
}

export interface HistoryLine {
  readonly sequence: bigint;
  readonly entryId: string;
  readonly kind: EntryKind;
  readonly referenceId: string;
  readonly correlationId: string;
  readonly bookedAt: Date;
  readonly account: string;
  readonly asset: string;
  readonly bucket: Bucket;
  /** Debit > 0, credit < 0 (the journal's convention). */
  readonly amount: bigint;
}

/** A withdrawal as the ledger booked it, with the account's available balance of the asset now. */
export interface WithdrawalHoldView {
  readonly withdrawalId: string;
  readonly state: WithdrawalState;
  readonly account: string;
  readonly asset: string;
  readonly amount: bigint;
  /** Available balance of (account, asset) at read time; the hold is already out of it while HELD. */
  readonly available: bigint;
  /** The HOLD journal entry ('' when the hold was refused). */
  readonly holdEntryId: string;
}

/** One custodial account (GetWalletBalances). */
export interface CustodialBalanceView {
  readonly account: string;
  readonly asset: string;
  /** '' for the legacy omnibus custodian:<asset>. */
  readonly walletId: string;
  readonly tier: WalletTier | 'deposits' | 'legacy-omnibus' | 'unregistered';
  readonly chain: string;
  readonly address: string;
  readonly available: bigint;
}

/** A custodial account as stored, with its registry row when the wallet is registered. */
export interface CustodialBalanceRow {
  readonly account: string;
  readonly asset: string;
  readonly available: bigint;
  readonly walletId: string | null;
  readonly tier: WalletTier | null;
  readonly chain: string;
  readonly address: string;
}

export interface LedgerReader {
  /** Every custodian:* balance row of `asset` ('' = all), in one statement. */
  custodialBalances(asset: string): Promise<CustodialBalanceRow[]>;
  balancesOf(account: string, assets: readonly string[]): Promise<BalanceView[]>;
  /** The withdrawal's booking, or undefined if the ledger has not seen it (read-only). */
  withdrawalHold(withdrawalId: string): Promise<WithdrawalHoldView | undefined>;
  /**
   * Withdrawal outflow of (account, asset): the withdrawals HELD or SETTLED whose HOLD entry
   * was booked at or after `since`, except `excludeWithdrawalId` ('' = none). One statement.
   */
  outflowSince(account: string, asset: string, since: Date, excludeWithdrawalId: string): Promise<OutflowView>;
  /** Lines of `account` (one asset, or all if '') of the first `entries` journal entries after `afterSequence`. */
  history(account: string, asset: string, afterSequence: bigint, entries: number): Promise<HistoryLine[]>;
}

/** A customer's withdrawal outflow of one asset over a window (GetOutflow). */
export interface OutflowView {
  /** Sum of the withdrawals' amounts (base units). */
  readonly total: bigint;
  readonly withdrawals: number;
}

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
const TOKEN = /^[1-9][0-9]{0,18}$/;

export class LedgerQueries {
  constructor(private readonly reader: LedgerReader) {}

  balances(account: string, assets: readonly string[]): Promise<BalanceView[]> {
    required('account', account);
    return this.reader.balancesOf(account, assets);
  }

  /** Per wallet and tier, and the custodial total per asset (= the sum over its custodial accounts). */
  async walletBalances(asset: string): Promise<{ balances: CustodialBalanceView[]; totals: { asset: string; total: bigint }[] }> {
    if (asset !== '' && !/^[A-Z0-9]{2,12}$/.test(asset)) throw new InvalidArgumentError('asset', 'ASSET_INVALID', 'must be [A-Z0-9]{2,12}');
    const rows = await this.reader.custodialBalances(asset);
    const balances = rows.map((r): CustodialBalanceView => {
      const walletId = walletOfAccount(r.account, r.asset) ?? '';
      const tier = r.tier ?? (r.account === custodianAccount(r.asset) ? 'legacy-omnibus' : walletId === DEPOSITS_WALLET ? 'deposits' : 'unregistered');
      return { account: r.account, asset: r.asset, walletId, tier, chain: r.chain, address: r.address, available: r.available };
    });
    const totals = new Map<string, bigint>();
    for (const b of balances) totals.set(b.asset, (totals.get(b.asset) ?? 0n) + b.available);
    return { balances, totals: [...totals].map(([a, total]) => ({ asset: a, total })) };
  }

  /** undefined = the ledger has not seen this withdrawal (yet): not an error. */
  withdrawalHold(withdrawalId: string): Promise<WithdrawalHoldView | undefined> {
    required('withdrawal_id', withdrawalId);
    return this.reader.withdrawalHold(withdrawalId);
  }

  /**
   * The outflow the policy's rolling limits count: withdrawals of the customer account and
   * asset still HELD or already SETTLED whose hold was booked at or after `since` (released
   * and rejected ones moved nothing out), leaving out `excludeWithdrawalId` (the one being
   * decided). Read-only.
   */
  outflow(req: { clientId: string; customerAccount: string; asset: string; since: Date | undefined; excludeWithdrawalId: string }): Promise<OutflowView & { account: string; asset: string; since: Date }> {
    required('client_id', req.clientId);
    required('customer_account', req.customerAccount);
    if (!/^[A-Z0-9]{2,12}$/.test(req.asset)) throw new InvalidArgumentError('asset', 'ASSET_INVALID', 'must be [A-Z0-9]{2,12}');
    if (!req.since || Number.isNaN(req.since.getTime())) throw new InvalidArgumentError('since', 'FIELD_REQUIRED', 'is required');
    if (req.excludeWithdrawalId.length > 200) throw new InvalidArgumentError('exclude_withdrawal_id', 'FIELD_TOO_LONG', 'must be at most 200 characters');
    const account = customerAccountOf(req.clientId, req.customerAccount);
    const since = req.since;
    return this.reader.outflowSince(account, req.asset, since, req.excludeWithdrawalId).then((o) => ({ ...o, account, asset: req.asset, since }));
  }

  async history(account: string, asset: string, pageSize: number, pageToken: string): Promise<{ lines: HistoryLine[]; nextPageToken: string }> {
    required('account', account);
    if (pageSize !== 0 && (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > MAX_PAGE_SIZE)) {
      throw new InvalidArgumentError('page_size', 'PAGE_SIZE_INVALID', `must be between 1 and ${MAX_PAGE_SIZE} (0 = ${DEFAULT_PAGE_SIZE})`);
    }
    if (pageToken !== '' && !TOKEN.test(pageToken)) throw new InvalidArgumentError('page_token', 'PAGE_TOKEN_INVALID', 'is not a token returned by a previous page');
    const size = pageSize === 0 ? DEFAULT_PAGE_SIZE : pageSize;
    // Pages hold whole entries: `size` entries (all their lines of this account), one more fetched to know if there is a next page.
    const rows = await this.reader.history(account, asset, pageToken === '' ? 0n : BigInt(pageToken), size + 1);
    const sequences = [...new Set(rows.map((r) => r.sequence))];
    if (sequences.length <= size) return { lines: rows, nextPageToken: '' };
    const lastKept = sequences[size - 1] as bigint;
    return { lines: rows.filter((r) => r.sequence <= lastKept), nextPageToken: lastKept.toString() };
  }
}

function required(field: string, value: string): void {
  if (value.length === 0) throw new InvalidArgumentError(field, 'FIELD_REQUIRED', 'is required');
  if (value.length > 200) throw new InvalidArgumentError(field, 'FIELD_TOO_LONG', 'must be at most 200 characters');
}
