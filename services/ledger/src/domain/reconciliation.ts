// Reconciliation of the books with the chain (ISO/TR 23576 8.2.3, C-8.2.3-d), as a pure
// function: no I/O, bigint only.
//
// The ledger's custodial balance L = custodian:<asset> (available). The chain's C = the sum of
// every custodial address's balance at ONE block. They differ legitimately by:
//   - in-flight withdrawals: in a block at or below the snapshot (the coins are gone on chain)
//     but not settled in the books yet (the ledger settles at FINAL): amount + fee paid;
//   - pending deposits: in a block at or below the snapshot but not credited yet (the ledger
//     credits at FINAL): + amount.
//   - settled above the snapshot: the books settled it (FINAL) but the chain-adapter reports its
//     transaction mined in a block ABOVE the snapshot (the books were read after the snapshot):
//     the balances read still hold the coins, the books no longer do. The books as of the
//     snapshot block are the books now plus what that settlement entry took from the custodial
//     accounts (amount + fee): + settled.
// expected chain = L − in-flight − fees + pending + settled; unexplained = C − expected. Anything else —
// an outflow nobody approved, a missed or doubled posting — is the unexplained remainder.
//
// Per wallet: L is the sum over every custodian:<asset>% account (the legacy omnibus, the
// deposits account, one account per wallet). Where the snapshot names a wallet id for an
// address, the same comparison is made for that wallet alone (its account vs its addresses,
// its in-flight withdrawals and fees, deposits to its addresses); what no wallet id names
// (addresses without one, the legacy omnibus, the deposits account, wallets the chain does not
// report) is compared as one unattributed remainder. The per-wallet remainders sum to the
// asset's unexplained amount; a run drifts when any of them is not 0.
import { LedgerInvariantError } from './errors.js';

export type LedgerWithdrawalState = 'HELD' | 'RELEASED' | 'SETTLED' | 'REJECTED';
export type LedgerDepositState = 'CREDITED' | 'REVERSED' | 'REVERSAL_REFUSED';

/** What the books say, read in one database snapshot. */
export interface LedgerPosition {
  readonly asset: string;
  /** Sum of every custodian:<asset>% account's available (debit-normal: what the custodian holds). */
  readonly custodianBalance: bigint;
  /** Per-wallet accounts custodian:<asset>:<wallet_id> (may be negative), by wallet id. */
  readonly walletBalances: ReadonlyMap<string, bigint>;
  /** Ledger state of the withdrawals the chain snapshot names (absent: the ledger has not seen it). */
  readonly withdrawals: ReadonlyMap<string, LedgerWithdrawalState>;
  /** Ledger state of the deposits the chain snapshot names (absent: not credited). */
  readonly deposits: ReadonlyMap<string, LedgerDepositState>;
  /**
   * For the SETTLED withdrawals (and settled treasury transfers) the chain snapshot names: what
   * their settlement entry did to the asset's custodial accounts, by wallet id ('' = the legacy
   * omnibus custodian:<asset>), credit-negative (a withdrawal of x with fee f from W: W → −(x+f)).
   */
  readonly settlements?: ReadonlyMap<string, ReadonlyMap<string, bigint>>;
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
  /** Height of the block the node has the transaction in, also above the snapshot; 0n (or absent) when not mined. */
  readonly minedHeight?: bigint;
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

/** Settled in the books, in a block above the snapshot on chain: what the books took, added back. */
export interface SettledAboveSnapshotItem {
  readonly withdrawalId: string;
  readonly txHash: string;
  /** The adapter's state. */
  readonly chainState: string;
  /** Height of the block the transaction is in (above the snapshot). */
  readonly minedHeight: bigint;
  /** What the settlement took from the custodial accounts (> 0 for a withdrawal: amount + fee). */
  readonly amount: bigint;
  /** The same by wallet id ('' = legacy omnibus). */
  readonly byWallet: ReadonlyMap<string, bigint>;
}

/** A withdrawal the chain paid that the books will never settle (released or refused): part of the unexplained remainder. */
export interface UnbookedOutflow {
  readonly withdrawalId: string;
  readonly wallet: string;
  readonly txHash: string;
  readonly amount: bigint;
  readonly ledgerState: LedgerWithdrawalState;
}

/** The comparison of one wallet ('' = what no wallet id names). */
export interface WalletComparison {
  readonly walletId: string;
  readonly ledgerBalance: bigint;
  readonly chainBalance: bigint;
  readonly inFlight: bigint;
  readonly fees: bigint;
  readonly pendingDeposits: bigint;
  readonly settledAboveSnapshot: bigint;
  readonly unexplained: bigint;
}

export interface Classification {
  readonly asset: string;
  readonly ledgerBalance: bigint;
  readonly chainBalance: bigint;
  readonly inFlight: bigint;
  readonly fees: bigint;
  readonly pendingDeposits: bigint;
  /** Settlements booked whose transaction is above the snapshot block (the books as of the snapshot still hold them). */
  readonly settledAboveSnapshot: bigint;
  /** ledgerBalance − inFlight − fees + pendingDeposits + settledAboveSnapshot. */
  readonly expectedChainBalance: bigint;
  /** chainBalance − expectedChainBalance: > 0 more coins than booked, < 0 coins missing. */
  readonly unexplained: bigint;
  /** DRIFT when the asset or any wallet has an unexplained amount. */
  readonly outcome: 'BALANCED' | 'DRIFT';
  /** Named wallets (sorted by id), then the unattributed remainder (walletId ''). */
  readonly wallets: readonly WalletComparison[];
  /** How many of `wallets` have unexplained ≠ 0. */
  readonly mismatchedWallets: number;
  /** Stable digest of the drift ('' when balanced): same drift, same key. */
  readonly driftKey: string;
  readonly inFlightItems: readonly InFlightItem[];
  readonly pendingDepositItems: readonly PendingDepositItem[];
  readonly unbookedOutflows: readonly UnbookedOutflow[];
  readonly settledAboveSnapshotItems: readonly SettledAboveSnapshotItem[];
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
  const settledAboveSnapshotItems: SettledAboveSnapshotItem[] = [];
  let settledAboveSnapshot = 0n;
  const seenWithdrawals = new Set<string>();
  let inFlight = 0n;
  let fees = 0n;
  for (const w of snapshot.withdrawals) {
    if (seenWithdrawals.has(w.withdrawalId)) continue;
    seenWithdrawals.add(w.withdrawalId);
    nonNegative(w.amount, `amount of withdrawal ${w.withdrawalId}`);
    const state = ledger.withdrawals.get(w.withdrawalId);
    if (!w.includedAtSnapshot) {
      // Mined in a block ABOVE the snapshot (the node's receipt) and already settled in the
      // books: the books as of the snapshot still held it. A settlement of a transaction in no
      // block (or a reverted one) stays unexplained.
      const lines = ledger.settlements?.get(w.withdrawalId);
      const minedAbove = (w.minedHeight ?? 0n) > snapshot.blockHeight;
      if (state === 'SETTLED' && minedAbove && w.state !== 'FAILED' && lines !== undefined) {
        let taken = 0n;
        const byWallet = new Map<string, bigint>();
        for (const [wallet, delta] of lines) {
          taken -= delta;
          byWallet.set(wallet, (byWallet.get(wallet) ?? 0n) - delta);
        }
        settledAboveSnapshot += taken;
        settledAboveSnapshotItems.push({ withdrawalId: w.withdrawalId, txHash: w.txHash, chainState: w.state, minedHeight: w.minedHeight ?? 0n, amount: taken, byWallet });
      }
      // Otherwise not in a block at the snapshot: the chain has not paid anything yet.
      continue;
    }
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

  const expectedChainBalance = ledgerBalance - inFlight - fees + pendingDeposits + settledAboveSnapshot;
  const unexplained = chainBalance - expectedChainBalance;

  // Per wallet, where the snapshot names wallet ids.
  const walletOfAddress = new Map<string, string>();
  for (const a of snapshot.addresses) if (a.walletId !== '') walletOfAddress.set(a.address.toLowerCase(), a.walletId);
  const named = [...new Set(walletOfAddress.values())].sort();
  const groupOf = (addressOrWallet: string): string => walletOfAddress.get(addressOrWallet.toLowerCase()) ?? (named.includes(addressOrWallet) ? addressOrWallet : '');
  const zero = (walletId: string) => ({ walletId, ledgerBalance: 0n, chainBalance: 0n, inFlight: 0n, fees: 0n, pendingDeposits: 0n, settledAboveSnapshot: 0n });
  const groups = new Map(named.map((id) => [id, { ...zero(id), ledgerBalance: ledger.walletBalances.get(id) ?? 0n }]));
  for (const a of snapshot.addresses) {
    const g = groups.get(groupOf(a.address));
    if (g) g.chainBalance += a.balance;
  }
  for (const w of inFlightItems) {
    const g = groups.get(groupOf(w.wallet));
    if (g) {
      g.inFlight += w.amount;
      g.fees += w.fee;
    }
  }
  for (const d of pendingDepositItems) {
    const g = groups.get(groupOf(d.address));
    if (g) g.pendingDeposits += d.amount;
  }
  // The books' own accounts say which wallet a settlement took from (wallet ids, not addresses).
  for (const item of settledAboveSnapshotItems) {
    for (const [wallet, taken] of item.byWallet) {
      const g = wallet === '' ? undefined : groups.get(wallet);
      if (g) g.settledAboveSnapshot += taken;
    }
  }
  const withUnexplained = (g: ReturnType<typeof zero>): WalletComparison => ({
    ...g,
    unexplained: g.chainBalance - (g.ledgerBalance - g.inFlight - g.fees + g.pendingDeposits + g.settledAboveSnapshot),
  });
  const perWallet = [...groups.values()].map(withUnexplained);
  const sum = (f: (w: WalletComparison) => bigint): bigint => perWallet.reduce((acc, w) => acc + f(w), 0n);
  const rest = withUnexplained({
    walletId: '',
    ledgerBalance: ledgerBalance - sum((w) => w.ledgerBalance),
    chainBalance: chainBalance - sum((w) => w.chainBalance),
    inFlight: inFlight - sum((w) => w.inFlight),
    fees: fees - sum((w) => w.fees),
    pendingDeposits: pendingDeposits - sum((w) => w.pendingDeposits),
    settledAboveSnapshot: settledAboveSnapshot - sum((w) => w.settledAboveSnapshot),
  });
  const wallets = [...perWallet, rest];
  const drifting = wallets.filter((w) => w.unexplained !== 0n);
  const outcome = unexplained === 0n && drifting.length === 0 ? 'BALANCED' : 'DRIFT';
  const driftKey = outcome === 'BALANCED' ? '' : [`total=${unexplained}`, ...drifting.map((w) => `${w.walletId === '' ? '-' : w.walletId}=${w.unexplained}`)].join(',');
  return {
    asset: ledger.asset,
    ledgerBalance,
    chainBalance,
    inFlight,
    fees,
    pendingDeposits,
    settledAboveSnapshot,
    expectedChainBalance,
    unexplained,
    outcome,
    wallets,
    mismatchedWallets: drifting.length,
    driftKey,
    inFlightItems,
    pendingDepositItems,
    unbookedOutflows,
    settledAboveSnapshotItems,
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
    settledAboveSnapshot: s(c.settledAboveSnapshot),
    expectedChainBalance: s(c.expectedChainBalance),
    unexplained: s(c.unexplained),
    mismatchedWallets: c.wallets.filter((w) => w.unexplained !== 0n).map((w) => (w.walletId === '' ? '(unattributed)' : w.walletId)),
    wallets: c.wallets.map((w) => ({
      walletId: w.walletId === '' ? '(unattributed)' : w.walletId,
      ledgerBalance: s(w.ledgerBalance),
      chainBalance: s(w.chainBalance),
      inFlight: s(w.inFlight),
      fees: s(w.fees),
      pendingDeposits: s(w.pendingDeposits),
      settledAboveSnapshot: s(w.settledAboveSnapshot),
      unexplained: s(w.unexplained),
    })),
    addresses: snapshot.addresses.map((a) => ({ address: a.address, walletId: a.walletId, role: a.role, balance: s(a.balance) })),
    inFlightWithdrawals: c.inFlightItems.map((w) => ({ withdrawalId: w.withdrawalId, wallet: w.wallet, txHash: w.txHash, amount: s(w.amount), fee: s(w.fee), includedHeight: s(w.includedHeight), ledgerState: w.ledgerState })),
    uncreditedDeposits: c.pendingDepositItems.map((d) => ({ depositId: d.depositId, address: d.address, amount: s(d.amount), chainState: d.chainState })),
    unbookedOutflows: c.unbookedOutflows.map((w) => ({ withdrawalId: w.withdrawalId, wallet: w.wallet, txHash: w.txHash, amount: s(w.amount), ledgerState: w.ledgerState })),
    settledAboveSnapshotWithdrawals: c.settledAboveSnapshotItems.map((w) => ({ withdrawalId: w.withdrawalId, txHash: w.txHash, chainState: w.chainState, minedHeight: s(w.minedHeight), amount: s(w.amount) })),
  };
}
