// Ports of the chain-adapter use cases. Adapters: adapters/chain (JSON-RPC),
// adapters/persistence (PostgreSQL + outbox).

/** A block header as the follower needs it. */
export interface BlockRef {
  readonly number: bigint;
  readonly hash: string;
  readonly parentHash: string;
  readonly timestamp: bigint;
}

export interface ChainTransaction {
  readonly hash: string;
  readonly from: string;
  /** null for contract creation. */
  readonly to: string | null;
  readonly value: bigint;
  readonly nonce: bigint;
}

export interface BlockWithTransactions extends BlockRef {
  readonly transactions: readonly ChainTransaction[];
}

export interface Receipt {
  readonly transactionHash: string;
  readonly blockNumber: bigint;
  readonly blockHash: string;
  readonly status: 'success' | 'reverted';
  readonly gasUsed: bigint;
  readonly effectiveGasPrice: bigint;
}

export type SendOutcome =
  | { readonly kind: 'accepted' }
  /** The node already has it (ours, same bytes): success. */
  | { readonly kind: 'already-known' }
  /** The account nonce has moved past this tx: resolve by asking for our hash. */
  | { readonly kind: 'nonce-too-low' }
  | { readonly kind: 'underpriced'; readonly message: string }
  | { readonly kind: 'rejected'; readonly message: string };

/** The Chain port, per chain family. EVM: adapters/chain/evm-json-rpc.ts. */
export interface EvmChain {
  chainId(): Promise<bigint>;
  /** Hash of block 0. */
  genesisHash(): Promise<string>;
  /** false when synced; true or a progress object when not. */
  syncing(): Promise<boolean>;
  headNumber(): Promise<bigint>;
  block(number: bigint): Promise<BlockRef | undefined>;
  blockWithTransactions(number: bigint): Promise<BlockWithTransactions | undefined>;
  feeHistory(blocks: number, percentile: number): Promise<{ baseFeePerGas: bigint[]; rewards: bigint[] }>;
  pendingNonce(address: string): Promise<bigint>;
  latestNonce(address: string): Promise<bigint>;
  sendRawTransaction(raw: Uint8Array): Promise<SendOutcome>;
  /** Known to the node (mempool or chain)? */
  transactionKnown(hash: string): Promise<boolean>;
  receipt(hash: string): Promise<Receipt | undefined>;
}

export interface Clock {
  now(): Date;
}

/** One unspent output of a custody wallet (Bitcoin). */
export interface WalletUtxo {
  readonly txid: string;
  readonly vout: number;
  readonly amount: bigint;
  /** The wallet's address the output pays (P2WPKH of the wallet key). */
  readonly address: string;
}

/**
 * Where a Bitcoin wallet's spendable outputs come from, inside the caller's transaction.
 * Adapter: adapters/persistence/bitcoin-store.ts (table btc_utxo, fed by an operator or a
 * test; a node/indexer adapter is not built yet).
 */
export interface UtxoSource {
  /** Unspent, unreserved outputs of the wallet, row-locked until commit (a concurrent withdrawal waits, then sees them reserved). */
  lockAvailable(chain: string, walletId: string): Promise<WalletUtxo[]>;
  reserve(chain: string, outpoints: readonly { txid: string; vout: number }[], withdrawalId: string): Promise<void>;
  /** Outputs reserved by the withdrawal become available again; returns how many. */
  release(chain: string, withdrawalId: string): Promise<number>;
  reservedBy(chain: string, withdrawalId: string): Promise<WalletUtxo[]>;
}

/** Sends a finalised raw Bitcoin transaction. NOT IMPLEMENTED yet (needs a node): signed withdrawals stay SIGNED. */
export interface BitcoinBroadcaster {
  broadcast(raw: Uint8Array): Promise<SendOutcome>;
}
