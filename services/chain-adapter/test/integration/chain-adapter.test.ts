// chain-adapter against a REAL anvil (its own, random port), real PostgreSQL and real Kafka.
// The signer is a stand-in that signs with viem; blocks are mined on demand and the follower
// is driven with tick() so every step is deterministic (no timing assertions).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { DepositState, KeyTransition, Topics, TxSigned, TxState, timestampToDate, type TxStatus } from '@custody/contracts';

const { DEPOSIT_STATE_PENDING: PENDING, DEPOSIT_STATE_FINAL: FINAL, DEPOSIT_STATE_ORPHANED: ORPHANED } = DepositState;
import type { KafkaBus, Subscription } from '@custody/event-bus';
import { startMetricsServer } from '@custody/platform';
import { keccak256, parseTransaction, type Hex } from 'viem';
import { prefixedTopics, startChainAdapter, type ChainAdapterDeps, type ChainAdapterHandle, type EvmAssetProfile } from '../../src/index.js';
import { RpcTransportError } from '../../src/adapters/chain/evm-json-rpc.js';
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
  DECISION_APPROVALS_EXPIRE_AT,
} from './support.js';

const prefix = `ca${rand()}.`;
const CONFIRMATIONS = 3;
let anvil: Anvil;
let db: TestDatabase;
let bus: KafkaBus;
let adapter: ChainAdapterHandle | undefined;
let profile: EvmAssetProfile;
const subscriptions: Subscription[] = [];
const observed: Observed[] = [];
const signed: SignedRecord[] = [];
let wallet: Awaited<ReturnType<typeof fundedAccount>>;
/** The wallet id policy names (decision token, tx.* source_wallet); `wallet.address` is its chain address. */
const walletId = `eth-hot-${rand()}`;
const depositAddress = randomAddress();

function deps(overrides: Partial<ChainAdapterDeps> = {}): ChainAdapterDeps {
  return {
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    rpcUrl: anvil.url,
    profile,
    depositAddresses: new Map([[depositAddress, 'acct-42']]),
    custodyAddresses: [wallet.address],
    topicName: prefixedTopics(prefix),
    consumerGroupId: `chain-adapter-${prefix}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 0,
    ...overrides,
  };
}

const statuses = (withdrawalId: string): TxStatus[] => messagesOf(observed, Topics.txStatus).filter((s) => s.withdrawalId === withdrawalId);
const stateNames = (withdrawalId: string): string[] => statuses(withdrawalId).map((s) => `${TxState[s.state].replace('TX_STATE_', '')}${s.state === TxState.TX_STATE_CONFIRMED || s.state === TxState.TX_STATE_FINAL ? `(${s.confirmations})` : ''}`);
const hasState = (withdrawalId: string, state: TxState) => statuses(withdrawalId).some((s) => s.state === state);

async function mineAndTick(blocks = 1): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    await anvil.mine();
    await adapter?.tick();
  }
}

/** Serves the running adapter's registry as main.ts does, GETs /metrics, returns the value of `name{labels}` (service="chain-adapter" added). */
async function scrape(name: string, labels: Record<string, string>): Promise<number | undefined> {
  const server = await startMetricsServer({ registry: adapter!.registry, port: 0 });
  try {
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    const want = JSON.stringify(Object.entries({ ...labels, service: 'chain-adapter' }).sort());
    for (const line of (await res.text()).split('\n')) {
      const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const got = [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
      if (JSON.stringify(got.sort()) === want) return Number(m[3]);
    }
    return undefined;
  } finally {
    await server.close();
  }
}

async function withdraw(amount: bigint, destination = randomAddress(), withdrawalId: string = randomUUID()): Promise<{ withdrawalId: string; destination: string }> {
  await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: walletId, destination, amount, chain: 'anvil' }));
  return { withdrawalId, destination };
}

interface WalletRegistryRow {
  wallet_id: string;
  address: string;
  key_id: string;
  state: string;
}
const registryRow = async (id: string): Promise<WalletRegistryRow | undefined> =>
  (await db.admin<WalletRegistryRow>(`SELECT "wallet_id", "address", "key_id", "state" FROM "custody_wallet" WHERE "wallet_id" = $1 AND "chain" = 'anvil'`, [id]))[0];

/** key.lifecycle `transition` for the wallet, then waits until the registry shows `state`. */
async function lifecycle(id: string, address: string, transition: KeyTransition, state: string): Promise<void> {
  await publishKeyLifecycle(bus, prefix, { walletId: id, address, transition });
  await waitFor(async () => (await registryRow(id))?.state === state, 30_000, () => `wallet ${id} ${state}`);
}

const register = (id: string, address: string): Promise<void> => lifecycle(id, address, KeyTransition.KEY_TRANSITION_GENERATED, 'active');

async function untilBroadcast(withdrawalId: string): Promise<void> {
  await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_BROADCAST), 30_000, () => `BROADCAST of ${withdrawalId}: ${stateNames(withdrawalId).join(',')}`);
}

beforeAll(async () => {
  anvil = await startAnvil();
  profile = {
    asset: 'ETH',
    chain: 'anvil',
    chainId: anvil.chainId,
    genesisHash: anvil.genesisHash,
    confirmations: CONFIRMATIONS,
    gasLimit: 21_000n,
    fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n },
  };
  wallet = await fundedAccount(anvil);
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = newBus();
  subscriptions.push(await observe(bus, prefix, observed));
  subscriptions.push(await startTestSigner(bus, prefix, wallet, signed));
  adapter = await startChainAdapter(deps());
  await register(walletId, wallet.address);
});

afterAll(async () => {
  await adapter?.stop();
  for (const s of subscriptions) await s.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await anvil?.stop();
});

describe('C-5.5.4-a per-asset confirmation rule: a withdrawal goes BROADCAST → CONFIRMED(n) → FINAL at the asset depth on a real anvil', () => {
  it('is prepared, signed by an independent implementation, broadcast, mined, confirmed and final at 3 blocks', async () => {
    const amount = 1_234_567_000_000_000n;
    const { withdrawalId, destination } = await withdraw(amount);
    await untilBroadcast(withdrawalId);
    await mineAndTick();
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_CONFIRMED), 10_000, () => stateNames(withdrawalId).join(','));
    expect(hasState(withdrawalId, TxState.TX_STATE_FINAL)).toBe(false);
    await mineAndTick(CONFIRMATIONS - 1);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
    expect(stateNames(withdrawalId)).toEqual(['BROADCAST', 'CONFIRMED(1)', 'CONFIRMED(2)', 'FINAL(3)']);
    const final = statuses(withdrawalId).at(-1);
    expect(final?.feePaid).toMatch(/^[1-9][0-9]*$/);
    expect(BigInt(await anvil.call<string>('eth_getBalance', [destination, 'latest']))).toBe(amount);
    // source_wallet is the wallet id (and the partition key), source_address the chain address
    const prepared = observed.filter((o) => o.envelope.type === Topics.txPrepared && messagesOf([o], Topics.txPrepared)[0]?.withdrawalId === withdrawalId);
    expect(prepared.map((o) => o.envelope.key)).toEqual([walletId]);
    expect(messagesOf(prepared, Topics.txPrepared)[0]).toMatchObject({ sourceWallet: walletId, sourceAddress: wallet.address.toLowerCase() });
    for (const st of statuses(withdrawalId)) expect(st).toMatchObject({ sourceWallet: walletId, sourceAddress: wallet.address.toLowerCase() });
  });

  it('independent client check: viem decodes the signed bytes to the approved to/value/chainId and recovers the wallet as sender', async () => {
    const amount = 777n;
    const { withdrawalId, destination } = await withdraw(amount);
    await untilBroadcast(withdrawalId);
    const record = signed.find((s) => s.withdrawalId === withdrawalId);
    expect(record?.parsed.to?.toLowerCase()).toBe(destination);
    expect(record?.parsed.value).toBe(amount);
    expect(record?.parsed.chainId).toBe(Number(anvil.chainId));
    expect(record?.parsed.type).toBe('eip1559');
    expect(record?.sender.toLowerCase()).toBe(wallet.address.toLowerCase());
    const onChain = await anvil.call<{ from: string; to: string; value: string }>('eth_getTransactionByHash', [record?.hash]);
    expect(onChain.from.toLowerCase()).toBe(wallet.address.toLowerCase());
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
  });
});

describe('C-5.5.5.2-c single nonce allocator: 20 concurrent withdrawals from one wallet get 20 consecutive nonces across a service restart', () => {
  it('allocates consecutive nonces with no reuse or gap — one instance, a restart, then two instances at once — and all 20 reach FINAL', async () => {
    const startNonce = BigInt(await anvil.call<string>('eth_getTransactionCount', [wallet.address, 'pending']));
    const ids: string[] = [];
    const first = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(first.map((id) => withdraw(1_000n + BigInt(ids.push(id)), randomAddress(), id)));
    // Restart in the middle: some of the first ten are prepared, the rest may still be in flight.
    await waitFor(async () => (await db.admin(`SELECT 1 FROM "withdrawal_tx" WHERE "withdrawal_id" = ANY($1)`, [first])).length >= 3, 30_000, () => 'first prepared');
    await adapter?.stop();
    adapter = undefined;
    const second = Array.from({ length: 10 }, () => randomUUID());
    await Promise.all(second.map((id) => withdraw(2_000n + BigInt(ids.push(id)), randomAddress(), id)));
    // Two instances of the service (same consumer group, separate buses and pools) race for the same wallet.
    const secondBus = newBus();
    const [a, b] = await Promise.all([startChainAdapter(deps()), startChainAdapter(deps({ bus: secondBus }))]);
    adapter = a;
    try {
      await waitFor(async () => (await db.admin(`SELECT 1 FROM "withdrawal_tx" WHERE "withdrawal_id" = ANY($1)`, [ids])).length === 20, 60_000, () => 'all 20 prepared');
      const rows = await db.admin<{ nonce: string }>(`SELECT "nonce"::text AS nonce FROM "withdrawal_tx" WHERE "withdrawal_id" = ANY($1) ORDER BY "withdrawal_tx"."nonce"`, [ids]);
      expect(rows.map((r) => BigInt(r.nonce))).toEqual(Array.from({ length: 20 }, (_, i) => startNonce + BigInt(i)));
      // one tx.prepared per withdrawal (the inbox absorbed any redelivery around the restart)
      await waitFor(() => ids.every((id) => messagesOf(observed, Topics.txPrepared).some((p) => p.withdrawalId === id)), 30_000, () => 'tx.prepared for all');
      for (const id of ids) expect(messagesOf(observed, Topics.txPrepared).filter((p) => p.withdrawalId === id)).toHaveLength(1);
      await waitFor(() => ids.every((id) => hasState(id, TxState.TX_STATE_BROADCAST)), 60_000, () => `broadcast: ${ids.filter((id) => hasState(id, TxState.TX_STATE_BROADCAST)).length}/20`);
    } finally {
      await b.stop();
      await secondBus.close();
    }
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => ids.every((id) => hasState(id, TxState.TX_STATE_FINAL)), 30_000, () => `final: ${ids.filter((id) => hasState(id, TxState.TX_STATE_FINAL)).length}/20`);
    expect(BigInt(await anvil.call<string>('eth_getTransactionCount', [wallet.address, 'latest']))).toBe(startNonce + 20n);
  });
});

describe('C-5.5.5.2-a / C-5.5.5.2-b stuck transaction replaced by a fee bump under the same nonce and the same intent; only one can confirm, paid once', () => {
  it('a tx priced out by the base fee stays pending; the bump (same nonce, to, value) is mined, the original reported REPLACED', async () => {
    const amount = 5_000n;
    const { withdrawalId, destination } = await withdraw(amount);
    await untilBroadcast(withdrawalId);
    const original = signed.find((s) => s.withdrawalId === withdrawalId);
    // The network's base fee jumps to twice our maxFeePerGas: the block is mined without us.
    const ourMaxFee = original?.parsed.maxFeePerGas ?? 0n;
    await anvil.call('anvil_setNextBlockBaseFeePerGas', [`0x${(2n * ourMaxFee).toString(16)}`]);
    await mineAndTick();
    expect(await anvil.call('eth_getTransactionReceipt', [original?.hash])).toBeNull();
    expect(hasState(withdrawalId, TxState.TX_STATE_CONFIRMED)).toBe(false);

    const bump = await adapter!.bumpFee(withdrawalId, 200n); // ×3 > the next base fee (×1.75)
    expect(bump.attempt).toBe(2);
    await waitFor(() => signed.filter((s) => s.withdrawalId === withdrawalId).length === 2, 30_000, () => 'replacement signed');
    const replacement = signed.filter((s) => s.withdrawalId === withdrawalId)[1];
    expect(replacement?.parsed.nonce).toBe(original?.parsed.nonce);
    expect(replacement?.parsed.to).toBe(original?.parsed.to);
    expect(replacement?.parsed.value).toBe(amount);
    expect(replacement?.parsed.maxFeePerGas).toBeGreaterThan(original?.parsed.maxFeePerGas ?? 0n);
    await waitFor(async () => (await anvil.call('eth_getTransactionByHash', [replacement?.hash])) !== null, 30_000, () => 'replacement in the pool');
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
    const replaced = statuses(withdrawalId).find((s) => s.state === TxState.TX_STATE_REPLACED);
    expect(replaced?.txHash).toBe(original?.hash);
    expect(replaced?.replacedByTxHash).toBe(replacement?.hash);
    expect(statuses(withdrawalId).at(-1)?.txHash).toBe(replacement?.hash);
    expect(await anvil.call('eth_getTransactionReceipt', [original?.hash])).toBeNull();
    expect(BigInt(await anvil.call<string>('eth_getBalance', [destination, 'latest']))).toBe(amount); // paid once
  });
});

describe('C-5.5.4.2-a / C-5.5.4.2-c reorg detection: a real anvil reorganisation un-confirms our withdrawal; REORGED, same bytes re-broadcast, re-confirmed', () => {
  it('anvil_reorg removes the block carrying our tx; the adapter emits REORGED, re-broadcasts the same hash and confirms it again', async () => {
    const amount = 9_999n;
    const reorgsBefore = (await scrape('custody_chain_adapter_reorgs_total', { chain: 'anvil' })) ?? Number.NaN;
    const { withdrawalId, destination } = await withdraw(amount);
    await untilBroadcast(withdrawalId);
    await adapter!.tick();
    // broadcast, not final: the confirmation lag counts its age (served over HTTP, as Prometheus scrapes it)
    expect(await scrape('custody_chain_adapter_confirmation_lag_seconds', { chain: 'anvil' })).toBeGreaterThan(0);
    await mineAndTick();
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_CONFIRMED), 10_000, () => stateNames(withdrawalId).join(','));
    const confirmed = statuses(withdrawalId).find((s) => s.state === TxState.TX_STATE_CONFIRMED);
    const hash = signed.find((s) => s.withdrawalId === withdrawalId)?.hash;

    await anvil.call('anvil_reorg', [1, []]); // replace the top block with an empty one
    expect(await anvil.call('eth_getTransactionReceipt', [hash])).toBeNull();
    const result = await adapter!.tick();
    expect(result.reorgDepth).toBe(1);
    expect(await scrape('custody_chain_adapter_reorgs_total', { chain: 'anvil' })).toBe(reorgsBefore + 1);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_REORGED), 10_000, () => stateNames(withdrawalId).join(','));
    const reorged = statuses(withdrawalId).find((s) => s.state === TxState.TX_STATE_REORGED);
    expect(reorged?.blockHash).toBe(confirmed?.blockHash);
    // the same signed bytes are back in the node's pool (no new signature was asked for)
    expect(await anvil.call('eth_getTransactionByHash', [hash])).not.toBeNull();
    expect(signed.filter((s) => s.withdrawalId === withdrawalId)).toHaveLength(1);

    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
    const final = statuses(withdrawalId).at(-1);
    expect(final?.txHash).toBe(hash);
    expect(final?.blockHash).not.toBe(confirmed?.blockHash);
    expect(stateNames(withdrawalId)).toEqual(['BROADCAST', 'CONFIRMED(1)', 'REORGED', 'CONFIRMED(1)', 'CONFIRMED(2)', 'FINAL(3)']);
    expect(BigInt(await anvil.call<string>('eth_getBalance', [destination, 'latest']))).toBe(amount);
  });

  it('a reorg deeper than the finality depth after FINAL raises a REORG_BEYOND_FINALITY incident (snapshot/revert + re-mine)', async () => {
    const snapshot = await anvil.call<string>('evm_snapshot');
    const { withdrawalId } = await withdraw(4_242n);
    await untilBroadcast(withdrawalId);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
    await anvil.call('evm_revert', [snapshot]);
    await anvil.mine(CONFIRMATIONS + 1); // a longer branch without our tx
    const result = await adapter!.tick();
    expect(result.reorgDepth).toBeGreaterThanOrEqual(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_REORGED), 10_000, () => stateNames(withdrawalId).join(','));
    expect(statuses(withdrawalId).find((s) => s.state === TxState.TX_STATE_REORGED)?.reasonCode).toBe('REORG_BEYOND_FINALITY');
    const incidents = await adapter!.store.incidents('anvil');
    expect(incidents.some((i) => i.kind === 'REORG_BEYOND_FINALITY' && i.detail.includes(withdrawalId))).toBe(true);
    const metrics = await adapter!.registry.metrics();
    expect(metrics).toMatch(/custody_chain_adapter_reorgs_total\{[^}]*chain="anvil"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/custody_chain_incidents_total\{[^}]*kind="REORG_BEYOND_FINALITY"[^}]*\} [1-9]/);
    // Past finality the chain's breaker trips (latched; breaker.test.ts covers it end to end): an operator resumes it here.
    expect((await adapter!.store.breaker('anvil'))?.state).toBe('TRIPPED');
    await adapter!.admin.resumeChain('anvil', 'reorg reviewed', { operatorId: 'test-operator', nonce: `resume-${randomUUID()}`, certificateSha256: 'ab'.repeat(32), signature: new Uint8Array(64) });
    // the same bytes are re-broadcast (the nonce is free again on this branch) and re-confirmed
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => statuses(withdrawalId).at(-1)?.state === TxState.TX_STATE_FINAL, 10_000, () => stateNames(withdrawalId).join(','));
  });
});

describe('C-5.5.4-a deposits: detected with confirmations, credited only at FINAL, and a deposit reorged away is ORPHANED', () => {
  it('a deposit to a custody address is PENDING below the rule, FINAL at 3 confirmations', async () => {
    const payer = await fundedAccount(anvil);
    const raw = await payer.signTransaction({ chainId: Number(anvil.chainId), type: 'eip1559', nonce: 0, to: depositAddress as Hex, value: 10n ** 15n, gas: 21_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1n });
    const hash = await anvil.call<string>('eth_sendRawTransaction', [raw]);
    await mineAndTick();
    const ofTx = () => messagesOf(observed, Topics.depositDetected).filter((d) => d.txHash === hash);
    await waitFor(() => ofTx().length >= 1, 10_000, () => 'deposit detected');
    expect(ofTx()[0]).toMatchObject({ address: depositAddress, amount: '1000000000000000', confirmations: 1, state: PENDING, requiredConfirmations: CONFIRMATIONS, customerAccount: 'acct-42' });
    expect(ofTx()[0]?.sourceAddresses).toEqual([payer.address.toLowerCase()]);
    await mineAndTick(CONFIRMATIONS - 1);
    await waitFor(() => ofTx().some((d) => d.state === FINAL), 10_000, () => JSON.stringify(ofTx().map((d) => [d.confirmations, d.state])));
    expect(ofTx().map((d) => [d.confirmations, d.state])).toEqual([[1, PENDING], [2, PENDING], [3, FINAL]]);
  });

  it('a deposit whose block is reorganised away is reported ORPHANED (never FINAL)', async () => {
    const payer = await fundedAccount(anvil);
    const raw = await payer.signTransaction({ chainId: Number(anvil.chainId), type: 'eip1559', nonce: 0, to: depositAddress as Hex, value: 5n * 10n ** 15n, gas: 21_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1n });
    const snapshot = await anvil.call<string>('evm_snapshot');
    const hash = await anvil.call<string>('eth_sendRawTransaction', [raw]);
    await mineAndTick();
    const ofTx = () => messagesOf(observed, Topics.depositDetected).filter((d) => d.txHash === hash);
    await waitFor(() => ofTx().length >= 1, 10_000, () => 'deposit detected');
    await anvil.call('evm_revert', [snapshot]); // the payer's tx is gone with the branch
    await anvil.mine(2);
    await adapter!.tick();
    await waitFor(() => ofTx().some((d) => d.state === ORPHANED), 10_000, () => JSON.stringify(ofTx().map((d) => [d.confirmations, d.state])));
    await mineAndTick(CONFIRMATIONS);
    expect(ofTx().some((d) => d.state === FINAL)).toBe(false);
    const row = (await db.admin<{ state: string }>(`SELECT "state" FROM "deposit" WHERE "tx_hash" = $1`, [hash]))[0];
    expect(row?.state).toBe('ORPHANED');
  });
});

describe('C-5.5.4.2-a / C-5.3-b a deposit re-mined on the new branch is reprocessed idempotently: same deposit id, one row, FINAL once', () => {
  it('orphaned by a reorg, the same transaction mined again is PENDING → FINAL under the same deposit_id', async () => {
    const payer = await fundedAccount(anvil);
    const raw = await payer.signTransaction({ chainId: Number(anvil.chainId), type: 'eip1559', nonce: 0, to: depositAddress as Hex, value: 7n * 10n ** 15n, gas: 21_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1n });
    const snapshot = await anvil.call<string>('evm_snapshot');
    const hash = await anvil.call<string>('eth_sendRawTransaction', [raw]);
    await mineAndTick();
    const ofTx = () => messagesOf(observed, Topics.depositDetected).filter((d) => d.txHash === hash);
    await waitFor(() => ofTx().length >= 1, 10_000, () => 'deposit detected');
    const firstBlock = ofTx()[0]?.blockHash;
    await anvil.call('evm_revert', [snapshot]);
    await anvil.mine(2);
    await adapter!.tick();
    await waitFor(() => ofTx().some((d) => d.state === ORPHANED), 10_000, () => 'orphaned');
    // The payer (or anyone) re-publishes the same signed transaction on the new branch.
    expect(await anvil.call<string>('eth_sendRawTransaction', [raw])).toBe(hash);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => ofTx().some((d) => d.state === FINAL), 10_000, () => JSON.stringify(ofTx().map((d) => [d.confirmations, d.state])));
    await mineAndTick(2);
    const events = ofTx();
    expect(new Set(events.map((d) => d.depositId)).size).toBe(1);
    expect(events.map((d) => d.state)).toEqual([PENDING, ORPHANED, PENDING, PENDING, FINAL]);
    expect(events.filter((d) => d.state === FINAL)).toHaveLength(1);
    expect(events.at(-1)?.blockHash).not.toBe(firstBlock);
    expect(await db.admin(`SELECT 1 FROM "deposit" WHERE "tx_hash" = $1`, [hash])).toHaveLength(1);
  });
});

describe('C-5.5.2-a only what was prepared is broadcast: a signature over different bytes is refused', () => {
  it('a tx.signed whose amount differs from the prepared tx is not broadcast and raises SIGNED_TX_MISMATCH', async () => {
    const evil: SignedRecord[] = [];
    const otherWallet = await fundedAccount(anvil);
    const sub = await startTestSigner(bus, prefix, otherWallet, evil, { mutate: (tx) => ({ ...tx, value: (tx.value ?? 0n) * 100n }) });
    subscriptions.push(sub);
    const otherId = `eth-hot-other-${rand()}`;
    await register(otherId, otherWallet.address);
    const withdrawalId = randomUUID();
    await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: otherId, destination: randomAddress(), amount: 1_000n, chain: 'anvil' }));
    await waitFor(() => evil.length === 1, 30_000, () => 'mutated signature');
    await waitFor(async () => (await adapter!.store.incidents('anvil')).some((i) => i.kind === 'SIGNED_TX_MISMATCH' && i.txHash === evil[0]?.hash), 30_000, () => 'incident');
    expect(await anvil.call('eth_getTransactionByHash', [evil[0]?.hash])).toBeNull();
    expect(BigInt(await anvil.call<string>('eth_getTransactionCount', [otherWallet.address, 'pending']))).toBe(0n);
    expect(hasState(withdrawalId, TxState.TX_STATE_BROADCAST)).toBe(false);
    const row = (await db.admin<{ state: string }>(`SELECT "state" FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId]))[0];
    expect(row?.state).toBe('PREPARED');
  });
});

describe('C-5.5.5.3-a sent-but-unknown is resolved by asking the chain for the hash, never by signing again', () => {
  it('a broadcast whose response is lost stays SIGNED, then becomes BROADCAST once the node knows the hash; one signature, one tx at the nonce', async () => {
    await adapter?.stop();
    const real = anvil.rpc;
    let lose = true;
    const flaky = Object.create(real) as typeof real;
    flaky.sendRawTransaction = async (raw: Uint8Array) => {
      const outcome = await real.sendRawTransaction(raw);
      if (lose) throw new RpcTransportError('eth_sendRawTransaction: response lost');
      return outcome;
    };
    adapter = await startChainAdapter(deps({ chain: flaky }));
    const { withdrawalId } = await withdraw(3_333n);
    await waitFor(() => signed.some((s) => s.withdrawalId === withdrawalId), 30_000, () => 'signed');
    await waitFor(async () => (await db.admin<{ state: string }>(`SELECT "state" FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId]))[0]?.state === 'SIGNED', 30_000, () => 'SIGNED');
    expect(hasState(withdrawalId, TxState.TX_STATE_BROADCAST)).toBe(false);
    lose = false;
    await adapter.tick(); // asks eth_getTransactionByHash first
    await untilBroadcast(withdrawalId);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
    expect(signed.filter((s) => s.withdrawalId === withdrawalId)).toHaveLength(1);
    const prepared = messagesOf(observed, Topics.txPrepared).filter((p) => p.withdrawalId === withdrawalId);
    expect(prepared).toHaveLength(1);
    // the decision's approvals and their window travel to the signer unchanged
    expect(prepared[0]!.approvals.map((a) => a.operatorId)).toEqual(['op-stand-in']);
    expect(prepared[0]!.approvalsExpireAt && timestampToDate(prepared[0]!.approvalsExpireAt).toISOString()).toBe(DECISION_APPROVALS_EXPIRE_AT.toISOString());
  });
});

describe('C-5.5.5.2-c nonce gap: a later nonce pending behind an unsigned one is detected and reported with the fix', () => {
  it('reports the gap (nonce, withdrawal, fix) while the earlier withdrawal has no signature; signing it clears the gap and both reach FINAL', async () => {
    const gapWallet = await fundedAccount(anvil);
    const gapSigned: SignedRecord[] = [];
    const held = new Set<string>();
    subscriptions.push(await startTestSigner(bus, prefix, gapWallet, gapSigned, { skip: (id) => held.has(id) }));
    const gapId = `eth-hot-gap-${rand()}`;
    await register(gapId, gapWallet.address);
    const first = randomUUID();
    held.add(first);
    await publish(bus, prefix, Topics.policyDecided, first, decision({ withdrawalId: first, wallet: gapId, destination: randomAddress(), amount: 11n, chain: 'anvil' }));
    await waitFor(() => messagesOf(observed, Topics.txPrepared).some((p) => p.withdrawalId === first), 30_000, () => 'first prepared');
    const second = randomUUID();
    await publish(bus, prefix, Topics.policyDecided, second, decision({ withdrawalId: second, wallet: gapId, destination: randomAddress(), amount: 22n, chain: 'anvil' }));
    await untilBroadcast(second);

    const result = await adapter!.tick();
    const gap = result.nonceGaps.find((g) => g.wallet === gapWallet.address.toLowerCase());
    expect(gap).toMatchObject({ nonce: 0n, withdrawalId: first, state: 'PREPARED', blockedWithdrawals: 1 });
    expect(gap?.fix).toContain('get it signed');
    await mineAndTick();
    expect(hasState(second, TxState.TX_STATE_CONFIRMED)).toBe(false); // stuck behind nonce 0

    // The fix: the held withdrawal gets its signature (same prepared bytes, no new nonce).
    const prepared = messagesOf(observed, Topics.txPrepared).find((p) => p.withdrawalId === first);
    const raw = await gapWallet.signTransaction(parseTransaction(`0x${Buffer.from(prepared?.unsignedTx ?? []).toString('hex')}` as Hex) as never);
    await publish(bus, prefix, Topics.txSigned, gapWallet.address, TxSigned.fromPartial({ withdrawalId: first, decisionId: prepared?.decisionId ?? '', chain: 'anvil', sourceWallet: prepared?.sourceWallet ?? '', signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: keccak256(raw) }));
    await untilBroadcast(first);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(first, TxState.TX_STATE_FINAL) && hasState(second, TxState.TX_STATE_FINAL), 10_000, () => `${stateNames(first).join(',')} / ${stateNames(second).join(',')}`);
    expect((await adapter!.tick()).nonceGaps.filter((g) => g.wallet === gapWallet.address.toLowerCase())).toEqual([]);
  });
});

describe('C-5.5.4.3-b wrong chain: the adapter refuses to start on a node whose chain id or genesis differs from the asset profile', () => {
  it('refuses CHAIN_ID_MISMATCH on another chain id, GENESIS_MISMATCH on another genesis, NODE_BEHIND on a stale head', async () => {
    const other = await startAnvil({ chainId: 31338 });
    try {
      await expect(startChainAdapter(deps({ rpcUrl: other.url }))).rejects.toMatchObject({ code: 'CHAIN_ID_MISMATCH' });
      const sameIdOtherGenesis = await startAnvil();
      try {
        expect(sameIdOtherGenesis.genesisHash).not.toBe(anvil.genesisHash);
        await expect(startChainAdapter(deps({ rpcUrl: sameIdOtherGenesis.url }))).rejects.toMatchObject({ code: 'GENESIS_MISMATCH' });
      } finally {
        await sameIdOtherGenesis.stop();
      }
      const future = { now: () => new Date(Date.now() + 3_600_000) };
      await expect(startChainAdapter(deps({ clock: future, maxHeadAgeMs: 60_000 }))).rejects.toMatchObject({ code: 'NODE_BEHIND' });
    } finally {
      await other.stop();
    }
  });
});

describe('wallet registry: key.lifecycle maps the wallet id of a decision to its chain address; unknown or suspended wallets get no nonce', () => {
  const nonceRows = async (): Promise<string[]> => (await db.admin<{ wallet: string }>(`SELECT "wallet" FROM "wallet_nonce" ORDER BY "wallet"`)).map((r) => r.wallet);
  const withdrawalRow = async (id: string) => (await db.admin<{ wallet: string; wallet_id: string; state: string }>(`SELECT "wallet", "wallet_id", "state" FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [id]))[0];
  const preparedFor = (id: string) => messagesOf(observed, Topics.txPrepared).filter((p) => p.withdrawalId === id);

  it('GENERATED registers the wallet; a decision naming its id is prepared from the registered address (nonce keyed by the address), source_wallet = id, source_address = address', async () => {
    const account = await fundedAccount(anvil);
    const id = `eth-hot-reg-${rand()}`;
    const regSigned: SignedRecord[] = [];
    subscriptions.push(await startTestSigner(bus, prefix, account, regSigned));
    await register(id, account.address);
    expect(await registryRow(id)).toEqual({ wallet_id: id, address: account.address.toLowerCase(), key_id: `key-${id}`, state: 'active' });
    const withdrawalId = randomUUID();
    const destination = randomAddress();
    await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: id, destination, amount: 31_337n, chain: 'anvil' }));
    await untilBroadcast(withdrawalId);
    expect(preparedFor(withdrawalId)).toEqual([expect.objectContaining({ sourceWallet: id, sourceAddress: account.address.toLowerCase(), nonce: '0' })]);
    expect(await withdrawalRow(withdrawalId)).toMatchObject({ wallet: account.address.toLowerCase(), wallet_id: id });
    expect(await db.admin(`SELECT "next_nonce"::text AS n FROM "wallet_nonce" WHERE "chain" = 'anvil' AND "wallet" = $1`, [account.address.toLowerCase()])).toEqual([{ n: '1' }]);
    expect(await nonceRows()).not.toContain(id);
    expect(regSigned[0]?.sender.toLowerCase()).toBe(account.address.toLowerCase());
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
    for (const st of statuses(withdrawalId)) expect(st).toMatchObject({ sourceWallet: id, sourceAddress: account.address.toLowerCase() });
    expect(BigInt(await anvil.call<string>('eth_getBalance', [destination, 'latest']))).toBe(31_337n);
  });

  it('an unknown wallet id allocates nothing (WALLET_UNKNOWN, retried — the withdrawal waits); once key.lifecycle registers it, the retried decision is prepared', async () => {
    const account = await fundedAccount(anvil);
    const id = `eth-hot-late-${rand()}`;
    const waitingBefore = (await scrape('custody_chain_withdrawals_waiting_total', { reason: 'WALLET_UNKNOWN' })) ?? 0;
    const noncesBefore = await nonceRows();
    const withdrawalId = randomUUID();
    await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: id, destination: randomAddress(), amount: 42n, chain: 'anvil' }));
    await waitFor(async () => ((await scrape('custody_chain_withdrawals_waiting_total', { reason: 'WALLET_UNKNOWN' })) ?? 0) >= waitingBefore + 1, 30_000, () => 'WALLET_UNKNOWN wait');
    expect(await withdrawalRow(withdrawalId)).toBeUndefined();
    expect(await nonceRows()).toEqual(noncesBefore);
    expect(preparedFor(withdrawalId)).toEqual([]);
    expect(statuses(withdrawalId)).toEqual([]);
    // The lifecycle event arrives: the next retry finds the address.
    subscriptions.push(await startTestSigner(bus, prefix, account, []));
    await register(id, account.address);
    await untilBroadcast(withdrawalId);
    expect(preparedFor(withdrawalId)).toEqual([expect.objectContaining({ sourceWallet: id, sourceAddress: account.address.toLowerCase(), nonce: '0' })]);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(withdrawalId, TxState.TX_STATE_FINAL), 10_000, () => stateNames(withdrawalId).join(','));
  });

  it('a SUSPENDED wallet is refused: tx.status FAILED WALLET_SUSPENDED, no nonce, no withdrawal row, nothing to sign; RESUMED lets the next decision through', async () => {
    const account = await fundedAccount(anvil);
    const id = `eth-hot-susp-${rand()}`;
    subscriptions.push(await startTestSigner(bus, prefix, account, []));
    await register(id, account.address);
    await lifecycle(id, account.address, KeyTransition.KEY_TRANSITION_SUSPENDED, 'suspended');
    const noncesBefore = await nonceRows();
    const refused = randomUUID();
    await publish(bus, prefix, Topics.policyDecided, refused, decision({ withdrawalId: refused, wallet: id, destination: randomAddress(), amount: 5n, chain: 'anvil' }));
    await waitFor(() => hasState(refused, TxState.TX_STATE_FAILED), 30_000, () => `FAILED of ${refused}`);
    expect(statuses(refused)).toEqual([expect.objectContaining({ state: TxState.TX_STATE_FAILED, reasonCode: 'WALLET_SUSPENDED', sourceWallet: id, sourceAddress: account.address.toLowerCase(), txHash: '' })]);
    expect(await withdrawalRow(refused)).toBeUndefined();
    expect(await nonceRows()).toEqual(noncesBefore);
    expect(preparedFor(refused)).toEqual([]);

    await lifecycle(id, account.address, KeyTransition.KEY_TRANSITION_RESUMED, 'active');
    const allowed = randomUUID();
    await publish(bus, prefix, Topics.policyDecided, allowed, decision({ withdrawalId: allowed, wallet: id, destination: randomAddress(), amount: 6n, chain: 'anvil' }));
    await untilBroadcast(allowed);
    expect(preparedFor(allowed)).toEqual([expect.objectContaining({ sourceWallet: id, nonce: '0' })]);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(allowed, TxState.TX_STATE_FINAL), 10_000, () => stateNames(allowed).join(','));
  });
});

describe('C-5.5.2-a the recovered sender must be the registered address: the prepared bytes signed by another key are refused', () => {
  it('a signature by a key that is not the wallet\'s registered address is refused WRONG_SENDER, raises an incident and is never broadcast', async () => {
    const owner = await fundedAccount(anvil);
    const thief = await fundedAccount(anvil);
    const id = `eth-hot-victim-${rand()}`;
    await register(id, owner.address);
    const evil: SignedRecord[] = [];
    subscriptions.push(await startTestSigner(bus, prefix, thief, evil, { forAddress: owner.address }));
    const withdrawalId = randomUUID();
    await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: id, destination: randomAddress(), amount: 77n, chain: 'anvil' }));
    await waitFor(() => evil.length === 1, 30_000, () => 'signature by the wrong key');
    expect(evil[0]?.sender.toLowerCase()).toBe(thief.address.toLowerCase());
    await waitFor(async () => (await adapter!.store.incidents('anvil')).some((i) => i.kind === 'SIGNED_TX_MISMATCH' && i.txHash === evil[0]?.hash), 30_000, () => 'incident');
    const incident = (await adapter!.store.incidents('anvil')).find((i) => i.txHash === evil[0]?.hash);
    expect(incident?.detail).toMatch(/^WRONG_SENDER: /);
    expect(incident?.wallet).toBe(owner.address.toLowerCase());
    expect(await anvil.call('eth_getTransactionByHash', [evil[0]?.hash])).toBeNull();
    expect(hasState(withdrawalId, TxState.TX_STATE_BROADCAST)).toBe(false);
    const row = (await db.admin<{ state: string }>(`SELECT "state" FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId]))[0];
    expect(row?.state).toBe('PREPARED');
  });
});

describe('C-9.3.9.4-c outflow monitor: an on-chain outflow from a custody address that matches no signed withdrawal raises an incident', () => {
  // Last in the file: the foreign transfer consumes a nonce of the custody wallet.
  it('a transfer made with the wallet key outside the pipeline is flagged UNMATCHED_OUTFLOW; our own withdrawals are not', async () => {
    const before = (await adapter!.store.incidents('anvil')).filter((i) => i.kind === 'UNMATCHED_OUTFLOW').length;
    expect(before).toBe(0); // every withdrawal above was matched
    const nonce = Number(await anvil.call<string>('eth_getTransactionCount', [wallet.address, 'pending']));
    const raw = await wallet.signTransaction({ chainId: Number(anvil.chainId), type: 'eip1559', nonce, to: randomAddress() as Hex, value: 10n ** 18n, gas: 21_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1n });
    const hash = await anvil.call<string>('eth_sendRawTransaction', [raw]);
    await mineAndTick();
    const incidents = (await adapter!.store.incidents('anvil')).filter((i) => i.kind === 'UNMATCHED_OUTFLOW');
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.txHash).toBe(hash);
    expect(await adapter!.registry.metrics()).toMatch(/custody_chain_incidents_total\{[^}]*kind="UNMATCHED_OUTFLOW"[^}]*\} 1/);
  });
});
