// Reconciliation of the books with the chain (ISO/TR 23576 8.2.3, C-8.2.3-d), as a pure
// function: no I/O, bigint only.
//
// The ledger's custodial balance L = custodian:<asset> (available). The chain's C = the sum of
// every custodial address's balance at ONE block. They differ legitimately by:
//   - in-flight withdrawals: in a block at or below the snapshot (the coins are gone on chain)
//     but not settled in the books yet (the ledger settles at FINAL): amount + fee paid;
//   - pending deposits: in a block at or below the snapshot but not credited yet (the ledger
//     credits at FINAL): + amount.
// expected chain = L − in-flight − fees + pending; unexplained = C − expected. Anything else —
// an outflow nobody approved, a missed or doubled posting — is the unexplained remainder.
import { LedgerInvariantError } from './errors.js';

export type LedgerWithdrawalState = 'HELD' | 'RELEASED' | 'SETTLED' | 'REJECTED';
export type LedgerDepositState = 'CREDITED' | 'REVERSED' | 'REVERSAL_REFUSED';

/** What the books say, read in one database snapshot. */
export interface LedgerPosition {
  readonly asset: string;
  /** custodian:<asset>, available bucket (debit-normal: what the custodian holds). */
  readonly custodianBalance: bigint;
  /** Ledger state of the withdrawals the chain snapshot names (absent: the ledger has not seen it). */
  readonly withdrawals: ReadonlyMap<string, LedgerWithdrawalState>;
  /** Ledger state of the deposits the chain snapshot names (absent: not credited). */
  readonly deposits: ReadonlyMap<string, LedgerDepositState>;
}

export interface SnapshotAddress {
  readonly address: string;
  readonly walletId: string;
  readonly role: string;
  readonly balance: bigint;
}

export interface SnapshotWithdrawal {
  readonly withdrawalId: string;
  readonly wallet: string;
  readonly amount: bigint;
  /** The adapter's state: SIGNED | BROADCAST | CONFIRMED | FINAL | FAILED. */
  readonly state: string;
  readonly txHash: string;
  /** Actual fee when included at the snapshot block. */
  readonly feePaid?: bigint;
  readonly feeCap: bigint;
  readonly includedHeight: bigint;
  readonly includedAtSnapshot: boolean;
}

export interface SnapshotDeposit {
  readonly depositId: string;
  readonly address: string;
  readonly amount: bigint;
  readonly state: 'PENDING' | 'FINAL';
  readonly blockHeight: bigint;
}

/** The chain-adapter's custodial snapshot (every balance at one block). */
export interface ChainSnapshot {
  readonly chain: string;
  readonly asset: string;
  readonly blockHeight: bigint;
  readonly blockHash: string;
  readonly addresses: readonly SnapshotAddress[];
  readonly withdrawals: readonly SnapshotWithdrawal[];
  readonly deposits: readonly SnapshotDeposit[];
}

export interface InFlightItem {
  readonly withdrawalId: string;
  readonly wallet: string;
  readonly txHash: string;
  readonly amount: bigint;
  readonly fee: bigint;
  readonly includedHeight: bigint;
  readonly ledgerState: LedgerWithdrawalState | 'UNKNOWN';
}

export interface PendingDepositItem {
  readonly depositId: string;
  readonly address: string;
  readonly amount: bigint;
  readonly chainState: 'PENDING' | 'FINAL';
}

/** A withdrawal the chain paid that the books will never settle (released or refused): part of the unexplained remainder. */
export interface UnbookedOutflow {
  readonly withdrawalId: string;
  readonly wallet: string;
  readonly txHash: string;
  readonly amount: bigint;
  readonly ledgerState: LedgerWithdrawalState;
}

export interface Classification {
  readonly asset: string;
  readonly ledgerBalance: bigint;
  readonly chainBalance: bigint;
  readonly inFlight: bigint;
  readonly fees: bigint;
  readonly pendingDeposits: bigint;
  /** ledgerBalance − inFlight − fees + pendingDeposits. */
  readonly expectedChainBalance: bigint;
  /** chainBalance − expectedChainBalance: > 0 more coins than booked, < 0 coins missing. */
  readonly unexplained: bigint;
  readonly outcome: 'BALANCED' | 'DRIFT';
  readonly inFlightItems: readonly InFlightItem[];
  readonly pendingDepositItems: readonly PendingDepositItem[];
  readonly unbookedOutflows: readonly UnbookedOutflow[];
}

function nonNegative(value: bigint, what: string): bigint {
  if (typeof value !== 'bigint' || value < 0n) throw new LedgerInvariantError(`${what} must be a non-negative integer amount`);
  return value;
}

/**
 * Classifies the difference between the books and one chain snapshot. `feeAsset`: the asset
 * network fees of this chain are paid in (a fee counts only when it is this asset).
 */
export function classify(ledger: LedgerPosition, snapshot: ChainSnapshot, options: { readonly feeAsset: string }): Classification {
  if (snapshot.asset !== ledger.asset) throw new LedgerInvariantError(`snapshot of ${snapshot.asset} compared with the books of ${ledger.asset}`);
  const ledgerBalance = nonNegative(ledger.custodianBalance, 'custodian balance');
  const seenAddresses = new Set<string>();
  let chainBalance = 0n;
  for (const a of snapshot.addresses) {
    if (seenAddresses.has(a.address)) throw new LedgerInvariantError(`address ${a.address} appears twice in the snapshot`);
    seenAddresses.add(a.address);
    chainBalance += nonNegative(a.balance, `balance of ${a.address}`);
  }

  const feesCount = options.feeAsset === snapshot.asset;
  const inFlightItems: InFlightItem[] = [];
  const unbookedOutflows: UnbookedOutflow[] = [];
  const seenWithdrawals = new Set<string>();
  let inFlight = 0n;
  let fees = 0n;
  for (const w of snapshot.withdrawals) {
    if (seenWithdrawals.has(w.withdrawalId)) continue;
    seenWithdrawals.add(w.withdrawalId);
    nonNegative(w.amount, `amount of withdrawal ${w.withdrawalId}`);
    // Not in a block at the snapshot: the chain has not paid anything yet.
    if (!w.includedAtSnapshot) continue;
    const state = ledger.withdrawals.get(w.withdrawalId);
    // Settled: the books already paid it (amount and fee), nothing to explain.
    if (state === 'SETTLED') continue;
    // A reverted transaction moves no value but still pays its fee.
    const amount = w.state === 'FAILED' ? 0n : w.amount;
    const fee = feesCount ? nonNegative(w.feePaid ?? 0n, `fee of withdrawal ${w.withdrawalId}`) : 0n;
    if (state === 'RELEASED' || state === 'REJECTED') {
      // The books gave the hold back: they will never settle what the chain paid.
      unbookedOutflows.push({ withdrawalId: w.withdrawalId, wallet: w.wallet, txHash: w.txHash, amount: amount + fee, ledgerState: state });
      continue;
    }
    inFlight += amount;
    fees += fee;
    inFlightItems.push({ withdrawalId: w.withdrawalId, wallet: w.wallet, txHash: w.txHash, amount, fee, includedHeight: w.includedHeight, ledgerState: state ?? 'UNKNOWN' });
  }

  const pendingDepositItems: PendingDepositItem[] = [];
  const seenDeposits = new Set<string>();
  let pendingDeposits = 0n;
  for (const d of snapshot.deposits) {
    if (seenDeposits.has(d.depositId)) continue;
    seenDeposits.add(d.depositId);
    nonNegative(d.amount, `amount of deposit ${d.depositId}`);
    if (d.blockHeight > snapshot.blockHeight) continue; // not in the balances read
    const state = ledger.deposits.get(d.depositId);
    // Credited (or its reversal refused): already in the custodial balance of the books.
    if (state === 'CREDITED' || state === 'REVERSAL_REFUSED') continue;
    pendingDeposits += d.amount;
    pendingDepositItems.push({ depositId: d.depositId, address: d.address, amount: d.amount, chainState: d.state });
  }

  const expectedChainBalance = ledgerBalance - inFlight - fees + pendingDeposits;
  const unexplained = chainBalance - expectedChainBalance;
  return {
    asset: ledger.asset,
    ledgerBalance,
    chainBalance,
    inFlight,
    fees,
    pendingDeposits,
    expectedChainBalance,
    unexplained,
    outcome: unexplained === 0n ? 'BALANCED' : 'DRIFT',
    inFlightItems,
    pendingDepositItems,
    unbookedOutflows,
  };
}

/** The evidence of a run as JSON-safe values (amounts as decimal strings). */
export function evidenceOf(snapshot: ChainSnapshot, c: Classification): Record<string, unknown> {
  const s = (v: bigint): string => v.toString();
  return {
    chain: snapshot.chain,
    asset: snapshot.asset,
    block: { height: s(snapshot.blockHeight), hash: snapshot.blockHash },
    ledgerBalance: s(c.ledgerBalance),
    chainBalance: s(c.chainBalance),
    inFlight: s(c.inFlight),
    fees: s(c.fees),
    pendingDeposits: s(c.pendingDeposits),
    expectedChainBalance: s(c.expectedChainBalance),
    unexplained: s(c.unexplained),
    addresses: snapshot.addresses.map((a) => ({ address: a.address, walletId: a.walletId, role: a.role, balance: s(a.balance) })),
    inFlightWithdrawals: c.inFlightItems.map((w) => ({ withdrawalId: w.withdrawalId, wallet: w.wallet, txHash: w.txHash, amount: s(w.amount), fee: s(w.fee), includedHeight: s(w.includedHeight), ledgerState: w.ledgerState })),
    uncreditedDeposits: c.pendingDepositItems.map((d) => ({ depositId: d.depositId, address: d.address, amount: s(d.amount), chainState: d.chainState })),
    unbookedOutflows: c.unbookedOutflows.map((w) => ({ withdrawalId: w.withdrawalId, wallet: w.wallet, txHash: w.txHash, amount: s(w.amount), ledgerState: w.ledgerState })),
  };
}
