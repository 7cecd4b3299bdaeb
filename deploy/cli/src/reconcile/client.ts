// The ledger's LedgerService (Reconcile, GetWalletBalances) over grpc-js, loaded only when
// `custody reconcile` runs.
import { LedgerServiceClient, type GetWalletBalancesResponse, type ReconcileResponse } from '@custody/contracts';
import { channelCredentials, unaryCaller } from '../service-client.js';
import { formatTarget, type ServerAddress, type Transport } from '../approvals/transport.js';

export interface LedgerApi {
  reconcile(assets: readonly string[]): Promise<ReconcileResponse>;
  walletBalances(asset: string): Promise<GetWalletBalancesResponse>;
  close(): void;
}

export function connectLedger(address: ServerAddress, transport: Transport, timeoutMs: number): LedgerApi {
  const target = formatTarget(address);
  const client = new LedgerServiceClient(target, channelCredentials(transport));
  const unary = unaryCaller(client, target, timeoutMs);
  return {
    reconcile: (assets) => unary<object, ReconcileResponse>('reconcile', { assets: [...assets] }),
    walletBalances: (asset) => unary<object, GetWalletBalancesResponse>('getWalletBalances', { asset }),
    close: () => client.close(),
  };
}
