// Double-entry postings as pure functions. A line's amount is signed: debit > 0, credit < 0;
// every entry sums to zero per asset (assertBalanced; the database re-checks at commit).
// Accounts: customer liabilities ("customer:<client>:<account>", credit-normal, buckets
// available/held), the custodian's holdings per asset ("custodian:<asset>", debit-normal),
// network fees paid ("network-fees:<asset>", debit-normal), suspense ("suspense:<asset>",
// credit-normal). A balance is the sum of its lines in the account's normal direction and
// can never be negative (a CHECK in the database).
import { LedgerInvariantError } from './errors.js';

export type Bucket = 'available' | 'held';
export type EntryKind = 'DEPOSIT' | 'DEPOSIT_REVERSAL' | 'HOLD' | 'RELEASE' | 'SETTLE' | 'REVERSAL';

export interface Line {
  readonly account: string;
  readonly asset: string;
  readonly bucket: Bucket;
  /** Debit > 0, credit < 0, never 0. */
  readonly amount: bigint;
}

export const customerAccount = (clientId: string, account: string): string => `customer:${clientId}:${account}`;
export const custodianAccount = (asset: string): string => `custodian:${asset}`;
export const feeAccount = (asset: string): string => `network-fees:${asset}`;

/** Normal side of an account (mirrored by ledger_normal_side() in the migration). */
export function normalSide(account: string): 'debit' | 'credit' {
  return account.startsWith('customer:') || account.startsWith('suspense:') ? 'credit' : 'debit';
}

function positive(amount: bigint, what: string): bigint {
  if (typeof amount !== 'bigint' || amount <= 0n) throw new LedgerInvariantError(`${what} must be a positive integer amount`);
  return amount;
}

/** Funds arriving at finality: the custodian holds more, the customer is owed more. */
export function depositLines(customer: string, asset: string, amount: bigint): Line[] {
  positive(amount, 'deposit amount');
  return sorted([
    { account: custodianAccount(asset), asset, bucket: 'available', amount },
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

/** tx final: the held amount leaves the custodian; the network fee is the custodian's expense. */
export function settleLines(customer: string, asset: string, amount: bigint, feeAsset: string, fee: bigint): Line[] {
  positive(amount, 'settle amount');
  if (fee < 0n) throw new LedgerInvariantError('fee must not be negative');
  const lines: Line[] = [
    { account: customer, asset, bucket: 'held', amount },
    { account: custodianAccount(asset), asset, bucket: 'available', amount: -amount },
  ];
  if (fee > 0n) {
    lines.push({ account: feeAccount(feeAsset), asset: feeAsset, bucket: 'available', amount: fee });
    lines.push({ account: custodianAccount(feeAsset), asset: feeAsset, bucket: 'available', amount: -fee });
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
