// LedgerService over grpc-js (read API): balances, account history and a withdrawal's hold
// (read-only; an unknown withdrawal answers state NONE, not NOT_FOUND). Amounts are decimal
// strings; a history line's amount is signed credit-positive (as the proto documents), i.e.
// the opposite of the journal's debit-positive convention.
import { status } from '@grpc/grpc-js';
import { CustodialTier, EntryKind, LedgerServiceService, TransferBookingState, WithdrawalHoldState, timestampFromDate, timestampToMillis, type LedgerServiceServer } from '@custody/contracts';
import { isDomainError, unaryHandler, type GrpcCodeMap, type Logger } from '@custody/platform';
import type { CustodialBalanceView, LedgerQueries } from '../../application/queries.js';
import type { LiabilitiesProofs } from '../../application/liabilities.js';
import type { LedgerStatements } from '../../application/statements.js';
import { REPORT_ERROR_CODES, createReportHandlers, mtlsOperator, type OperatorAuthenticator } from './ledger-reports.js';
import type { TransferState, WithdrawalState } from '../../application/ports.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { EntryKind as DomainKind } from '../../domain/postings.js';

export { LedgerServiceService };

export const ERROR_DOMAIN = 'custody.ledger';
export const LEDGER_ERROR_CODES: GrpcCodeMap = Object.freeze({
  FIELD_REQUIRED: status.INVALID_ARGUMENT,
  FIELD_TOO_LONG: status.INVALID_ARGUMENT,
  PAGE_SIZE_INVALID: status.INVALID_ARGUMENT,
  PAGE_TOKEN_INVALID: status.INVALID_ARGUMENT,
  ASSET_INVALID: status.INVALID_ARGUMENT,
});

const TIER: Readonly<Record<CustodialBalanceView['tier'], CustodialTier>> = {
  hot: CustodialTier.CUSTODIAL_TIER_HOT,
  warm: CustodialTier.CUSTODIAL_TIER_WARM,
  cold: CustodialTier.CUSTODIAL_TIER_COLD,
  deposits: CustodialTier.CUSTODIAL_TIER_DEPOSITS,
  'legacy-omnibus': CustodialTier.CUSTODIAL_TIER_LEGACY_OMNIBUS,
  unregistered: CustodialTier.CUSTODIAL_TIER_UNREGISTERED,
};

const KIND: Readonly<Record<DomainKind, EntryKind>> = {
  DEPOSIT: EntryKind.ENTRY_KIND_DEPOSIT,
  DEPOSIT_REVERSAL: EntryKind.ENTRY_KIND_DEPOSIT_REVERSAL,
  HOLD: EntryKind.ENTRY_KIND_HOLD,
  RELEASE: EntryKind.ENTRY_KIND_RELEASE,
  SETTLE: EntryKind.ENTRY_KIND_SETTLE,
  REVERSAL: EntryKind.ENTRY_KIND_REVERSAL,
  TRANSFER: EntryKind.ENTRY_KIND_TRANSFER,
};

const HOLD_STATE: Readonly<Record<WithdrawalState, WithdrawalHoldState>> = {
  HELD: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_HELD,
  RELEASED: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_RELEASED,
  SETTLED: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_SETTLED,
  REJECTED: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_REJECTED,
};

/** A treasury transfer's booking as the transfer store has it (undefined: not known). */
export type TransferBookingReader = (transferId: string) => Promise<{ readonly state: TransferState; readonly settleEntryId: string | null } | undefined>;

const TRANSFER_ID_MAX = 200;

export function createLedgerService(deps: {
  readonly queries: LedgerQueries;
  /** GetTransferBooking (the policy's hot-wallet monitor). */
  readonly transferBooking: TransferBookingReader;
  readonly statements: LedgerStatements;
  readonly liabilities: LiabilitiesProofs;
  /** Who may build liabilities snapshots (default: the mTLS client certificate CN). */
  readonly operator?: OperatorAuthenticator;
  readonly logger: Logger;
  readonly clock: () => Date;
}): Omit<LedgerServiceServer, 'reconcile'> {
  // Reconcile (operators) is served by reconcile-rpc.ts, merged in ledger.module.ts.
  const options = {
    codeMap: { ...LEDGER_ERROR_CODES, ...REPORT_ERROR_CODES },
    domain: ERROR_DOMAIN,
    onError: (err: unknown) => (isDomainError(err) ? deps.logger.info({ code: err.code }, 'ledger query refused') : deps.logger.error({ err }, 'ledger query failed')),
  };
  return {
    ...createReportHandlers({ statements: deps.statements, liabilities: deps.liabilities, operator: deps.operator ?? mtlsOperator, clock: deps.clock, options }),
    getBalances: unaryHandler(async (req) => {
      const asOf = deps.clock();
      const balances = await deps.queries.balances(req.account, req.assets);
      return {
        account: req.account,
        balances: balances.map((b) => ({ asset: b.asset, available: b.available.toString(), held: b.held.toString(), total: (b.available + b.held).toString() })),
        asOf: timestampFromDate(asOf),
      };
    }, options),
    listAccountHistory: unaryHandler(async (req) => {
      const page = await deps.queries.history(req.account, req.asset, req.pageSize, req.pageToken);
      return {
        entries: page.lines.map((l) => ({
          entryId: l.entryId,
          account: l.account,
          asset: l.asset,
          amount: (-l.amount).toString(),
          kind: KIND[l.kind],
          referenceId: l.referenceId,
          correlationId: l.correlationId,
          bookedAt: timestampFromDate(l.bookedAt),
          bucket: l.bucket,
          sequence: l.sequence.toString(),
        })),
        nextPageToken: page.nextPageToken,
      };
    }, options),
    getWalletBalances: unaryHandler(async (req) => {
      const asOf = deps.clock();
      const { balances, totals } = await deps.queries.walletBalances(req.asset);
      return {
        balances: balances.map((b) => ({ account: b.account, asset: b.asset, walletId: b.walletId, tier: TIER[b.tier], chain: b.chain, address: b.address, available: b.available.toString() })),
        totals: totals.map((t) => ({ asset: t.asset, total: t.total.toString() })),
        asOf: timestampFromDate(asOf),
      };
    }, options),
    getOutflow: unaryHandler(async (req) => {
      const asOf = deps.clock();
      const o = await deps.queries.outflow({ clientId: req.clientId, customerAccount: req.customerAccount, asset: req.asset, since: sinceOf(req.since), excludeWithdrawalId: req.excludeWithdrawalId });
      return { account: o.account, asset: o.asset, since: timestampFromDate(o.since), total: o.total.toString(), withdrawals: o.withdrawals, asOf: timestampFromDate(asOf) };
    }, options),
    getTransferBooking: unaryHandler(async (req) => {
      if (req.transferId === '') throw new InvalidArgumentError('transfer_id', 'FIELD_REQUIRED', 'is required');
      if (req.transferId.length > TRANSFER_ID_MAX) throw new InvalidArgumentError('transfer_id', 'FIELD_TOO_LONG', `longer than ${TRANSFER_ID_MAX}`);
      const asOf = deps.clock();
      const t = await deps.transferBooking(req.transferId);
      // SETTLED without its entry cannot happen (one UPDATE sets both); it is reported PENDING, never BOOKED.
      const booked = t?.state === 'SETTLED' && t.settleEntryId !== null;
      const state = !t ? TransferBookingState.TRANSFER_BOOKING_STATE_NOT_KNOWN : booked ? TransferBookingState.TRANSFER_BOOKING_STATE_BOOKED : TransferBookingState.TRANSFER_BOOKING_STATE_PENDING;
      return { transferId: req.transferId, state, entryId: booked ? (t.settleEntryId ?? '') : '', asOf: timestampFromDate(asOf) };
    }, options),
    getWithdrawalHold: unaryHandler(async (req) => {
      const asOf = deps.clock();
      const hold = await deps.queries.withdrawalHold(req.withdrawalId);
      if (!hold) {
        return { withdrawalId: req.withdrawalId, state: WithdrawalHoldState.WITHDRAWAL_HOLD_STATE_NONE, asset: '', amount: '', customerAccount: '', availableAfterHold: '', holdEntryId: '', asOf: timestampFromDate(asOf) };
      }
      return {
        withdrawalId: hold.withdrawalId,
        state: HOLD_STATE[hold.state],
        asset: hold.asset,
        amount: hold.amount.toString(),
        customerAccount: hold.account,
        availableAfterHold: hold.available.toString(),
        holdEntryId: hold.holdEntryId,
        asOf: timestampFromDate(asOf),
      };
    }, options),
  };
}

/** GetOutflow's `since`, rounded down to the millisecond (an inclusive start: rounding down counts more, never less). */
function sinceOf(ts: { seconds: string; nanos: number } | undefined): Date | undefined {
  if (!ts) return undefined;
  let ms: number;
  try {
    ms = timestampToMillis(ts);
  } catch {
    throw new InvalidArgumentError('since', 'TIMESTAMP_INVALID', 'is not a valid timestamp');
  }
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('since', 'TIMESTAMP_INVALID', 'is out of range');
  return d;
}
