// ChainQueryService over grpc-js: the read-only custodial balance snapshot the ledger's
// reconciliation compares its books with (docs/chain-adapter.md "Query API"). Amounts are
// decimal strings; heights are uint64 (strings in TypeScript).
import { status } from '@grpc/grpc-js';
import { AddressRole, ChainDepositState, ChainQueryServiceService, InFlightState, timestampFromDate, type ChainQueryServiceServer } from '@custody/contracts';
import { isDomainError, unaryHandler, type GrpcCodeMap, type Logger } from '@custody/platform';
import type { CustodialSnapshotReader, InFlightState as ViewState } from './custodial-snapshot.js';
import type { AddressRole as ViewRole } from './custodial-addresses.js';

export { ChainQueryServiceService };

export const CHAIN_QUERY_ERROR_DOMAIN = 'custody.chain';
export const CHAIN_QUERY_ERROR_CODES: GrpcCodeMap = Object.freeze({
  ASSET_NOT_SERVED: status.INVALID_ARGUMENT,
  TOO_MANY_WITHDRAWAL_IDS: status.INVALID_ARGUMENT,
  SNAPSHOT_UNAVAILABLE: status.UNAVAILABLE,
});

const ROLE: Readonly<Record<ViewRole, AddressRole>> = {
  'hot-wallet': AddressRole.ADDRESS_ROLE_HOT_WALLET,
  deposit: AddressRole.ADDRESS_ROLE_DEPOSIT,
  custody: AddressRole.ADDRESS_ROLE_CUSTODY,
};

const STATE: Readonly<Record<ViewState, InFlightState>> = {
  SIGNED: InFlightState.IN_FLIGHT_STATE_SIGNED,
  BROADCAST: InFlightState.IN_FLIGHT_STATE_BROADCAST,
  CONFIRMED: InFlightState.IN_FLIGHT_STATE_CONFIRMED,
  FINAL: InFlightState.IN_FLIGHT_STATE_FINAL,
  FAILED: InFlightState.IN_FLIGHT_STATE_FAILED,
};

const UINT64 = /^[0-9]{1,20}$/;

export function createChainQueryService(deps: { readonly reader: CustodialSnapshotReader; readonly logger: Logger; readonly clock: () => Date }): ChainQueryServiceServer {
  const options = {
    codeMap: CHAIN_QUERY_ERROR_CODES,
    domain: CHAIN_QUERY_ERROR_DOMAIN,
    onError: (err: unknown) =>
      isDomainError(err) ? deps.logger.warn({ code: err.code, err: err.cause }, 'custodial balance snapshot refused') : deps.logger.error({ err }, 'custodial balance snapshot failed'),
  };
  return {
    getCustodialBalances: unaryHandler(async (req) => {
      const window = UINT64.test(req.finalDepositWindowBlocks) ? BigInt(req.finalDepositWindowBlocks) : 0n;
      const s = await deps.reader.snapshot({ asset: req.asset, withdrawalIds: req.withdrawalIds, finalDepositWindow: window });
      return {
        chain: s.chain,
        asset: s.asset,
        blockHeight: s.blockHeight.toString(),
        blockHash: s.blockHash,
        addresses: s.balances.map((b) => ({ address: b.address, walletId: b.walletId, balance: b.balance.toString(), role: ROLE[b.role] })),
        inFlightWithdrawals: s.inFlight.map((w) => ({
          withdrawalId: w.withdrawalId,
          amount: w.amount.toString(),
          feePaid: w.feePaid === undefined ? '' : w.feePaid.toString(),
          feeCap: w.feeCap.toString(),
          state: STATE[w.state],
          wallet: w.wallet,
          txHash: w.txHash,
          includedHeight: w.includedHeight.toString(),
          includedAtSnapshot: w.includedAtSnapshot,
          minedHeight: w.minedHeight.toString(),
        })),
        deposits: s.deposits.map((d) => ({
          depositId: d.depositId,
          address: d.address,
          amount: d.amount.toString(),
          state: d.state === 'FINAL' ? ChainDepositState.CHAIN_DEPOSIT_STATE_FINAL : ChainDepositState.CHAIN_DEPOSIT_STATE_PENDING,
          blockHeight: d.blockHeight.toString(),
        })),
        observedAt: timestampFromDate(deps.clock()),
        addressSource: s.addressSource,
      };
    }, options),
  };
}
