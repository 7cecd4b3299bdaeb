// Fail closed on the wrong chain or an unhealthy node, with a strict fake of the Chain port.
import { describe, expect, it } from '@jest/globals';
import { ChainGuard } from './chain-guard.js';
import type { EvmChain } from './ports.js';

const GENESIS = `0x${'ab'.repeat(32)}`;

function fakeChain(over: { chainId?: bigint; genesis?: string; syncing?: boolean; headTimestamp?: bigint }): EvmChain {
  const unexpected = (name: string) => () => {
    throw new Error(`unexpected call: ${name}`);
  };
  return {
    chainId: async () => over.chainId ?? 1n,
    genesisHash: async () => over.genesis ?? GENESIS,
    syncing: async () => over.syncing ?? false,
    headNumber: async () => 10n,
    block: async (n) => ({ number: n, hash: '0x01', parentHash: '0x00', timestamp: over.headTimestamp ?? 1_000n }),
    blockWithTransactions: unexpected('blockWithTransactions'),
    feeHistory: unexpected('feeHistory'),
    pendingNonce: unexpected('pendingNonce'),
    latestNonce: unexpected('latestNonce'),
    sendRawTransaction: unexpected('sendRawTransaction'),
    transactionKnown: unexpected('transactionKnown'),
    receipt: unexpected('receipt'),
  };
}

const guard = (chain: EvmChain, maxHeadAgeMs = 0, nowMs = 1_000_000) => new ChainGuard({ chain, expectedChainId: 1n, expectedGenesisHash: GENESIS, clock: { now: () => new Date(nowMs) }, maxHeadAgeMs });

describe('C-5.5.4.3-b the adapter refuses to act on the wrong chain (id or genesis), and on an unsynced or lagging node', () => {
  it('passes on the right, synced chain', async () => {
    await expect(guard(fakeChain({})).assertHealthy()).resolves.toBeUndefined();
  });
  it('refuses another chain id', async () => {
    await expect(guard(fakeChain({ chainId: 5n })).assertHealthy()).rejects.toMatchObject({ code: 'CHAIN_ID_MISMATCH' });
  });
  it('refuses another genesis (same id: a fork or another network)', async () => {
    await expect(guard(fakeChain({ genesis: `0x${'cd'.repeat(32)}` })).assertHealthy()).rejects.toMatchObject({ code: 'GENESIS_MISMATCH' });
  });
  it('refuses a syncing node', async () => {
    await expect(guard(fakeChain({ syncing: true })).assertHealthy()).rejects.toMatchObject({ code: 'NODE_UNSYNCED' });
  });
  it('refuses a node whose head is older than the limit', async () => {
    await expect(guard(fakeChain({ headTimestamp: 100n }), 60_000, 1_000_000).assertHealthy()).rejects.toMatchObject({ code: 'NODE_BEHIND' });
    await expect(guard(fakeChain({ headTimestamp: 990n }), 60_000, 1_000_000).assertHealthy()).resolves.toBeUndefined();
  });
});
