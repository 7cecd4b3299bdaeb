// Double-entry postings as pure functions. A line's amount is signed: debit > 0, credit < 0;
// every entry sums to zero per asset (assertBalanced; the database re-checks at commit).
// Accounts: customer liabilities ("customer:<client>:<account>", credit-normal, buckets
// available/held), the custodian's holdings per asset and wallet ("custodian:<asset>:<wallet>",
// debit-normal; "custodian:<asset>:deposits" for HD deposit addresses; "custodian:<asset>"
// is the legacy omnibus account of the books before per-wallet accounts, never posted to
// again except to reverse its own entries),
// network fees paid ("network-fees:<asset>", debit-normal), suspense ("suspense:<asset>",
// credit-normal). A balance is the sum of its lines in the account's normal direction and
// can never be negative (a CHECK in the database).
import { LedgerInvariantError } from './errors.js';

export type Bucket = 'available' | 'held';
export type EntryKind = 'DEPOSIT' | 'DEPOSIT_REVERSAL' | 'HOLD' | 'RELEASE' | 'SETTLE' | 'REVERSAL' | 'TRANSFER';

export interface Line {
  readonly account: string;
  readonly asset: string;
  readonly bucket: Bucket;
  /** Debit > 0, credit < 0, never 0. */
  readonly amount: bigint;
}

export const customerAccount = (clientId: string, account: string): string => `customer:${clientId}:${account}`;
/** The legacy omnibus account of an asset (books before per-wallet accounts; history only). */
export const custodianAccount = (asset: string): string => `custodian:${asset}`;
/** The pseudo wallet id of the HD deposit addresses (not a signing wallet: never in key.lifecycle). */
export const DEPOSITS_WALLET = 'deposits';
/** A custodial wallet's account: `custodian:<asset>:<wallet_id>`. */
export const walletAccount = (asset: string, walletId: string): string => `custodian:${asset}:${assertWalletId(walletId)}`;
/** Where deposits to HD deposit addresses are booked. */
export const depositsAccount = (asset: string): string => walletAccount(asset, DEPOSITS_WALLET);

const WALLET_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** A wallet id usable in an account id (no ':'; bounded). */
export function isValidWalletId(walletId: string): boolean {
  return WALLET_ID.test(walletId);
}
function assertWalletId(walletId: string): string {
  if (!isValidWalletId(walletId)) throw new LedgerInvariantError(`wallet id ${JSON.stringify(walletId.slice(0, 64))} is not [A-Za-z0-9][A-Za-z0-9._-]{0,127}`);
  return walletId;
}
/** The custodial accounts of an asset: the legacy omnibus and every `custodian:<asset>:<wallet>`. */
export function isCustodialAccountOf(account: string, asset: string): boolean {
  return account === custodianAccount(asset) || account.startsWith(`${custodianAccount(asset)}:`);
}
/** The wallet id of a per-wallet custodial account (undefined for the legacy omnibus and other accounts). */
export function walletOfAccount(account: string, asset: string): string | undefined {
  const prefix = `${custodianAccount(asset)}:`;
  return account.startsWith(prefix) ? account.slice(prefix.length) : undefined;
}
export const feeAccount = (asset: string): string => `network-fees:${asset}`;

/** Normal side of an account (mirrored by ledger_normal_side() in the migration). */
export function normalSide(account: string): 'debit' | 'credit' {
  return account.startsWith('customer:') || account.startsWith('suspense:') ? 'credit' : 'debit';
}

function positive(amount: bigint, what: string): bigint {
  if (typeof amount !== 'bigint' || amount <= 0n) throw new LedgerInvariantError(`${what} must be a positive integer amount`);
  return amount;
}

/**
 * Funds arriving at finality: the custodian holds more (in the wallet that received them:
 * `custodian:<asset>:deposits` for HD deposit addresses, by default), the customer is owed more.
 */
export function depositLines(customer: string, asset: string, amount: bigint, walletId: string = DEPOSITS_WALLET): Line[] {
  positive(amount, 'deposit amount');
  return sorted([
    { account: walletAccount(asset, walletId), asset, bucket: 'available', amount },
    { account: customer, asset, bucket: 'available', amount: -amount },
  ]);
}

/** withdrawal.requested: available -> held (fails on the CHECK if available is short). */
export function holdLines(customer: string, asset: string, amount: bigint): Line[] {
  positive(amount, 'hold amount');
  return sorted([
    { account: customer, asset, bucket: 'available', amount },
    { account: customer, asset, bucket: 'held', amount: -amount },
  ]);
}

/** deny / cancel / fail: held -> available. */
export function releaseLines(customer: string, asset: string, amount: bigint): Line[] {
  return negate(holdLines(customer, asset, amount));
}

/**
 * tx final: the held amount leaves the source wallet (`custodian:<asset>:<wallet>`); the
 * network fee is the custodian's expense, paid from the same wallet's fee-asset account.
 */
export function settleLines(customer: string, asset: string, amount: bigint, feeAsset: string, fee: bigint, walletId: string): Line[] {
  positive(amount, 'settle amount');
  if (fee < 0n) throw new LedgerInvariantError('fee must not be negative');
  const lines: Line[] = [
    { account: customer, asset, bucket: 'held', amount },
    { account: walletAccount(asset, walletId), asset, bucket: 'available', amount: -amount },
  ];
  if (fee > 0n) {
    lines.push({ account: feeAccount(feeAsset), asset: feeAsset, bucket: 'available', amount: fee });
    lines.push({ account: walletAccount(feeAsset, walletId), asset: feeAsset, bucket: 'available', amount: -fee });
  }
  return sorted(merge(lines));
}

/**
 * A treasury transfer between two of our own wallets reached finality (hot-wallet sweep,
 * replenishment): the amount moves from the source wallet's account to the destination's, the
 * network fee is the custodian's expense paid from the source wallet. No customer account moves.
 */
export function transferLines(asset: string, amount: bigint, feeAsset: string, fee: bigint, fromWallet: string, toWallet: string): Line[] {
  positive(amount, 'transfer amount');
  if (fee < 0n) throw new LedgerInvariantError('fee must not be negative');
  if (fromWallet === toWallet) throw new LedgerInvariantError('a transfer needs two different wallets');
  const lines: Line[] = [
    { account: walletAccount(asset, toWallet), asset, bucket: 'available', amount },
    { account: walletAccount(asset, fromWallet), asset, bucket: 'available', amount: -amount },
  ];
  if (fee > 0n) {
    lines.push({ account: feeAccount(feeAsset), asset: feeAsset, bucket: 'available', amount: fee });
    lines.push({ account: walletAccount(feeAsset, fromWallet), asset: feeAsset, bucket: 'available', amount: -fee });
  }
  return sorted(merge(lines));
}

/** Compensation: the exact opposite of an entry's lines (a reorg undoes exactly what it settled). */
export function negate(lines: readonly Line[]): Line[] {
  return sorted(lines.map((l) => ({ ...l, amount: -l.amount })));
}

/** Sum per asset must be zero; no zero lines. */
export function assertBalanced(lines: readonly Line[]): void {
  if (lines.length < 2) throw new LedgerInvariantError('an entry needs at least two lines');
  const sums = new Map<string, bigint>();
  for (const l of lines) {
    if (l.amount === 0n) throw new LedgerInvariantError('a journal line cannot be zero');
    sums.set(l.asset, (sums.get(l.asset) ?? 0n) + l.amount);
  }
  for (const [asset, sum] of sums) if (sum !== 0n) throw new LedgerInvariantError(`entry does not balance for ${asset}: ${sum}`);
}

/** The change a line makes to its account's balance, in the account's normal direction. */
export function balanceDelta(line: Line): bigint {
  return normalSide(line.account) === 'debit' ? line.amount : -line.amount;
}

/** Same account/bucket/asset lines combined (e.g. fee asset = withdrawal asset). */
function merge(lines: readonly Line[]): Line[] {
  const byKey = new Map<string, Line>();
  for (const l of lines) {
    const key = `${l.account}\u0000${l.asset}\u0000${l.bucket}`;
    const prev = byKey.get(key);
    byKey.set(key, prev ? { ...prev, amount: prev.amount + l.amount } : l);
  }
  return [...byKey.values()].filter((l) => l.amount !== 0n);
}

/** Deterministic order = a consistent row-lock order in the database (no deadlocks). */
function sorted(lines: Line[]): Line[] {
  const key = (l: Line): string => `${l.account}\u0000${l.asset}\u0000${l.bucket}`;
  return lines.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
