// Issue 7: a nonce allocated for a prepared tx that the signer refuses must not wedge the
// wallet. REAL anvil (own, random port, no automine), PostgreSQL and Kafka. The signer is a
// stand-in driven by the test: it signs (viem) or refuses (custody.tx.refused.v1) exactly
// when told, so every step is deterministic (no timing assertions).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import { Topics, TxSigned, TxSigningRefused, TxState, type TxPrepared, type TxStatus } from '@custody/contracts';
import { protobufEnvelopeCodec, type Envelope, type KafkaBus, type Subscription } from '@custody/event-bus';
import { keccak256, parseTransaction, type Hex } from 'viem';
import { prefixedTopics, startChainAdapter, type ChainAdapterDeps, type ChainAdapterHandle, type EvmAssetProfile } from '../../src/index.js';
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
  waitFor,
  type Anvil,
  type Observed,
  type TestDatabase,
} from './support.js';

const prefix = `car${rand()}.`;
const CONFIRMATIONS = 2;
let anvil: Anvil;
let db: TestDatabase;
let bus: KafkaBus;
let adapter: ChainAdapterHandle | undefined;
let profile: EvmAssetProfile;
const subscriptions: Subscription[] = [];
const observed: Observed[] = [];

function deps(overrides: Partial<ChainAdapterDeps> = {}): ChainAdapterDeps {
  return {
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    rpcUrl: anvil.url,
    profile,
    topicName: prefixedTopics(prefix),
    consumerGroupId: `chain-adapter-${prefix}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 0,
    ...overrides,
  };
}

type Account = Awaited<ReturnType<typeof fundedAccount>>;

const statuses = (withdrawalId: string): TxStatus[] => messagesOf(observed, Topics.txStatus).filter((s) => s.withdrawalId === withdrawalId);
const stateNames = (withdrawalId: string): string => statuses(withdrawalId).map((s) => `${TxState[s.state].replace('TX_STATE_', '')}${s.reasonCode ? `:${s.reasonCode}` : ''}`).join(',');
const hasState = (withdrawalId: string, state: TxState): boolean => statuses(withdrawalId).some((s) => s.state === state);
const preparedOf = (withdrawalId: string): TxPrepared[] => messagesOf(observed, Topics.txPrepared).filter((p) => p.withdrawalId === withdrawalId);

async function mineAndTick(blocks = 1): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    await anvil.mine();
    await adapter?.tick();
  }
}

async function register(walletId: string, address: string): Promise<void> {
  await publishKeyLifecycle(bus, prefix, { walletId, address });
  await waitFor(async () => (await db.admin(`SELECT 1 FROM "custody_wallet" WHERE "wallet_id" = $1 AND "state" = 'active'`, [walletId])).length === 1, 30_000, () => `wallet ${walletId} registered`);
}

/** policy.decided ALLOW for the wallet id; waits for its tx.prepared; returns it. */
async function prepare(walletId: string, amount: bigint): Promise<TxPrepared> {
  const withdrawalId = randomUUID();
  await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: walletId, destination: randomAddress(), amount, chain: 'anvil' }));
  await waitFor(() => preparedOf(withdrawalId).length > 0, 30_000, () => `tx.prepared of ${withdrawalId}`);
  return preparedOf(withdrawalId)[0] as TxPrepared;
}

/** The stand-in signer signs exactly the prepared bytes and publishes tx.signed. */
async function sign(account: Account, p: TxPrepared): Promise<string> {
  const raw = await account.signTransaction(parseTransaction(`0x${Buffer.from(p.unsignedTx).toString('hex')}` as Hex) as never);
  const hash = keccak256(raw);
  await publish(bus, prefix, Topics.txSigned, p.sourceWallet, TxSigned.fromPartial({ withdrawalId: p.withdrawalId, decisionId: p.decisionId, chain: p.chain, sourceWallet: p.sourceWallet, keyId: 'test-key', signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: hash }));
  return hash;
}

/** The stand-in signer refuses: custody.tx.refused.v1 (one envelope, returned so a test can redeliver it). */
async function refuse(p: Pick<TxPrepared, 'withdrawalId' | 'decisionId' | 'sourceWallet'>, reasonCode: string, decisionConsumed: boolean): Promise<Envelope> {
  return publish(bus, prefix, Topics.txRefused, p.sourceWallet, TxSigningRefused.fromPartial({ withdrawalId: p.withdrawalId, decisionId: p.decisionId, chain: 'anvil', sourceWallet: p.sourceWallet, reasonCode, detail: 'stand-in', decisionConsumed }));
}

/** Redelivery of the very same envelope (same id): the inbox must absorb it. */
async function redeliver(envelope: Envelope): Promise<void> {
  await bus.publish([{ topic: `${prefix}${Topics.txRefused}`, key: envelope.key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

interface RefusalRecord {
  event_id: string;
  withdrawal_id: string;
  outcome: string;
}
const refusalRecords = (withdrawalId: string): Promise<RefusalRecord[]> => db.admin<RefusalRecord>(`SELECT "event_id", "withdrawal_id", "outcome" FROM "signer_refusal" WHERE "withdrawal_id" = $1 ORDER BY "received_at"`, [withdrawalId]);
const untilRefusalRecorded = (withdrawalId: string, count: number): Promise<void> =>
  waitFor(async () => (await refusalRecords(withdrawalId)).length >= count, 30_000, () => `${count} refusal record(s) for ${withdrawalId}`);

interface Row {
  withdrawal_id: string;
  nonce: string;
  state: string;
  reason_code: string;
  nonce_released: boolean;
}
const rowOf = async (withdrawalId: string): Promise<Row | undefined> =>
  (await db.admin<Row>(`SELECT "withdrawal_id", "nonce"::text AS nonce, "state", "reason_code", "nonce_released" FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId]))[0];
const freeList = async (address: string): Promise<bigint[]> =>
  (await db.admin<{ n: string }>(`SELECT "nonce"::text AS n FROM "wallet_nonce_free" WHERE "chain" = 'anvil' AND "wallet" = $1 ORDER BY "nonce"`, [address.toLowerCase()])).map((r) => BigInt(r.n));
const latestCount = async (address: string): Promise<bigint> => BigInt(await anvil.call<string>('eth_getTransactionCount', [address, 'latest']));

async function refusalCounts(): Promise<Record<string, number>> {
  const metric = adapter?.registry.getSingleMetric('custody_chain_signer_refusals_total');
  const values = metric ? (await metric.get()).values : [];
  return Object.fromEntries(values.filter((v) => v.value > 0).map((v) => [String(v.labels['outcome']), v.value]));
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
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = newBus();
  subscriptions.push(await observe(bus, prefix, observed));
  adapter = await startChainAdapter(deps());
});

afterAll(async () => {
  await adapter?.stop();
  for (const s of subscriptions) await s.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await anvil?.stop();
});

describe('C-5.5.5.2-c single nonce allocator: a nonce refused by the signer is released and reused, so later withdrawals of the wallet are not wedged; no nonce is handed out twice across a restart', () => {
  it('refuse A (nonce 0) → A FAILED + tx.status FAILED, nonce 0 freed; B (nonce 1) waits; after a restart C gets nonce 0, D nonce 2; B, C, D mined', async () => {
    const account = await fundedAccount(anvil);
    const walletId = `eth-hot-refusal-${rand()}`;
    const address = account.address.toLowerCase();
    await register(walletId, account.address);

    const a = await prepare(walletId, 1_000n);
    const b = await prepare(walletId, 2_000n);
    expect([a.nonce, b.nonce]).toEqual(['0', '1']);

    // Refused after the signer's reservation: nothing can ever be signed for A's decision.
    const refusalA = await refuse(a, 'KEY_SUSPENDED', true);
    await waitFor(() => hasState(a.withdrawalId, TxState.TX_STATE_FAILED), 30_000, () => `A FAILED: ${stateNames(a.withdrawalId)}`);
    expect(statuses(a.withdrawalId)).toEqual([expect.objectContaining({ state: TxState.TX_STATE_FAILED, reasonCode: 'KEY_SUSPENDED', sourceWallet: walletId, sourceAddress: address })]);
    expect(await rowOf(a.withdrawalId)).toMatchObject({ nonce: '0', state: 'FAILED', reason_code: 'KEY_SUSPENDED', nonce_released: true });
    expect(await freeList(address)).toEqual([0n]);

    // Exactly once: the same envelope redelivered is absorbed by the inbox; the same refusal in a
    // new envelope is recognised (duplicate); neither emits a second FAILED nor frees anything again.
    await redeliver(refusalA);
    await refuse(a, 'KEY_SUSPENDED', true);
    // Refused BEFORE the reservation (a forged/tampered request): B's genuine request may still be signed → nothing freed.
    await refuse(b, 'TOKEN_BAD_SIGNATURE', false);
    // Unknown withdrawal, and B's id with a decision that is not B's: ignored.
    const unknownId = randomUUID();
    await refuse({ withdrawalId: unknownId, decisionId: randomUUID(), sourceWallet: walletId }, 'KEY_SUSPENDED', true);
    await refuse({ ...b, decisionId: randomUUID() }, 'KEY_SUSPENDED', true);
    await untilRefusalRecorded(a.withdrawalId, 2);
    await untilRefusalRecorded(b.withdrawalId, 2);
    await untilRefusalRecorded(unknownId, 1);
    expect((await refusalRecords(a.withdrawalId)).map((r) => r.outcome)).toEqual(['released', 'duplicate']);
    expect((await refusalRecords(b.withdrawalId)).map((r) => r.outcome).sort()).toEqual(['foreign', 'not_consumed']);
    expect((await refusalRecords(unknownId)).map((r) => r.outcome)).toEqual(['unknown']);
    expect(statuses(a.withdrawalId)).toHaveLength(1);
    expect(statuses(b.withdrawalId)).toEqual([]);
    expect(await rowOf(b.withdrawalId)).toMatchObject({ nonce: '1', state: 'PREPARED', nonce_released: false });
    expect(await freeList(address)).toEqual([0n]);

    // B signed and broadcast: it waits behind nonce 0, which nothing holds any more.
    const hashB = await sign(account, b);
    await waitFor(() => hasState(b.withdrawalId, TxState.TX_STATE_BROADCAST), 30_000, () => `B BROADCAST: ${stateNames(b.withdrawalId)}`);
    // A refusal of a re-sign (e.g. a fee bump) for B, which has a signed attempt: recorded, nothing freed, B still followed.
    await refuse(b, 'DECISION_ALREADY_USED', true);
    await untilRefusalRecorded(b.withdrawalId, 3);
    expect((await refusalRecords(b.withdrawalId)).at(-1)?.outcome).toBe('signed_kept');
    expect(await rowOf(b.withdrawalId)).toMatchObject({ state: 'BROADCAST', nonce_released: false });
    expect(await refusalCounts()).toEqual({ released: 1, duplicate: 1, not_consumed: 1, unknown: 1, foreign: 1, signed_kept: 1 });

    await anvil.mine();
    const pass = await adapter!.tick();
    expect(await anvil.call('eth_getTransactionReceipt', [hashB])).toBeNull(); // wedged behind nonce 0
    const gap = pass.nonceGaps.find((g) => g.wallet === address);
    expect(gap).toMatchObject({ nonce: 0n, withdrawalId: '', blockedWithdrawals: 1 });
    expect(gap?.fix).toContain('released by a signer refusal');

    // Restart in the middle: the free list and the counter are in PostgreSQL.
    await adapter?.stop();
    adapter = await startChainAdapter(deps());

    const c = await prepare(walletId, 3_000n);
    const d = await prepare(walletId, 4_000n);
    expect([c.nonce, d.nonce]).toEqual(['0', '2']); // the released nonce first, then the counter — 1 is never handed out again
    expect(await freeList(address)).toEqual([]);

    // A signature for A that arrives now (its nonce belongs to C) is refused and never broadcast.
    const lateA = await account.signTransaction(parseTransaction(`0x${Buffer.from(a.unsignedTx).toString('hex')}` as Hex) as never);
    const hashLateA = keccak256(lateA);
    await publish(bus, prefix, Topics.txSigned, walletId, TxSigned.fromPartial({ withdrawalId: a.withdrawalId, decisionId: a.decisionId, chain: 'anvil', sourceWallet: walletId, keyId: 'test-key', signedTx: Buffer.from(lateA.slice(2), 'hex'), txHash: hashLateA }));
    await waitFor(async () => (await adapter!.store.incidents('anvil')).some((i) => i.txHash === hashLateA), 30_000, () => 'late signature of A refused');
    expect((await adapter!.store.incidents('anvil')).find((i) => i.txHash === hashLateA)?.detail).toContain('NONCE_RELEASED');
    expect(await anvil.call('eth_getTransactionByHash', [hashLateA])).toBeNull();

    await sign(account, c);
    await sign(account, d);
    for (const w of [c, d]) await waitFor(() => hasState(w.withdrawalId, TxState.TX_STATE_BROADCAST), 30_000, () => `BROADCAST ${w.withdrawalId}: ${stateNames(w.withdrawalId)}`);
    await mineAndTick(CONFIRMATIONS);
    for (const w of [b, c, d]) await waitFor(() => hasState(w.withdrawalId, TxState.TX_STATE_FINAL), 30_000, () => `FINAL ${w.withdrawalId}: ${stateNames(w.withdrawalId)}`);
    expect(await latestCount(address)).toBe(3n);
    expect(hasState(a.withdrawalId, TxState.TX_STATE_BROADCAST)).toBe(false);

    // One live holder per nonce; every nonce the allocator handed out is accounted for.
    const rows = await db.admin<{ nonce: string; nonce_released: boolean; withdrawal_id: string }>(
      `SELECT "nonce"::text AS nonce, "nonce_released", "withdrawal_id" FROM "withdrawal_tx" WHERE "wallet" = $1 ORDER BY "nonce", "nonce_released"`,
      [address],
    );
    expect(rows.map((r) => [r.withdrawal_id, r.nonce, r.nonce_released])).toEqual([
      [c.withdrawalId, '0', false],
      [a.withdrawalId, '0', true],
      [b.withdrawalId, '1', false],
      [d.withdrawalId, '2', false],
    ]);
  });

  it('a released nonce that the chain already used (signed outside the pipeline) is never reused: NONCE_CONSUMED_ELSEWHERE incident, the next withdrawal gets the counter', async () => {
    const account = await fundedAccount(anvil);
    const walletId = `eth-hot-outside-${rand()}`;
    const address = account.address.toLowerCase();
    await register(walletId, account.address);
    const e = await prepare(walletId, 5_000n);
    expect(e.nonce).toBe('0');
    await refuse(e, 'KEY_NOT_ACTIVE', true);
    await waitFor(() => hasState(e.withdrawalId, TxState.TX_STATE_FAILED), 30_000, () => `E FAILED: ${stateNames(e.withdrawalId)}`);
    expect(await freeList(address)).toEqual([0n]);

    // Someone with the key sends at nonce 0 outside the pipeline, and it is mined.
    const outside = await account.signTransaction({ type: 'eip1559', chainId: Number(anvil.chainId), nonce: 0, to: randomAddress() as Hex, value: 1n, gas: 21_000n, maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 1_000_000_000n });
    await anvil.call('eth_sendRawTransaction', [outside]);
    await mineAndTick();
    expect(await latestCount(address)).toBe(1n);

    const f = await prepare(walletId, 6_000n);
    expect(f.nonce).toBe('1');
    expect(await freeList(address)).toEqual([]);
    const incidents = (await adapter!.store.incidents('anvil')).filter((i) => i.wallet === address && i.kind === 'NONCE_CONSUMED_ELSEWHERE');
    expect(incidents).toHaveLength(1);
    expect(incidents[0]?.detail).toContain('released nonce 0');

    await sign(account, f);
    await waitFor(() => hasState(f.withdrawalId, TxState.TX_STATE_BROADCAST), 30_000, () => `F BROADCAST: ${stateNames(f.withdrawalId)}`);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(f.withdrawalId, TxState.TX_STATE_FINAL), 30_000, () => `F FINAL: ${stateNames(f.withdrawalId)}`);
  });
});

