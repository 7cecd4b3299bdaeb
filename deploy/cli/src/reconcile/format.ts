// Formatting of a `custody reconcile` answer (LedgerService/Reconcile, docs/ledger.md
// "Reconciliation with the chain"). Amounts stay decimal strings of base units (bigint on the
// wire), never floats; a figure that is not an integer string is refused, not printed. Pure.
import { CustodialTier, ReconciliationOutcome, type ReconciliationResult, type WalletBalance } from '@custody/contracts';
import { CliError, ExitCode } from '../types.js';

export type OutcomeName = 'BALANCED' | 'DRIFT' | 'FAILED';

export function outcomeName(o: ReconciliationOutcome): OutcomeName {
  switch (o) {
    case ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED:
      return 'BALANCED';
    case ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT:
      return 'DRIFT';
    case ReconciliationOutcome.RECONCILIATION_OUTCOME_FAILED:
      return 'FAILED';
    default:
      // Fail closed: an outcome this CLI does not know is never shown as balanced.
      throw new CliError(ExitCode.FAILED, `the ledger answered an unknown reconciliation outcome (${String(o)})`, 'UNKNOWN_OUTCOME');
  }
}

/** Exit code of a set of runs: 0 only when every run is BALANCED. */
export function exitCodeOf(outcomes: readonly OutcomeName[]): ExitCode {
  return outcomes.length > 0 && outcomes.every((o) => o === 'BALANCED') ? ExitCode.OK : ExitCode.FAILED;
}

const INTEGER = /^-?\d+$/;

/** A base-unit amount as the ledger sent it (a decimal integer string; "" → "0" only for a FAILED run's empty comparison). */
export function amountOf(field: string, value: string, allowEmpty: boolean): string {
  if (value === '' && allowEmpty) return '';
  if (!INTEGER.test(value)) throw new CliError(ExitCode.FAILED, `the ledger answered a malformed ${field}: not a base-unit integer`, 'MALFORMED_ANSWER');
  return BigInt(value).toString();
}

export interface RunJson {
  readonly runId: string;
  readonly asset: string;
  readonly chain: string;
  readonly outcome: OutcomeName;
  readonly snapshot: { readonly blockHeight: string; readonly blockHash: string } | null;
  readonly ledgerBalance: string;
  readonly chainBalance: string;
  readonly inFlightWithdrawals: string;
  readonly fees: string;
  readonly pendingDeposits: string;
  readonly unexplained: string;
  readonly incidentId: string | null;
  readonly failureReason: string | null;
  readonly startedAt: string | null;
}

/** Per-wallet book balances (GetWalletBalances): the custodial accounts the run compared. */
export interface WalletJson {
  readonly account: string;
  readonly walletId: string;
  readonly tier: string;
  readonly available: string;
}

const FIGURES = ['ledgerBalance', 'chainBalance', 'inFlightWithdrawals', 'fees', 'pendingDeposits', 'unexplained'] as const;

export function runToJson(r: ReconciliationResult): RunJson {
  const outcome = outcomeName(r.outcome);
  const compared = outcome !== 'FAILED';
  const figures = Object.fromEntries(FIGURES.map((f) => [f, amountOf(f, r[f], !compared)])) as Record<(typeof FIGURES)[number], string>;
  if (outcome === 'BALANCED' && figures.unexplained !== '0') throw new CliError(ExitCode.FAILED, 'the ledger answered BALANCED with an unexplained amount', 'MALFORMED_ANSWER');
  const hasBlock = r.blockHash !== '' || (r.blockHeight !== '' && r.blockHeight !== '0');
  if (hasBlock && !INTEGER.test(r.blockHeight)) throw new CliError(ExitCode.FAILED, 'the ledger answered a malformed block height', 'MALFORMED_ANSWER');
  const startedAt = r.startedAt ? new Date(Number(r.startedAt.seconds) * 1000 + Math.floor(r.startedAt.nanos / 1e6)).toISOString() : null;
  return {
    runId: r.runId,
    asset: r.asset,
    chain: r.chain,
    outcome,
    snapshot: hasBlock ? { blockHeight: r.blockHeight, blockHash: r.blockHash } : null,
    ...figures,
    incidentId: r.incidentId || null,
    failureReason: r.failureReason || null,
    startedAt,
  };
}

const TIERS: Readonly<Record<number, string>> = {
  [CustodialTier.CUSTODIAL_TIER_HOT]: 'hot',
  [CustodialTier.CUSTODIAL_TIER_WARM]: 'warm',
  [CustodialTier.CUSTODIAL_TIER_COLD]: 'cold',
  [CustodialTier.CUSTODIAL_TIER_DEPOSITS]: 'deposits',
  [CustodialTier.CUSTODIAL_TIER_LEGACY_OMNIBUS]: 'legacy-omnibus',
  [CustodialTier.CUSTODIAL_TIER_UNREGISTERED]: 'unregistered',
};

export function walletToJson(w: WalletBalance): WalletJson {
  return { account: w.account, walletId: w.walletId, tier: TIERS[w.tier] ?? 'unspecified', available: amountOf(`balance of ${w.account}`, w.available, false) };
}

function rows(pairs: readonly [string, string][]): string[] {
  const width = Math.max(...pairs.map(([a]) => a.length));
  return pairs.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`);
}

export function formatRun(run: RunJson, wallets: readonly WalletJson[]): string {
  const lines = [`${run.asset} on ${run.chain}: ${run.outcome}  (run ${run.runId}${run.startedAt ? `, started ${run.startedAt}` : ''})`];
  if (run.snapshot) lines.push(`  snapshot block ${run.snapshot.blockHeight} ${run.snapshot.blockHash}`);
  if (run.outcome === 'FAILED') lines.push(`  nothing was compared: ${run.failureReason ?? 'no reason given'}`);
  else
    lines.push(
      ...rows([
        ['ledger balance', run.ledgerBalance],
        ['chain balance', run.chainBalance],
        ['in-flight withdrawals', run.inFlightWithdrawals],
        ['fees', run.fees],
        ['pending deposits', run.pendingDeposits],
        ['unexplained', run.unexplained],
      ]),
    );
  if (run.incidentId) lines.push(`  incident ${run.incidentId} (custody.incident.raised.v1)`);
  if (wallets.length > 0) {
    lines.push('  books per wallet (base units):');
    lines.push(...rows(wallets.map((w) => [`  ${w.account} [${w.tier}]`, w.available])));
  }
  return lines.join('\n');
}
