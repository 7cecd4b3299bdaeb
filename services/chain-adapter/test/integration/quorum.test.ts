// Several RPC endpoints with a quorum (C-5.5.4-b), against TWO real anvil processes started
// here on 127.0.0.1: same chain id and genesis timestamp, blocks mined with the same timestamps
// so both build the same chain. Both agree → a withdrawal is prepared, broadcast to both and
// FINAL through the wrapper. One mines a different block at the same height → the wrapper
// refuses to report it, the adapter stops acting (a decision waits, nothing is prepared), a
// CHAIN_VIEW_DIVERGENCE incident is published; once the node is back on the common chain the
// waiting withdrawal goes through.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { IncidentSeverity, Topics, TxState, type TxStatus } from '@custody/contracts';
import type { KafkaBus, Subscription } from '@custody/event-bus';
import { prefixedTopics, startChainAdapter, type ChainAdapterHandle, type EvmAssetProfile } from '../../src/index.js';
import { QuorumEvmChain } from '../../src/adapters/chain/quorum-evm-chain.js';
import { ChainAdapterError } from '../../src/domain/errors.js';
import {
  createPrefixedTopics,
  createTestDatabase,
  decision,
  deletePrefixedTopics,
  fundedAccount,
  messagesOf,
  newBus,
  observe,
  publish,
  publishKeyLifecycle,
  quietLogger,
  rand,
  randomAddress,
  startAnvil,
  startTestSigner,
  waitFor,
  type Anvil,
  type Observed,
  type SignedRecord,
  type TestDatabase,
} from './support.js';

const prefix = `caq${rand()}.`;
const CONFIRMATIONS = 2;
const GENESIS_TIME = Math.floor(Date.now() / 1000) - 100_000;
let nodeA: Anvil;
let nodeB: Anvil;
let db: TestDatabase;
let bus: KafkaBus;
let adapter: ChainAdapterHandle | undefined;
const subscriptions: Subscription[] = [];
const observed: Observed[] = [];
const signed: SignedRecord[] = [];
let wallet: Awaited<ReturnType<typeof fundedAccount>>;
const walletId = `eth-hot-q-${rand()}`;
let blockTime = GENESIS_TIME;

/** The next block on both nodes, same timestamp: the same block (same parent, same pool). */
async function mineBoth(): Promise<void> {
  blockTime += 12;
  await nodeA.call('evm_mine', [blockTime]);
  await nodeB.call('evm_mine', [blockTime]);
}

async function mineBothAndTick(blocks: number): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    await mineBoth();
    await adapter!.tick();
  }
}

const statuses = (withdrawalId: string): TxStatus[] => messagesOf(observed, Topics.txStatus).filter((s) => s.withdrawalId === withdrawalId);
const stateNames = (withdrawalId: string): string => statuses(withdrawalId).map((s) => TxState[s.state].replace('TX_STATE_', '')).join(',');
const hasState = (withdrawalId: string, state: TxState): boolean => statuses(withdrawalId).some((s) => s.state === state);

async function withdraw(amount: bigint): Promise<{ withdrawalId: string; destination: string }> {
  const withdrawalId = randomUUID();
  const destination = randomAddress();
  await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: walletId, destination, amount }));
  return { withdrawalId, destination };
}

/** Broadcast by the adapter, mined on both nodes, FINAL; the same receipt block on both. */
async function untilFinal(withdrawalId: string): Promise<string> {
  await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_BROADCAST), 60_000, () => `BROADCAST: ${stateNames(withdrawalId)}`);
  const hash = signed.find((s) => s.withdrawalId === withdrawalId)?.hash;
  // broadcast went to both endpoints
  expect(await nodeA.call('eth_getTransactionByHash', [hash])).not.toBeNull();
  expect(await nodeB.call('eth_getTransactionByHash', [hash])).not.toBeNull();
  await mineBothAndTick(CONFIRMATIONS);
  await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 15_000, () => `FINAL: ${stateNames(withdrawalId)}`);
  const ra = await nodeA.call<{ blockHash: string } | null>('eth_getTransactionReceipt', [hash]);
  const rb = await nodeB.call<{ blockHash: string } | null>('eth_getTransactionReceipt', [hash]);
  expect(ra?.blockHash).toBeDefined();
  expect(rb?.blockHash).toBe(ra?.blockHash);
  expect(statuses(withdrawalId).at(-1)?.blockHash).toBe(ra?.blockHash);
  return hash!;
}

beforeAll(async () => {
  [nodeA, nodeB] = await Promise.all([startAnvil({ timestamp: GENESIS_TIME }), startAnvil({ timestamp: GENESIS_TIME })]);
  expect(nodeB.genesisHash).toBe(nodeA.genesisHash);
  const profile: EvmAssetProfile = {
    asset: 'ETH',
    chain: 'anvil',
    chainId: nodeA.chainId,
    genesisHash: nodeA.genesisHash,
    confirmations: CONFIRMATIONS,
    gasLimit: 21_000n,
    fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n },
  };
  wallet = await fundedAccount(nodeA);
  await nodeB.call('anvil_setBalance', [wallet.address, '0x3635c9adc5dea00000']); // same state on both
  await mineBoth();
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = newBus();
  subscriptions.push(await observe(bus, prefix, observed));
  subscriptions.push(await startTestSigner(bus, prefix, wallet, signed));
  adapter = await startChainAdapter({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    // the composition root builds the quorum wrapper from the endpoint list (config.ts CUSTODY_CHAIN_RPC_URLS)
    rpcUrls: [nodeA.url, nodeB.url],
    rpcQuorum: 2,
    profile,
    custodyAddresses: [wallet.address],
    topicName: prefixedTopics(prefix),
    consumerGroupId: `chain-adapter-${prefix}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 0,
  });
  await publishKeyLifecycle(bus, prefix, { walletId, address: wallet.address });
  await waitFor(async () => (await db.admin(`SELECT 1 FROM "custody_wallet" WHERE "wallet_id" = $1 AND "state" = 'active'`, [walletId])).length === 1, 30_000, () => 'wallet registered');
});

afterAll(async () => {
  await adapter?.stop();
  for (const s of subscriptions) await s.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
});

describe('quorum of two real nodes that agree: prepare, broadcast to both, confirm and FINAL through the wrapper', () => {
  it('a withdrawal is prepared, signed, sent to both anvils, mined in the same block on both and FINAL', async () => {
    const amount = 3_333_000n;
    const { withdrawalId, destination } = await withdraw(amount);
    await untilFinal(withdrawalId);
    expect(BigInt(await nodeA.call<string>('eth_getBalance', [destination, 'latest']))).toBe(amount);
    expect(BigInt(await nodeB.call<string>('eth_getBalance', [destination, 'latest']))).toBe(amount);
  });
});

describe('C-5.5.4-b independent chain view: one node on a forked chain → divergence alert (incident) and the asset paused', () => {
  it('node B mines a different block at the same height: the wrapper refuses to report it, passes act on nothing, a decision waits unprepared, CHAIN_VIEW_DIVERGENCE is published once; back on the common chain the withdrawal goes through', async () => {
    const topBefore = await adapter!.store.topBlock('anvil');
    const [snapshotA, snapshotB] = [await nodeA.call<string>('evm_snapshot'), await nodeB.call<string>('evm_snapshot')];
    blockTime += 12;
    await nodeA.call('evm_mine', [blockTime]);
    await nodeB.call('evm_mine', [blockTime + 1]); // same height, another block: a fork
    const height = BigInt(await nodeA.call<string>('eth_blockNumber'));
    const hashA = (await nodeA.rpc.block(height))!.hash;
    const hashB = (await nodeB.rpc.block(height))!.hash;
    expect(hashB).not.toBe(hashA);

    // The wrapper itself, as the adapter builds it: no view of that block is reported.
    const wrapper = new QuorumEvmChain({ endpoints: [nodeA.rpc, nodeB.rpc], quorum: 2 });
    const refused = await wrapper.block(height).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ChainAdapterError);
    expect((refused as ChainAdapterError).code).toBe('CHAIN_VIEW_DIVERGENCE');
    expect((await wrapper.block(height - 1n))?.hash).toBe((await nodeA.rpc.block(height - 1n))!.hash);

    // The follower: unhealthy, indexes nothing of either branch.
    expect((await adapter!.tick()).healthy).toBe(false);
    expect((await adapter!.tick()).healthy).toBe(false);
    expect((await adapter!.store.topBlock('anvil'))?.height).toBe(topBefore?.height);

    // The alert: one incident row (two passes found it), published as custody.incident.raised.v1.
    const rows = await db.admin<{ incident_id: string }>(`SELECT "incident_id" FROM "chain_incident" WHERE "kind" = 'CHAIN_VIEW_DIVERGENCE'`);
    expect(rows).toHaveLength(1);
    await waitFor(() => messagesOf(observed, Topics.incidentRaised).some((i) => i.incidentId === rows[0]!.incident_id), 30_000, () => 'divergence incident on Kafka');
    const incident = messagesOf(observed, Topics.incidentRaised).find((i) => i.incidentId === rows[0]!.incident_id)!;
    expect(incident).toMatchObject({ source: 'chain-adapter', kind: 'CHAIN_VIEW_DIVERGENCE', severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL, chain: 'anvil', asset: 'ETH' });
    const evidence = JSON.parse(incident.evidenceJson) as Record<string, string>;
    expect(evidence['read']).toBe(`block ${height}`);
    expect(evidence['rpc#1']).toContain(hashA);
    expect(evidence['rpc#2']).toContain(hashB);
    expect(JSON.stringify(evidence)).not.toContain('127.0.0.1'); // endpoints by label, never by URL

    // The asset is paused (latched breaker): a decision is refused with CHAIN_PAUSED (retried), nothing is prepared.
    expect(await db.admin(`SELECT "state", "trip_kind" FROM "chain_breaker" WHERE "chain" = 'anvil'`)).toEqual([{ state: 'TRIPPED', trip_kind: 'CHAIN_VIEW_DIVERGENCE' }]);
    const waiting = async (): Promise<number> => (await adapter!.registry.getSingleMetricAsString('custody_chain_withdrawals_waiting_total')).split('\n').filter((l) => l.startsWith('custody_chain_withdrawals_waiting_total{') && l.includes('reason="CHAIN_PAUSED"')).reduce((n, l) => n + Number(l.split(' ').at(-1)), 0);
    const waitingBefore = await waiting();
    const { withdrawalId } = await withdraw(4_444_000n);
    await waitFor(async () => (await waiting()) > waitingBefore, 30_000, () => 'decision refused while the nodes disagree');
    expect(await db.admin(`SELECT 1 FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId])).toHaveLength(0);
    expect(messagesOf(observed, Topics.txPrepared).some((p) => p.withdrawalId === withdrawalId)).toBe(false);

    // Both nodes back on one chain: the forked tips dropped, the next block mined alike on both.
    await nodeA.call('evm_revert', [snapshotA]);
    await nodeB.call('evm_revert', [snapshotB]);
    await mineBoth();
    expect((await nodeB.rpc.block(height))!.hash).toBe((await nodeA.rpc.block(height))!.hash);
    expect((await adapter!.tick()).healthy).toBe(true);
    // Latched: the views agree again, yet nothing is prepared until an operator resumes the chain.
    const retriesBefore = await waiting();
    await waitFor(async () => (await waiting()) > retriesBefore, 60_000, () => 'decision still refused after the views agree');
    expect(await db.admin(`SELECT 1 FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId])).toHaveLength(0);
    // The operator use case behind ChainAdminService.ResumeChain (its gRPC authentication: breaker.test.ts).
    await adapter!.admin.resumeChain('anvil', 'both endpoints back on one chain', { operatorId: 'alice', nonce: `resume-${rand()}-${rand()}`, certificateSha256: 'ab'.repeat(32), signature: new Uint8Array(64) });
    await untilFinal(withdrawalId);
  });
});
