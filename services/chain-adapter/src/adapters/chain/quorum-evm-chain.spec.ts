// QuorumEvmChain with fakes of OUR Chain port: agreement, divergence (fail closed), endpoints
// tolerated down to k, broadcast to all; and the configuration of the endpoints.
import { describe, expect, it } from '@jest/globals';
import type { BlockRef, EvmChain, Receipt, SendOutcome } from '../../application/ports.js';
import { loadChainAdapterConfig } from '../../config.js';
import { ChainAdapterError } from '../../domain/errors.js';
import { QuorumEvmChain, validateQuorum } from './quorum-evm-chain.js';

const hash = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;
const down = async (): Promise<never> => {
  throw new Error('connect ECONNREFUSED');
};

interface FakeOptions {
  chainId?: bigint;
  head?: bigint;
  /** height → block hash (parent = hash of height - 1 in the same map, or 0x00…). */
  blocks?: Map<bigint, string>;
  syncing?: boolean;
  nonce?: bigint;
  receipts?: Map<string, Receipt>;
  known?: Set<string>;
  send?: SendOutcome | 'down';
  unreachable?: boolean;
  balances?: Record<string, string>;
}

/** A node behind OUR port; records what it was sent. */
function fake(o: FakeOptions): EvmChain & { sent: Uint8Array[]; call<T>(method: string, params?: unknown[]): Promise<T> } {
  const sent: Uint8Array[] = [];
  const ref = (n: bigint): BlockRef | undefined => {
    const h = o.blocks?.get(n);
    return h === undefined ? undefined : { number: n, hash: h, parentHash: o.blocks?.get(n - 1n) ?? hash(0), timestamp: 1_000n + n };
  };
  const guard = <T>(fn: () => T): Promise<T> => (o.unreachable ? down() : Promise.resolve(fn()));
  return {
    sent,
    chainId: () => guard(() => o.chainId ?? 1n),
    genesisHash: () => guard(() => ref(0n)?.hash ?? ''),
    syncing: () => guard(() => o.syncing ?? false),
    headNumber: () => guard(() => o.head ?? 0n),
    block: (n) => guard(() => ref(n)),
    blockWithTransactions: (n) => guard(() => {
      const b = ref(n);
      return b ? { ...b, transactions: [] } : undefined;
    }),
    feeHistory: () => guard(() => ({ baseFeePerGas: [1n], rewards: [2n] })),
    pendingNonce: () => guard(() => o.nonce ?? 0n),
    latestNonce: () => guard(() => o.nonce ?? 0n),
    sendRawTransaction: async (raw) => {
      if (o.unreachable || o.send === 'down') return down();
      sent.push(raw);
      return o.send ?? { kind: 'accepted' };
    },
    transactionKnown: (h) => guard(() => o.known?.has(h) ?? false),
    receipt: (h) => guard(() => o.receipts?.get(h)),
    call: async <T>(method: string, params: unknown[] = []): Promise<T> => {
      if (o.unreachable) return down();
      if (method !== 'eth_getBalance') throw new Error(`unexpected ${method}`);
      return (o.balances?.[String(params[0])] ?? '0x0') as T;
    },
  };
}

const chainOf = (...blocks: string[]): Map<bigint, string> => new Map(blocks.map((h, i) => [BigInt(i), h]));
const A = chainOf(hash(100), hash(101), hash(102), hash(103));
const B = chainOf(hash(100), hash(101), hash(202), hash(203)); // forked at height 2

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof ChainAdapterError ? err.code : `other: ${String(err)}`;
  }
}

describe('quorum wrapper: endpoints that disagree on a block hash at equal height (or a receipt, chain id, balance) fail closed', () => {
  it('reports a block only when the endpoints agree; a fork at height 2 → CHAIN_VIEW_DIVERGENCE with both views as evidence', async () => {
    const q = new QuorumEvmChain({ endpoints: [fake({ blocks: A, head: 3n }), fake({ blocks: B, head: 3n })], quorum: 2 });
    expect((await q.block(1n))?.hash).toBe(hash(101));
    expect(await q.genesisHash()).toBe(hash(100));
    const err = await q.block(2n).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChainAdapterError);
    expect((err as ChainAdapterError).code).toBe('CHAIN_VIEW_DIVERGENCE');
    expect((err as ChainAdapterError).evidence).toMatchObject({ read: 'block 2', 'rpc#1': expect.stringContaining(hash(102)), 'rpc#2': expect.stringContaining(hash(202)) });
    expect(await codeOf(q.blockWithTransactions(3n))).toBe('CHAIN_VIEW_DIVERGENCE');
  });

  it('a receipt in different blocks on two endpoints, a different chain id or a different balance at one block hash → CHAIN_VIEW_DIVERGENCE', async () => {
    const r = (blockHash: string): Receipt => ({ transactionHash: hash(7), blockNumber: 2n, blockHash, status: 'success', gasUsed: 21_000n, effectiveGasPrice: 1n });
    const q = new QuorumEvmChain({
      endpoints: [fake({ receipts: new Map([[hash(7), r(hash(102))]]), balances: { '0xaa': '0x10' } }), fake({ receipts: new Map([[hash(7), r(hash(202))]]), chainId: 2n, balances: { '0xaa': '0x11' } })],
      quorum: 2,
    });
    expect(await codeOf(q.receipt(hash(7)))).toBe('CHAIN_VIEW_DIVERGENCE');
    expect(await codeOf(q.chainId())).toBe('CHAIN_VIEW_DIVERGENCE');
    expect(await codeOf(q.call('eth_getBalance', ['0xaa', { blockHash: hash(102) }]))).toBe('CHAIN_VIEW_DIVERGENCE');
  });
});

describe('quorum wrapper: k of n, unreachable endpoints tolerated down to k', () => {
  it('2 of 3 with one endpoint down reads normally; with two down every safety read refuses CHAIN_QUORUM_UNAVAILABLE', async () => {
    const q = new QuorumEvmChain({ endpoints: [fake({ blocks: A, head: 3n, nonce: 5n }), fake({ unreachable: true }), fake({ blocks: A, head: 3n, nonce: 5n })], quorum: 2 });
    expect((await q.block(3n))?.hash).toBe(hash(103));
    expect(await q.chainId()).toBe(1n);
    expect(await q.latestNonce('0xaa')).toBe(5n);
    expect(await q.syncing()).toBe(false);
    const one = new QuorumEvmChain({ endpoints: [fake({ blocks: A, head: 3n }), fake({ unreachable: true }), fake({ unreachable: true })], quorum: 2 });
    for (const read of [one.block(1n), one.chainId(), one.headNumber(), one.latestNonce('0xaa'), one.receipt(hash(7)), one.syncing()]) expect(await codeOf(read)).toBe('CHAIN_QUORUM_UNAVAILABLE');
  });

  it('a block or receipt found by fewer than k endpoints (a lagging one) is not reported yet — and a lagging endpoint is not a divergence', async () => {
    const behind = chainOf(hash(100), hash(101));
    const q = new QuorumEvmChain({ endpoints: [fake({ blocks: A, head: 3n }), fake({ blocks: behind, head: 1n }), fake({ blocks: A, head: 3n })], quorum: 3 });
    expect(await q.block(3n)).toBeUndefined();
    expect(await q.headNumber()).toBe(1n); // the highest height all 3 have reached
    const two = new QuorumEvmChain({ endpoints: [fake({ blocks: A, head: 3n }), fake({ blocks: behind, head: 1n }), fake({ blocks: A, head: 3n })], quorum: 2 });
    expect(await two.headNumber()).toBe(3n);
    expect((await two.block(3n))?.hash).toBe(hash(103));
  });

  it('transaction counts must be agreed by k endpoints (moving values: CHAIN_QUORUM_UNAVAILABLE, not a divergence); syncing unless k say synced', async () => {
    const q = new QuorumEvmChain({ endpoints: [fake({ nonce: 4n, syncing: true }), fake({ nonce: 5n })], quorum: 2 });
    expect(await codeOf(q.latestNonce('0xaa'))).toBe('CHAIN_QUORUM_UNAVAILABLE');
    expect(await codeOf(q.pendingNonce('0xaa'))).toBe('CHAIN_QUORUM_UNAVAILABLE');
    expect(await q.syncing()).toBe(true);
    const majority = new QuorumEvmChain({ endpoints: [fake({ nonce: 4n }), fake({ nonce: 5n }), fake({ nonce: 5n })], quorum: 2 });
    expect(await majority.latestNonce('0xaa')).toBe(5n);
  });
});

describe('quorum wrapper: broadcast goes to every endpoint and succeeds if any accepts (idempotent by hash)', () => {
  it('sends the same bytes to all; accepted by one (another down or refusing) → accepted; nobody answers → throws (outcome unknown)', async () => {
    const raw = new Uint8Array([2, 1, 2, 3]);
    const a = fake({ send: { kind: 'rejected', message: 'txpool is full' } });
    const b = fake({ send: 'down' });
    const c = fake({ send: { kind: 'accepted' } });
    const q = new QuorumEvmChain({ endpoints: [a, b, c], quorum: 2 });
    expect(await q.sendRawTransaction(raw)).toEqual({ kind: 'accepted' });
    expect(a.sent).toEqual([raw]);
    expect(c.sent).toEqual([raw]);
    expect(await new QuorumEvmChain({ endpoints: [fake({ send: { kind: 'already-known' } }), fake({ send: { kind: 'nonce-too-low' } })], quorum: 2 }).sendRawTransaction(raw)).toEqual({ kind: 'already-known' });
    await expect(new QuorumEvmChain({ endpoints: [fake({ send: 'down' }), fake({ send: 'down' })], quorum: 2 }).sendRawTransaction(raw)).rejects.toThrow('ECONNREFUSED');
  });

  it('nonce-too-low only when every answering endpoint (at least k) says so; mixed refusals keep the row for the next pass', async () => {
    const raw = new Uint8Array([2]);
    const low = { kind: 'nonce-too-low' } as const;
    expect(await new QuorumEvmChain({ endpoints: [fake({ send: low }), fake({ send: low })], quorum: 2 }).sendRawTransaction(raw)).toEqual(low);
    expect(await new QuorumEvmChain({ endpoints: [fake({ send: low }), fake({ send: 'down' })], quorum: 2 }).sendRawTransaction(raw)).toMatchObject({ kind: 'rejected' });
    const mixed = await new QuorumEvmChain({ endpoints: [fake({ send: low }), fake({ send: { kind: 'underpriced', message: 'replacement transaction underpriced' } })], quorum: 2 }).sendRawTransaction(raw);
    expect(mixed).toEqual({ kind: 'underpriced', message: 'rpc#1: nonce-too-low; rpc#2: replacement transaction underpriced' });
  });

  it('a transaction counts as known only when k endpoints know it (otherwise it is sent again, to all)', async () => {
    const q = new QuorumEvmChain({ endpoints: [fake({ known: new Set([hash(9)]) }), fake({})], quorum: 2 });
    expect(await q.transactionKnown(hash(9))).toBe(false);
    const both = new QuorumEvmChain({ endpoints: [fake({ known: new Set([hash(9)]) }), fake({ known: new Set([hash(9)]) })], quorum: 2 });
    expect(await both.transactionKnown(hash(9))).toBe(true);
  });
});

describe('quorum configuration', () => {
  const env = { CUSTODY_DB_URL: 'postgres://u@127.0.0.1/db', KAFKA_BROKERS: '127.0.0.1:9092', CUSTODY_CHAIN_ID: '1', CUSTODY_CHAIN_GENESIS_HASH: hash(1), CUSTODY_GRPC_TLS: 'insecure' };

  it('k must be a majority of n (two disjoint quorums impossible), between 1 and n', () => {
    expect(validateQuorum(1, 1)).toBeUndefined();
    expect(validateQuorum(2, 2)).toBeUndefined();
    expect(validateQuorum(3, 2)).toBeUndefined();
    expect(validateQuorum(2, 1)).toMatch(/not a majority/);
    expect(validateQuorum(4, 2)).toMatch(/not a majority/);
    expect(validateQuorum(2, 3)).toMatch(/between 1 and 2/);
    expect(() => new QuorumEvmChain({ endpoints: [fake({}), fake({})], quorum: 1 })).toThrow(/not a majority/);
  });

  it('CUSTODY_CHAIN_RPC_URLS (comma-separated) and CUSTODY_CHAIN_RPC_QUORUM; default quorum = majority; one URL otherwise', () => {
    const several = loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URLS: 'http://127.0.0.1:8545, https://node-b.example:443/rpc,http://127.0.0.1:8546' });
    expect(several.rpcUrls).toEqual(['http://127.0.0.1:8545', 'https://node-b.example:443/rpc', 'http://127.0.0.1:8546']);
    expect(several.rpcQuorum).toBe(2);
    expect(loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URLS: 'http://127.0.0.1:8545,http://127.0.0.1:8546', CUSTODY_CHAIN_RPC_QUORUM: '2' }).rpcQuorum).toBe(2);
    const single = loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URL: 'http://127.0.0.1:9999' });
    expect(single.rpcUrls).toEqual(['http://127.0.0.1:9999']);
    expect(single.rpcQuorum).toBe(1);
  });

  it('refuses a minority quorum, a quorum above n, a non-http URL and a duplicated URL, naming the variable', () => {
    const urls = 'http://127.0.0.1:8545,http://127.0.0.1:8546';
    expect(() => loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URLS: urls, CUSTODY_CHAIN_RPC_QUORUM: '1' })).toThrow(/CUSTODY_CHAIN_RPC_QUORUM/);
    expect(() => loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URLS: urls, CUSTODY_CHAIN_RPC_QUORUM: '3' })).toThrow(/CUSTODY_CHAIN_RPC_QUORUM/);
    expect(() => loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URLS: 'http://127.0.0.1:8545,ftp://x' })).toThrow(/CUSTODY_CHAIN_RPC_URLS/);
    expect(() => loadChainAdapterConfig({ ...env, CUSTODY_CHAIN_RPC_URLS: 'http://127.0.0.1:8545,http://127.0.0.1:8545' })).toThrow(/CUSTODY_CHAIN_RPC_URLS/);
  });
});
