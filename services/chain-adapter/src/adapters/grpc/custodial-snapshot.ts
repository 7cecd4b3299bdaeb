// One consistent, read-only snapshot of the custodian's on-chain position for the ledger's
// reconciliation (C-8.2.3-d): every balance read at ONE block (by its hash, EIP-1898), that
// block being the top of our own block index (so the deposits and withdrawal inclusions we
// report are complete up to it) and still canonical on the node. Reads only.
import { DomainError } from '@custody/platform';
import type { DataSource } from 'typeorm';
import type { EvmChain } from '../../application/ports.js';
import type { CustodialAddress, CustodialAddressSource } from './custodial-addresses.js';

export type QueryErrorCode = 'ASSET_NOT_SERVED' | 'TOO_MANY_WITHDRAWAL_IDS' | 'SNAPSHOT_UNAVAILABLE';

export class ChainQueryError extends DomainError {
  constructor(code: QueryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ChainQueryError';
  }
}

/** Balance of an address at a block given by hash (eth_getBalance with an EIP-1898 block object). */
export interface BalanceReader {
  balanceAt(address: string, blockHash: string): Promise<bigint>;
}

export type InFlightState = 'SIGNED' | 'BROADCAST' | 'CONFIRMED' | 'FINAL' | 'FAILED';

export interface InFlightWithdrawalView {
  readonly withdrawalId: string;
  readonly wallet: string;
  readonly amount: bigint;
  readonly state: InFlightState;
  readonly txHash: string;
  /** gas used × effective gas price of the included attempt; undefined when not included at the snapshot block. */
  readonly feePaid?: bigint;
  /** gas limit × max fee per gas of the latest attempt. */
  readonly feeCap: bigint;
  /** 0n when not included at or below the snapshot block. */
  readonly includedHeight: bigint;
  readonly includedAtSnapshot: boolean;
  /** Height of the block the node has it in (its receipt), also above the snapshot block; 0n when not mined. */
  readonly minedHeight: bigint;
}

export interface DepositView {
  readonly depositId: string;
  readonly address: string;
  readonly amount: bigint;
  readonly state: 'PENDING' | 'FINAL';
  readonly blockHeight: bigint;
}

export interface CustodialSnapshot {
  readonly chain: string;
  readonly asset: string;
  readonly blockHeight: bigint;
  readonly blockHash: string;
  readonly addressSource: string;
  readonly balances: readonly (CustodialAddress & { readonly balance: bigint })[];
  readonly inFlight: readonly InFlightWithdrawalView[];
  readonly deposits: readonly DepositView[];
}

export const MAX_WITHDRAWAL_IDS = 10_000;
export const DEFAULT_FINAL_DEPOSIT_WINDOW = 1_024n;
const READ_CONCURRENCY = 8;

export interface SnapshotDeps {
  readonly dataSource: DataSource;
  readonly chain: EvmChain;
  readonly balances: BalanceReader;
  readonly addresses: CustodialAddressSource;
  readonly profile: { readonly chain: string; readonly asset: string };
}

async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export class CustodialSnapshotReader {
  constructor(private readonly deps: SnapshotDeps) {}

  async snapshot(request: { asset: string; withdrawalIds: readonly string[]; finalDepositWindow: bigint }): Promise<CustodialSnapshot> {
    const { chain: chainName, asset } = this.deps.profile;
    if (request.asset !== asset) throw new ChainQueryError('ASSET_NOT_SERVED', `this chain-adapter serves ${asset} on ${chainName}, not ${request.asset || '(empty)'}`);
    if (request.withdrawalIds.length > MAX_WITHDRAWAL_IDS) throw new ChainQueryError('TOO_MANY_WITHDRAWAL_IDS', `at most ${MAX_WITHDRAWAL_IDS} withdrawal ids`);
    const window = request.finalDepositWindow > 0n ? request.finalDepositWindow : DEFAULT_FINAL_DEPOSIT_WINDOW;
    try {
      return await this.read(chainName, asset, request.withdrawalIds, window);
    } catch (err) {
      if (err instanceof ChainQueryError) throw err;
      // Node or database unreachable: the caller records a FAILED run, never a balanced one.
      throw new ChainQueryError('SNAPSHOT_UNAVAILABLE', 'the chain snapshot could not be read (node or store unavailable)', { cause: err });
    }
  }

  private async read(chainName: string, asset: string, withdrawalIds: readonly string[], window: bigint): Promise<CustodialSnapshot> {
    const { dataSource, chain } = this.deps;
    // ORDER BY the table's column, qualified: an unqualified "height" would name the text
    // output column and sort as text ('9' > '89', '99' > '120'), leaving the snapshot at 9 or
    // 99 while the index is at 10–89 or 100–989.
    const top = (await dataSource.query(`SELECT "chain_block"."height"::text AS height, "hash" FROM "chain_block" WHERE "chain" = $1 ORDER BY "chain_block"."height" DESC LIMIT 1`, [chainName])) as {
      height: string;
      hash: string;
    }[];
    const block = top[0];
    if (!block) throw new ChainQueryError('SNAPSHOT_UNAVAILABLE', 'no block indexed yet');
    const height = BigInt(block.height);
    const onNode = await chain.block(height);
    if (!onNode || onNode.hash !== block.hash) throw new ChainQueryError('SNAPSHOT_UNAVAILABLE', `block ${height} is no longer canonical (reorganisation in progress); retry`);

    const { source, addresses } = await this.deps.addresses.addresses(chainName);
    const balances = await mapLimited(addresses, READ_CONCURRENCY, async (a) => ({ ...a, balance: await this.deps.balances.balanceAt(a.address, block.hash) }));

    const rows = (await dataSource.query(
      `SELECT w."withdrawal_id", w."wallet", w."amount"::text AS amount, w."state", COALESCE(w."tx_hash", '') AS tx_hash,
              (SELECT (a."gas_limit" * a."max_fee_per_gas")::text FROM "tx_attempt" a WHERE a."withdrawal_id" = w."withdrawal_id" ORDER BY a."attempt" DESC LIMIT 1) AS fee_cap,
              ARRAY(SELECT a."tx_hash" FROM "tx_attempt" a WHERE a."withdrawal_id" = w."withdrawal_id" AND a."tx_hash" IS NOT NULL ORDER BY a."attempt") AS hashes
       FROM "withdrawal_tx" w
       WHERE w."chain" = $1 AND w."asset" = $2
         AND (w."state" IN ('SIGNED', 'BROADCAST', 'CONFIRMED') OR (w."withdrawal_id" = ANY($3::text[]) AND w."state" <> 'PREPARED'))
       ORDER BY w."withdrawal_id"`,
      [chainName, asset, [...withdrawalIds]],
    )) as { withdrawal_id: string; wallet: string; amount: string; state: InFlightState; tx_hash: string; fee_cap: string | null; hashes: string[] }[];
    const inFlight = await mapLimited(rows, READ_CONCURRENCY, async (r): Promise<InFlightWithdrawalView> => {
      // Any of our attempts may be the one mined (a speed-up replaces the original).
      let minedHeight = 0n;
      for (const hash of r.hashes) {
        const receipt = await chain.receipt(hash);
        if (receipt && receipt.blockNumber > height) minedHeight = receipt.blockNumber; // mined above the snapshot (still reported)
        if (receipt && receipt.blockNumber <= height) {
          return {
            withdrawalId: r.withdrawal_id,
            wallet: r.wallet,
            amount: BigInt(r.amount),
            state: r.state,
            txHash: hash,
            feePaid: receipt.gasUsed * receipt.effectiveGasPrice,
            feeCap: BigInt(r.fee_cap ?? '0'),
            includedHeight: receipt.blockNumber,
            includedAtSnapshot: true,
            minedHeight: receipt.blockNumber,
          };
        }
      }
      return { withdrawalId: r.withdrawal_id, wallet: r.wallet, amount: BigInt(r.amount), state: r.state, txHash: r.tx_hash, feeCap: BigInt(r.fee_cap ?? '0'), includedHeight: 0n, includedAtSnapshot: false, minedHeight };
    });

    const deposits = (await dataSource.query(
      `SELECT "deposit_id", "address", "amount"::text AS amount, "state", "block_height"::text AS block_height FROM "deposit"
       WHERE "chain" = $1 AND "asset" = $2 AND "block_height" <= $3
         AND ("state" = 'PENDING' OR ("state" = 'FINAL' AND "block_height" > $3::bigint - $4::bigint))
       ORDER BY "block_height", "deposit_id"`,
      [chainName, asset, height.toString(), window.toString()],
    )) as { deposit_id: string; address: string; amount: string; state: 'PENDING' | 'FINAL'; block_height: string }[];

    // Still the same block in our index and on the node after every read: otherwise a
    // reorganisation ran under the snapshot and its parts may not belong together.
    const after = (await dataSource.query(`SELECT "hash" FROM "chain_block" WHERE "chain" = $1 AND "height" = $2`, [chainName, height.toString()])) as { hash: string }[];
    const nodeAfter = await chain.block(height);
    if (after[0]?.hash !== block.hash || nodeAfter?.hash !== block.hash) throw new ChainQueryError('SNAPSHOT_UNAVAILABLE', `block ${height} changed while the snapshot was read (reorganisation); retry`);

    return {
      chain: chainName,
      asset,
      blockHeight: height,
      blockHash: block.hash,
      addressSource: source,
      balances,
      inFlight,
      deposits: deposits.map((d) => ({ depositId: d.deposit_id, address: d.address, amount: BigInt(d.amount), state: d.state, blockHeight: BigInt(d.block_height) })),
    };
  }
}

/** eth_getBalance at a block hash over the adapter's JSON-RPC client. */
export function jsonRpcBalanceReader(call: (method: string, params: unknown[]) => Promise<unknown>): BalanceReader {
  return {
    async balanceAt(address, blockHash) {
      const v = await call('eth_getBalance', [address, { blockHash }]);
      if (typeof v !== 'string' || !/^0x[0-9a-fA-F]+$/.test(v)) throw new Error('JSON-RPC: eth_getBalance did not return a hex quantity');
      return BigInt(v);
    },
  };
}
