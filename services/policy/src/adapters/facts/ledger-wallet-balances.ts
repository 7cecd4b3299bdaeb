// The hot-wallet monitor's ledger facts: LedgerService.GetWalletBalances and GetTransferBooking over
// grpc-js (the same client and channel as the hold lookup). Any error or a malformed amount
// rejects: the round is skipped (never "balance 0").
import { Metadata } from '@grpc/grpc-js';
import { TransferBookingState, type GetTransferBookingResponse, type GetWalletBalancesResponse, type LedgerServiceClient } from '@custody/contracts';
import type { WalletBalanceFact, WalletBalanceSource } from '../../application/treasury.js';
import type { TransferBooking } from '../../domain/treasury.js';

const SIGNED_AMOUNT = /^-?(0|[1-9][0-9]{0,77})$/;

export function walletBalanceFacts(res: GetWalletBalancesResponse, asset: string): WalletBalanceFact[] {
  return res.balances
    .filter((b) => b.asset === asset && b.walletId !== '')
    .map((b) => {
      if (!SIGNED_AMOUNT.test(b.available)) throw new Error(`ledger reported a malformed balance for wallet ${b.walletId}`);
      return { walletId: b.walletId, chain: b.chain, available: BigInt(b.available) };
    });
}

/** GetTransferBooking's answer for `transferId`; anything else (another id, UNSPECIFIED, an unknown value) rejects. */
export function transferBookingOf(res: GetTransferBookingResponse, transferId: string): TransferBooking {
  if (res.transferId !== transferId) throw new Error('ledger answered GetTransferBooking for another transfer');
  switch (res.state) {
    case TransferBookingState.TRANSFER_BOOKING_STATE_BOOKED:
      return 'booked';
    case TransferBookingState.TRANSFER_BOOKING_STATE_PENDING:
      return 'pending';
    case TransferBookingState.TRANSFER_BOOKING_STATE_NOT_KNOWN:
      return 'not_known';
    default:
      throw new Error(`ledger reported an unknown booking state ${String(res.state)}`);
  }
}

export function grpcWalletBalances(client: LedgerServiceClient, timeoutMs = 2_000): WalletBalanceSource {
  return {
    walletBalances: (asset) =>
      new Promise((resolve, reject) => {
        client.getWalletBalances({ asset }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err) return reject(err);
          try {
            resolve(walletBalanceFacts(res, asset));
          } catch (e) {
            reject(e);
          }
        });
      }),
    transferBooking: (transferId) =>
      new Promise((resolve, reject) => {
        client.getTransferBooking({ transferId }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => {
          if (err) return reject(err);
          try {
            resolve(transferBookingOf(res, transferId));
          } catch (e) {
            reject(e);
          }
        });
      }),
  };
}
