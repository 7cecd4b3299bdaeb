// The chain-adapter's ChainQueryService as the reconciliation's ChainSnapshotSource. One
// client per chain-adapter (one process per chain). Every field of the answer is checked
// (amounts are decimal integers, heights uint64, hash 0x-hex): a malformed answer fails the
// run, it is never compared.
import { Metadata, credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { ChainDepositState, ChainQueryServiceClient, InFlightState, type GetCustodialBalancesResponse } from '@custody/contracts';
import type { ChainSnapshotSource } from '../../application/reconciliation.js';
import type { ChainSnapshot, SnapshotWithdrawal } from '../../domain/reconciliation.js';

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;
const UINT64 = /^(0|[1-9][0-9]{0,19})$/;
const HASH = /^0x[0-9a-f]{64}$/;

const amount = (v: string, field: string): bigint => {
  if (!DECIMAL.test(v)) throw new Error(`chain snapshot: ${field} is not a decimal amount`);
  return BigInt(v);
};
const height = (v: string, field: string): bigint => {
  if (!UINT64.test(v)) throw new Error(`chain snapshot: ${field} is not a block height`);
  return BigInt(v);
};

const STATE: Partial<Record<InFlightState, SnapshotWithdrawal['state']>> = {
  [InFlightState.IN_FLIGHT_STATE_SIGNED]: 'SIGNED',
  [InFlightState.IN_FLIGHT_STATE_BROADCAST]: 'BROADCAST',
  [InFlightState.IN_FLIGHT_STATE_CONFIRMED]: 'CONFIRMED',
  [InFlightState.IN_FLIGHT_STATE_FINAL]: 'FINAL',
  [InFlightState.IN_FLIGHT_STATE_FAILED]: 'FAILED',
};

/** Parses and checks a GetCustodialBalances answer. */
export function snapshotFromResponse(r: GetCustodialBalancesResponse): ChainSnapshot {
  if (!HASH.test(r.blockHash)) throw new Error('chain snapshot: block hash is malformed');
  return {
    chain: r.chain,
    asset: r.asset,
    blockHeight: height(r.blockHeight, 'block_height'),
    blockHash: r.blockHash,
    addresses: r.addresses.map((a, i) => ({ address: a.address, walletId: a.walletId, role: String(a.role), balance: amount(a.balance, `addresses[${i}].balance`) })),
    withdrawals: r.inFlightWithdrawals.map((w, i) => {
      const state = STATE[w.state];
      if (!state) throw new Error(`chain snapshot: in_flight_withdrawals[${i}].state is unknown`);
      return {
        withdrawalId: w.withdrawalId,
        wallet: w.wallet,
        amount: amount(w.amount, `in_flight_withdrawals[${i}].amount`),
        state,
        txHash: w.txHash,
        ...(w.feePaid === '' ? {} : { feePaid: amount(w.feePaid, `in_flight_withdrawals[${i}].fee_paid`) }),
        feeCap: amount(w.feeCap, `in_flight_withdrawals[${i}].fee_cap`),
        includedHeight: height(w.includedHeight, `in_flight_withdrawals[${i}].included_height`),
        includedAtSnapshot: w.includedAtSnapshot,
        // Absent from an older chain-adapter ("0"): nothing is taken as mined above the snapshot.
        minedHeight: w.minedHeight === undefined || w.minedHeight === '' ? 0n : height(w.minedHeight, `in_flight_withdrawals[${i}].mined_height`),
      };
    }),
    deposits: r.deposits.map((d, i) => {
      if (d.state !== ChainDepositState.CHAIN_DEPOSIT_STATE_PENDING && d.state !== ChainDepositState.CHAIN_DEPOSIT_STATE_FINAL) throw new Error(`chain snapshot: deposits[${i}].state is unknown`);
      return {
        depositId: d.depositId,
        address: d.address,
        amount: amount(d.amount, `deposits[${i}].amount`),
        state: d.state === ChainDepositState.CHAIN_DEPOSIT_STATE_FINAL ? ('FINAL' as const) : ('PENDING' as const),
        blockHeight: height(d.blockHeight, `deposits[${i}].block_height`),
      };
    }),
  };
}

export interface ChainQueryEndpoint {
  readonly asset: string;
  readonly address: string;
  readonly credentials?: ChannelCredentials;
}

/** Routes each asset to its chain-adapter; a call has a deadline (default 10 s). */
export class GrpcChainSnapshotSource implements ChainSnapshotSource {
  private readonly clients = new Map<string, ChainQueryServiceClient>();

  constructor(
    endpoints: readonly ChainQueryEndpoint[],
    private readonly options: { readonly timeoutMs?: number; readonly finalDepositWindowBlocks?: bigint } = {},
  ) {
    for (const e of endpoints) this.clients.set(e.asset, new ChainQueryServiceClient(e.address, e.credentials ?? grpcCredentials.createInsecure()));
  }

  snapshot(asset: string, heldWithdrawalIds: readonly string[]): Promise<ChainSnapshot> {
    const client = this.clients.get(asset);
    if (!client) return Promise.reject(new Error(`no chain-adapter configured for ${asset}`));
    return new Promise((resolve, reject) => {
      client.getCustodialBalances(
        { asset, withdrawalIds: [...heldWithdrawalIds], finalDepositWindowBlocks: (this.options.finalDepositWindowBlocks ?? 0n).toString() },
        new Metadata(),
        { deadline: Date.now() + (this.options.timeoutMs ?? 10_000) },
        (err, res) => {
          if (err) return reject(err);
          try {
            resolve(snapshotFromResponse(res));
          } catch (parseErr) {
            reject(parseErr);
          }
        },
      );
    });
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}
