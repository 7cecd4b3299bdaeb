// The EVM Chain port over plain JSON-RPC (fetch): no client library in src. Each call has a
// timeout; transport failures are retried a bounded number of times (reads only — a send
// is never retried here: its outcome is resolved by hash, see application/broadcast.ts).
import type { BlockRef, BlockWithTransactions, ChainTransaction, EvmChain, Receipt, SendOutcome } from '../../application/ports.js';

export class JsonRpcError extends Error {
  constructor(readonly rpcCode: number, message: string) {
    super(message);
    this.name = 'JsonRpcError';
  }
}

/** The node did not answer (timeout, connection refused): the outcome is unknown. */
export class RpcTransportError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RpcTransportError';
  }
}

export interface EvmJsonRpcOptions {
  readonly url: string;
  readonly timeoutMs?: number;
  readonly readRetries?: number;
}

type Json = Record<string, unknown>;

const big = (v: unknown, field: string): bigint => {
  if (typeof v !== 'string' || !/^0x[0-9a-fA-F]+$/.test(v)) throw new Error(`JSON-RPC: ${field} is not a hex quantity`);
  return BigInt(v);
};
const str = (v: unknown, field: string): string => {
  if (typeof v !== 'string') throw new Error(`JSON-RPC: ${field} is not a string`);
  return v.toLowerCase();
};
const qty = (n: bigint): string => `0x${n.toString(16)}`;

export class EvmJsonRpc implements EvmChain {
  private id = 0;
  private readonly timeoutMs: number;
  private readonly readRetries: number;

  constructor(private readonly options: EvmJsonRpcOptions) {
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.readRetries = options.readRetries ?? 2;
  }

  /** One JSON-RPC call (exported for test helpers: anvil_* / evm_* methods). */
  async call<T = unknown>(method: string, params: unknown[] = []): Promise<T> {
    let response: Response;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id: ++this.id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      throw new RpcTransportError(`${method}: node unreachable or timed out`, { cause: err });
    }
    if (!response.ok) throw new RpcTransportError(`${method}: HTTP ${response.status}`);
    const body = (await response.json()) as { result?: T; error?: { code: number; message: string } };
    if (body.error) throw new JsonRpcError(body.error.code, body.error.message);
    return body.result as T;
  }

  private async read<T>(method: string, params: unknown[] = []): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.call<T>(method, params);
      } catch (err) {
        if (!(err instanceof RpcTransportError) || attempt >= this.readRetries) throw err;
        await new Promise((r) => setTimeout(r, 100 * 2 ** attempt));
      }
    }
  }

  async chainId(): Promise<bigint> {
    return big(await this.read('eth_chainId'), 'chainId');
  }

  async genesisHash(): Promise<string> {
    const b = await this.block(0n);
    if (!b) throw new Error('JSON-RPC: no genesis block');
    return b.hash;
  }

  async syncing(): Promise<boolean> {
    return (await this.read<unknown>('eth_syncing')) !== false;
  }

  async headNumber(): Promise<bigint> {
    return big(await this.read('eth_blockNumber'), 'blockNumber');
  }

  private toRef(b: Json): BlockRef {
    return { number: big(b['number'], 'number'), hash: str(b['hash'], 'hash'), parentHash: str(b['parentHash'], 'parentHash'), timestamp: big(b['timestamp'], 'timestamp') };
  }

  async block(number: bigint): Promise<BlockRef | undefined> {
    const b = await this.read<Json | null>('eth_getBlockByNumber', [qty(number), false]);
    return b ? this.toRef(b) : undefined;
  }

  async blockWithTransactions(number: bigint): Promise<BlockWithTransactions | undefined> {
    const b = await this.read<Json | null>('eth_getBlockByNumber', [qty(number), true]);
    if (!b) return undefined;
    const txs = (b['transactions'] as Json[]).map(
      (t): ChainTransaction => ({
        hash: str(t['hash'], 'tx.hash'),
        from: str(t['from'], 'tx.from'),
        to: t['to'] == null ? null : str(t['to'], 'tx.to'),
        value: big(t['value'], 'tx.value'),
        nonce: big(t['nonce'], 'tx.nonce'),
      }),
    );
    return { ...this.toRef(b), transactions: txs };
  }

  async feeHistory(blocks: number, percentile: number): Promise<{ baseFeePerGas: bigint[]; rewards: bigint[] }> {
    const h = await this.read<Json>('eth_feeHistory', [qty(BigInt(blocks)), 'latest', [percentile]]);
    const base = (h['baseFeePerGas'] as unknown[]).map((v, i) => big(v, `baseFeePerGas[${i}]`));
    const rewards = ((h['reward'] as unknown[][] | undefined) ?? []).map((r, i) => big(r[0], `reward[${i}]`));
    return { baseFeePerGas: base, rewards };
  }

  async pendingNonce(address: string): Promise<bigint> {
    return big(await this.read('eth_getTransactionCount', [address, 'pending']), 'nonce');
  }

  async latestNonce(address: string): Promise<bigint> {
    return big(await this.read('eth_getTransactionCount', [address, 'latest']), 'nonce');
  }

  async sendRawTransaction(raw: Uint8Array): Promise<SendOutcome> {
    try {
      await this.call('eth_sendRawTransaction', [`0x${Buffer.from(raw).toString('hex')}`]);
      return { kind: 'accepted' };
    } catch (err) {
      if (!(err instanceof JsonRpcError)) throw err;
      return classifySendError(err.message);
    }
  }

  async transactionKnown(hash: string): Promise<boolean> {
    return (await this.read<Json | null>('eth_getTransactionByHash', [hash])) != null;
  }

  async receipt(hash: string): Promise<Receipt | undefined> {
    const r = await this.read<Json | null>('eth_getTransactionReceipt', [hash]);
    if (!r || r['blockHash'] == null) return undefined;
    return {
      transactionHash: str(r['transactionHash'], 'transactionHash'),
      blockNumber: big(r['blockNumber'], 'blockNumber'),
      blockHash: str(r['blockHash'], 'blockHash'),
      status: r['status'] === '0x1' ? 'success' : 'reverted',
      gasUsed: big(r['gasUsed'], 'gasUsed'),
      effectiveGasPrice: r['effectiveGasPrice'] == null ? 0n : big(r['effectiveGasPrice'], 'effectiveGasPrice'),
    };
  }
}

/** Node error texts differ (geth, anvil, erigon, nethermind); match on the common phrases. */
export function classifySendError(message: string): SendOutcome {
  const m = message.toLowerCase();
  if (m.includes('already known') || m.includes('known transaction') || m.includes('already imported') || m.includes('already exists')) return { kind: 'already-known' };
  if (m.includes('nonce too low') || m.includes('nonce is too low') || m.includes('oldnonce')) return { kind: 'nonce-too-low' };
  if (m.includes('underpriced') || m.includes('fee too low') || m.includes('replacement') || m.includes('less than block base fee')) return { kind: 'underpriced', message };
  return { kind: 'rejected', message };
}
