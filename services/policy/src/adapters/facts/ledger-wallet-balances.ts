// The hot-wallet monitor's balance source: the ledger's LedgerService.GetWalletBalances over
// grpc-js (the same client and channel as the hold lookup). Any error or a malformed amount
// rejects: the round is skipped (never "balance 0").
import { Metadata } from '@grpc/grpc-js';
import type { GetWalletBalancesResponse, LedgerServiceClient } from '@custody/contracts';
import type { WalletBalanceFact, WalletBalanceSource } from '../../application/treasury.js';

const SIGNED_AMOUNT = /^-?(0|[1-9][0-9]{0,77})$/;

export function walletBalanceFacts(res: GetWalletBalancesResponse, asset: string): WalletBalanceFact[] {
  return res.balances
    .filter((b) => b.asset === asset && b.walletId !== '')
    .map((b) => {
      if (!SIGNED_AMOUNT.test(b.available)) throw new Error(`ledger reported a malformed balance for wallet ${b.walletId}`);
      return { walletId: b.walletId, chain: b.chain, available: BigInt(b.available) };
    });
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
  };
}
