// Issue 7 remainders on a REAL anvil (own, random port, no automine), PostgreSQL and Kafka:
// operator cancellation (ChainAdminService over mTLS with pinned certificates and Ed25519
// signatures), amount-scaled confirmation depth, and the latched pause breaker after a deep
// reorganisation. The signer is a stand-in that signs exactly the prepared bytes when told.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, randomUUID, sign as edSign, type KeyObject } from 'node:crypto';
import { createHash } from 'node:crypto';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ChainAdminServiceClient, ChainBreakerState, DepositState, IncidentSeverity, Topics, TxSigned, TxState, type TxPrepared, type TxStatus } from '@custody/contracts';
import { AuditUnavailableError, startMetricsServer, type OperatorActionRecord, type OperatorAuditGate } from '@custody/platform';
import type { KafkaBus, Subscription } from '@custody/event-bus';
import { createTestPki, type TestPki } from '@custody/testing';
import { keccak256, parseTransaction, type Hex } from 'viem';
import { AdminHeaders, adminSigningDigest, prefixedTopics, startChainAdapter, type ChainAdapterHandle, type EvmAssetProfile } from '../../src/index.js';
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

const prefix = `cab${rand()}.`;
const CONFIRMATIONS = 3;
const ETH = 10n ** 18n;
/** Above 1 ETH: 5 confirmations. */
const LARGE_DEPTH = 5;
const PAUSE_REORG_DEPTH = 2;
const DEPTH_FACTOR = 2;
let anvil: Anvil;
let db: TestDatabase;
let bus: KafkaBus;
let adapter: ChainAdapterHandle;
let client: ChainAdminServiceClient;
let unpinnedClient: ChainAdminServiceClient;
let pki: TestPki | undefined;
const subscriptions: Subscription[] = [];
const observed: Observed[] = [];
const depositAddress = randomAddress();
const alice = generateKeyPairSync('ed25519');
/** The operator audit gate (our own port): records what it was given; `refusing` = audit down. */
const audited: OperatorActionRecord[] = [];
let auditDown = false;
const auditGate: OperatorAuditGate = {
  record: async (a) => {
    if (auditDown) throw new AuditUnavailableError({ cause: new Error('audit stopped') });
    audited.push(a);
    return { sequence: BigInt(audited.length), recordHash: new Uint8Array(32) };
  },
};

type Account = Awaited<ReturnType<typeof fundedAccount>>;

const statuses = (withdrawalId: string): TxStatus[] => messagesOf(observed, Topics.txStatus).filter((s) => s.withdrawalId === withdrawalId);
const stateNames = (withdrawalId: string): string[] => statuses(withdrawalId).map((s) => `${TxState[s.state].replace('TX_STATE_', '')}${s.state === TxState.TX_STATE_CONFIRMED || s.state === TxState.TX_STATE_FINAL ? `(${s.confirmations})` : ''}${s.reasonCode ? `:${s.reasonCode}` : ''}`);
const hasState = (withdrawalId: string, state: TxState): boolean => statuses(withdrawalId).some((s) => s.state === state);
const preparedOf = (withdrawalId: string): TxPrepared[] => messagesOf(observed, Topics.txPrepared).filter((p) => p.withdrawalId === withdrawalId);

async function mineAndTick(blocks = 1): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    await anvil.mine();
    await adapter.tick();
  }
}

async function register(walletId: string, address: string): Promise<void> {
  await publishKeyLifecycle(bus, prefix, { walletId, address });
  await waitFor(async () => (await db.admin(`SELECT 1 FROM "custody_wallet" WHERE "wallet_id" = $1 AND "state" = 'active'`, [walletId])).length === 1, 30_000, () => `wallet ${walletId} registered`);
}

async function decide(walletId: string, amount: bigint): Promise<string> {
  const withdrawalId = randomUUID();
  await publish(bus, prefix, Topics.policyDecided, withdrawalId, decision({ withdrawalId, wallet: walletId, destination: randomAddress(), amount, chain: 'anvil' }));
  return withdrawalId;
}

async function prepare(walletId: string, amount: bigint): Promise<TxPrepared> {
  const withdrawalId = await decide(walletId, amount);
  await waitFor(() => preparedOf(withdrawalId).length > 0, 30_000, () => `tx.prepared of ${withdrawalId}`);
  return preparedOf(withdrawalId)[0] as TxPrepared;
}

async function signAndBroadcast(account: Account, p: TxPrepared): Promise<string> {
  const raw = await account.signTransaction(parseTransaction(`0x${Buffer.from(p.unsignedTx).toString('hex')}` as Hex) as never);
  const hash = keccak256(raw);
  await publish(bus, prefix, Topics.txSigned, p.sourceWallet, TxSigned.fromPartial({ withdrawalId: p.withdrawalId, decisionId: p.decisionId, chain: p.chain, sourceWallet: p.sourceWallet, keyId: 'test-key', signedTx: Buffer.from(raw.slice(2), 'hex'), txHash: hash }));
  await waitFor(() => hasState(p.withdrawalId, TxState.TX_STATE_BROADCAST), 30_000, () => `BROADCAST ${p.withdrawalId}: ${stateNames(p.withdrawalId).join(',')}`);
  return hash;
}

interface Row {
  state: string;
  reason_code: string;
  nonce: string;
  nonce_released: boolean;
}
const rowOf = async (withdrawalId: string): Promise<Row | undefined> =>
  (await db.admin<Row>(`SELECT "state", "reason_code", "nonce"::text AS nonce, "nonce_released" FROM "withdrawal_tx" WHERE "withdrawal_id" = $1`, [withdrawalId]))[0];

async function scrape(name: string, labels: Record<string, string>): Promise<number> {
  const server = await startMetricsServer({ registry: adapter.registry, port: 0 });
  try {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const want = JSON.stringify(Object.entries({ ...labels, service: 'chain-adapter' }).sort());
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const got = [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
      if (JSON.stringify(got.sort()) === want) return Number(m[3]);
    }
    return 0;
  } finally {
    await server.close();
  }
}

/** One signed admin call: alice's headers and signature over method + body (proto field order). */
function adminCall<Req, Res>(c: ChainAdminServiceClient, method: 'GetBreaker' | 'ResumeChain' | 'CancelWithdrawal', request: Req, body: [string, string][], over: { nonce?: string; key?: KeyObject } = {}): Promise<Res> {
  const ts = String(Date.now());
  const nonce = over.nonce ?? randomUUID().replace(/-/g, '');
  const path = `/custody.chain.v1.ChainAdminService/${method}`;
  const md = new Metadata();
  md.set(AdminHeaders.operator, 'alice');
  md.set(AdminHeaders.timestamp, ts);
  md.set(AdminHeaders.nonce, nonce);
  md.set(AdminHeaders.signature, edSign(null, adminSigningDigest(path, 'alice', ts, nonce, body), over.key ?? alice.privateKey).toString('base64'));
  const fn = { GetBreaker: c.getBreaker, ResumeChain: c.resumeChain, CancelWithdrawal: c.cancelWithdrawal }[method].bind(c) as unknown as (r: Req, m: Metadata, cb: (e: ServiceError | null, r: Res) => void) => void;
  return new Promise((resolve, reject) => fn(request, md, (err, res) => (err ? reject(err) : resolve(res))));
}
const reasonOf = (err: unknown): string | undefined => (err as ServiceError).metadata?.get('error-reason')[0] as string | undefined;

beforeAll(async () => {
  pki = createTestPki({ prefix: 'chain-admin-', caName: 'ca' });
  pki.server('server');
  pki.client('op-alice');
  pki.client('op-unpinned');
  const pems = pki.pemFiles();
  const pem = (n: string): Buffer => pems[n]!;
  const fingerprint = (cert: Buffer) => createHash('sha256').update(Buffer.from(cert.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')).digest('hex');

  anvil = await startAnvil();
  const profile: EvmAssetProfile = {
    asset: 'ETH',
    chain: 'anvil',
    chainId: anvil.chainId,
    genesisHash: anvil.genesisHash,
    confirmations: CONFIRMATIONS,
    depthTiers: [{ above: ETH, confirmations: LARGE_DEPTH }],
    gasLimit: 21_000n,
    fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n },
  };
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = newBus();
  subscriptions.push(await observe(bus, prefix, observed));
  adapter = await startChainAdapter({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    rpcUrl: anvil.url,
    profile,
    topicName: prefixedTopics(prefix),
    consumerGroupId: `chain-adapter-${prefix}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 0,
    depositAddresses: new Map([[depositAddress, 'acct-7']]),
    breaker: { pauseReorgDepth: PAUSE_REORG_DEPTH, depthFactor: DEPTH_FACTOR },
    operatorAudit: auditGate,
    adminOperators: [{ operatorId: 'alice', publicKey: new Uint8Array(alice.publicKey.export({ format: 'der', type: 'spki' }).subarray(12)), certificateSha256: [fingerprint(pem('op-alice.crt'))] }],
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'tls', certChain: pem('server.crt'), privateKey: pem('server.key'), clientCa: pem('ca.crt'), requireClientCertificate: true } },
  });
  client = new ChainAdminServiceClient(`127.0.0.1:${adapter.grpcPort}`, credentials.createSsl(pem('ca.crt'), pem('op-alice.key'), pem('op-alice.crt')));
  unpinnedClient = new ChainAdminServiceClient(`127.0.0.1:${adapter.grpcPort}`, credentials.createSsl(pem('ca.crt'), pem('op-unpinned.key'), pem('op-unpinned.crt')));
}, 120_000);

afterAll(async () => {
  client?.close();
  unpinnedClient?.close();
  await adapter?.stop();
  for (const s of subscriptions) await s.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await anvil?.stop();
  pki?.cleanup();
});

describe('operator cancellation over ChainAdminService (pinned certificate + Ed25519 signature)', () => {
  it('PREPARED and unsigned → FAILED OPERATOR_CANCELLED, tx.status FAILED, nonce released and reused; broadcast → FAILED_PRECONDITION, nothing changed', async () => {
    const account = await fundedAccount(anvil);
    const walletId = `eth-hot-cancel-${rand()}`;
    await register(walletId, account.address);
    const a = await prepare(walletId, 1_000n);
    const b = await prepare(walletId, 2_000n);
    expect([a.nonce, b.nonce]).toEqual(['0', '1']);

    // Not pinned, or a signature by another key: refused, nothing changed.
    await expect(adminCall(unpinnedClient, 'CancelWithdrawal', { withdrawalId: a.withdrawalId, reason: 'customer asked' }, [['withdrawal_id', a.withdrawalId], ['reason', 'customer asked']])).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
    const other = generateKeyPairSync('ed25519');
    const bad = await adminCall(client, 'CancelWithdrawal', { withdrawalId: a.withdrawalId, reason: 'customer asked' }, [['withdrawal_id', a.withdrawalId], ['reason', 'customer asked']], { key: other.privateKey }).catch((e: unknown) => e);
    expect(reasonOf(bad)).toBe('BAD_SIGNATURE');
    expect(await rowOf(a.withdrawalId)).toMatchObject({ state: 'PREPARED', nonce_released: false });

    // Unauthenticated calls never reach audit; audit down: refused UNAVAILABLE, nothing changed.
    expect(audited.filter((r) => r.target === a.withdrawalId)).toEqual([]);
    auditDown = true;
    const refusedByAudit = await adminCall(client, 'CancelWithdrawal', { withdrawalId: a.withdrawalId, reason: 'customer asked' }, [['withdrawal_id', a.withdrawalId], ['reason', 'customer asked']]).catch((e: unknown) => e);
    auditDown = false;
    expect(refusedByAudit).toMatchObject({ code: status.UNAVAILABLE });
    expect(reasonOf(refusedByAudit)).toBe('AUDIT_UNAVAILABLE');
    expect(await rowOf(a.withdrawalId)).toMatchObject({ state: 'PREPARED', nonce_released: false });

    const nonce = `cancel${rand()}${rand()}`;
    const res = await adminCall<unknown, { state: string; nonce: string }>(client, 'CancelWithdrawal', { withdrawalId: a.withdrawalId, reason: 'customer asked' }, [['withdrawal_id', a.withdrawalId], ['reason', 'customer asked']], { nonce });
    expect(res).toMatchObject({ state: 'FAILED', nonce: '0' });
    expect(audited.filter((r) => r.target === a.withdrawalId).map((r) => [r.operatorId, r.action, r.requestId])).toEqual([['alice', 'chain.withdrawal.cancel', nonce]]);
    expect(await rowOf(a.withdrawalId)).toMatchObject({ state: 'FAILED', reason_code: 'OPERATOR_CANCELLED', nonce_released: true });
    await waitFor(() => hasState(a.withdrawalId, TxState.TX_STATE_FAILED), 30_000, () => stateNames(a.withdrawalId).join(','));
    expect(statuses(a.withdrawalId)).toEqual([expect.objectContaining({ state: TxState.TX_STATE_FAILED, reasonCode: 'OPERATOR_CANCELLED', sourceWallet: walletId })]);
    expect(await db.admin(`SELECT "operator_id", "method", "target", "outcome" FROM "chain_admin_action" WHERE "nonce" = $1`, [nonce])).toEqual([{ operator_id: 'alice', method: 'CancelWithdrawal', target: a.withdrawalId, outcome: 'CANCELLED' }]);
    // Cancelling it again is refused as not cancellable (checked before anything is recorded).
    const twice = await adminCall(client, 'CancelWithdrawal', { withdrawalId: a.withdrawalId, reason: 'customer asked' }, [['withdrawal_id', a.withdrawalId], ['reason', 'customer asked']]).catch((e: unknown) => e);
    expect((twice as ServiceError).code).toBe(status.FAILED_PRECONDITION);
    expect(reasonOf(twice)).toBe('NOT_CANCELLABLE');
    // A signed request replayed with the same nonce: refused.
    const readNonce = `read${rand()}${rand()}${rand()}`;
    await adminCall(client, 'GetBreaker', { chain: 'anvil' }, [['chain', 'anvil']], { nonce: readNonce });
    const replay = await adminCall(client, 'GetBreaker', { chain: 'anvil' }, [['chain', 'anvil']], { nonce: readNonce }).catch((e: unknown) => e);
    expect((replay as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect(reasonOf(replay)).toBe('REPLAYED_REQUEST');

    // The released nonce 0 is handed out again (free-list path of the signer refusals).
    const c = await prepare(walletId, 3_000n);
    expect(c.nonce).toBe('0');

    // b signed and broadcast, not mined: only a signed replacement could cancel it.
    await signAndBroadcast(account, b);
    const refused = await adminCall(client, 'CancelWithdrawal', { withdrawalId: b.withdrawalId, reason: 'customer asked' }, [['withdrawal_id', b.withdrawalId], ['reason', 'customer asked']]).catch((e: unknown) => e);
    expect((refused as ServiceError).code).toBe(status.FAILED_PRECONDITION);
    expect(reasonOf(refused)).toBe('CANCEL_NEEDS_REPLACEMENT');
    expect(await rowOf(b.withdrawalId)).toMatchObject({ state: 'BROADCAST', nonce: '1', nonce_released: false });
    const unknown = await adminCall(client, 'CancelWithdrawal', { withdrawalId: 'nope', reason: 'customer asked' }, [['withdrawal_id', 'nope'], ['reason', 'customer asked']]).catch((e: unknown) => e);
    expect((unknown as ServiceError).code).toBe(status.NOT_FOUND);

    // c signed; b and c mined and final.
    await signAndBroadcast(account, c);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(b.withdrawalId, TxState.TX_STATE_FINAL) && hasState(c.withdrawalId, TxState.TX_STATE_FINAL), 30_000, () => `${stateNames(b.withdrawalId).join(',')} / ${stateNames(c.withdrawalId).join(',')}`);
  });
});

describe('C-5.5.4-a (adapter side) / C-8.3.3-b (deposit above X requires N_high) amount-scaled confirmation depth', () => {
  it('a small and a large withdrawal in the same block: small FINAL at 3, large only at 5; deposits likewise', async () => {
    const account = await fundedAccount(anvil);
    const walletId = `eth-hot-depth-${rand()}`;
    await register(walletId, account.address);
    const small = await prepare(walletId, 1_000n);
    const large = await prepare(walletId, 2n * ETH);
    await signAndBroadcast(account, small);
    await signAndBroadcast(account, large);
    // Two deposits to a custody deposit address, same block.
    const payer = await fundedAccount(anvil);
    const tx = (nonce: number, value: bigint) => payer.signTransaction({ chainId: Number(anvil.chainId), type: 'eip1559', nonce, to: depositAddress as Hex, value, gas: 21_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1n });
    const smallDeposit = await anvil.call<string>('eth_sendRawTransaction', [await tx(0, 10n ** 15n)]);
    const largeDeposit = await anvil.call<string>('eth_sendRawTransaction', [await tx(1, 3n * ETH)]);
    const depositsOf = (hash: string) => messagesOf(observed, Topics.depositDetected).filter((d) => d.txHash === hash);

    await mineAndTick(CONFIRMATIONS);
    // Events leave the outbox asynchronously: wait for the large deposit's third observation too.
    await waitFor(
      () => hasState(small.withdrawalId, TxState.TX_STATE_FINAL) && depositsOf(smallDeposit).some((d) => d.state === DepositState.DEPOSIT_STATE_FINAL) && depositsOf(largeDeposit).some((d) => d.confirmations === CONFIRMATIONS),
      30_000,
      () => stateNames(small.withdrawalId).join(','),
    );
    expect(statuses(small.withdrawalId).at(-1)?.blockHeight).toBe(statuses(large.withdrawalId).at(-1)?.blockHeight);
    expect(hasState(large.withdrawalId, TxState.TX_STATE_FINAL)).toBe(false);
    expect(await rowOf(large.withdrawalId)).toMatchObject({ state: 'CONFIRMED' });
    expect(depositsOf(largeDeposit).map((d) => [d.confirmations, d.state, d.requiredConfirmations])).toEqual([
      [1, DepositState.DEPOSIT_STATE_PENDING, LARGE_DEPTH],
      [2, DepositState.DEPOSIT_STATE_PENDING, LARGE_DEPTH],
      [3, DepositState.DEPOSIT_STATE_PENDING, LARGE_DEPTH],
    ]);
    expect(depositsOf(smallDeposit).at(-1)).toMatchObject({ confirmations: 3, state: DepositState.DEPOSIT_STATE_FINAL, requiredConfirmations: CONFIRMATIONS });

    await mineAndTick(LARGE_DEPTH - CONFIRMATIONS - 1);
    expect(await rowOf(large.withdrawalId)).toMatchObject({ state: 'CONFIRMED' });
    await mineAndTick();
    await waitFor(() => hasState(large.withdrawalId, TxState.TX_STATE_FINAL) && depositsOf(largeDeposit).some((d) => d.state === DepositState.DEPOSIT_STATE_FINAL), 30_000, () => stateNames(large.withdrawalId).join(','));
    expect(stateNames(small.withdrawalId)).toEqual(['BROADCAST', 'CONFIRMED(1)', 'CONFIRMED(2)', 'FINAL(3)']);
    expect(stateNames(large.withdrawalId)).toEqual(['BROADCAST', 'CONFIRMED(1)', 'CONFIRMED(2)', 'CONFIRMED(3)', 'CONFIRMED(4)', 'FINAL(5)']);
    expect(depositsOf(largeDeposit).at(-1)).toMatchObject({ confirmations: LARGE_DEPTH, state: DepositState.DEPOSIT_STATE_FINAL });
  });
});

describe('C-8.3.3-b deep reorg → chain paused (latched) and confirmation floor raised; only an operator resumes', () => {
  it('anvil_reorg deeper than the threshold trips the breaker: incident, a new decision is not prepared, in-flight depth doubled; ResumeChain → prepared and FINAL', async () => {
    const account = await fundedAccount(anvil);
    const walletId = `eth-hot-breaker-${rand()}`;
    await register(walletId, account.address);
    const inFlight = await prepare(walletId, 5_000n);
    const hash = await signAndBroadcast(account, inFlight);
    await mineAndTick(2); // in a block, 2 confirmations
    await waitFor(() => statuses(inFlight.withdrawalId).some((s) => s.confirmations === 2), 30_000, () => stateNames(inFlight.withdrawalId).join(','));

    await anvil.call('anvil_reorg', [PAUSE_REORG_DEPTH, []]); // replace the top 2 blocks
    const result = await adapter.tick();
    expect(result.reorgDepth).toBe(PAUSE_REORG_DEPTH);
    const breaker = (await db.admin<{ state: string; trip_kind: string; depth_factor: number }>(`SELECT "state", "trip_kind", "depth_factor" FROM "chain_breaker" WHERE "chain" = 'anvil'`))[0];
    expect(breaker).toEqual({ state: 'TRIPPED', trip_kind: 'REORG_DEPTH_EXCEEDED', depth_factor: DEPTH_FACTOR });
    expect(await scrape('custody_chain_breaker_tripped', { chain: 'anvil' })).toBe(1);
    const paused = () => messagesOf(observed, Topics.incidentRaised).filter((i) => i.kind === 'CHAIN_PAUSED');
    await waitFor(() => paused().length === 1, 30_000, () => 'CHAIN_PAUSED incident');
    expect(paused()[0]).toMatchObject({ source: 'chain-adapter', chain: 'anvil', severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL });
    expect(JSON.parse(paused()[0]?.evidenceJson ?? '{}')).toMatchObject({ tripKind: 'REORG_DEPTH_EXCEEDED', reorgDepth: '2', depthFactor: '2' });
    const got = await adminCall<unknown, { breaker: { state: number; tripKind: string; depthFactor: number } }>(client, 'GetBreaker', { chain: 'anvil' }, [['chain', 'anvil']]);
    expect(got.breaker).toMatchObject({ state: ChainBreakerState.BREAKER_STATE_TRIPPED, tripKind: 'REORG_DEPTH_EXCEEDED', depthFactor: DEPTH_FACTOR });

    // A new decision waits: retried with CHAIN_PAUSED, nothing allocated.
    const waitingBefore = await scrape('custody_chain_withdrawals_waiting_total', { reason: 'CHAIN_PAUSED' });
    const next = await decide(walletId, 7_000n);
    await waitFor(async () => (await scrape('custody_chain_withdrawals_waiting_total', { reason: 'CHAIN_PAUSED' })) >= waitingBefore + 2, 30_000, () => 'CHAIN_PAUSED retries');
    expect(await rowOf(next)).toBeUndefined();
    expect(preparedOf(next)).toEqual([]);
    const [counter] = await db.admin<{ n: string }>(`SELECT "next_nonce"::text AS n FROM "wallet_nonce" WHERE "wallet" = $1`, [account.address.toLowerCase()]);
    expect(counter?.n).toBe('1');

    // The in-flight withdrawal is re-mined on the new branch and needs 3 × 2 = 6 confirmations now.
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => statuses(inFlight.withdrawalId).filter((s) => s.state === TxState.TX_STATE_CONFIRMED).length >= 5, 30_000, () => stateNames(inFlight.withdrawalId).join(','));
    expect(hasState(inFlight.withdrawalId, TxState.TX_STATE_FINAL)).toBe(false);
    expect(await rowOf(inFlight.withdrawalId)).toMatchObject({ state: 'CONFIRMED' });
    // Latched: blocks go by, nothing clears it.
    expect((await db.admin<{ state: string }>(`SELECT "state" FROM "chain_breaker"`))[0]?.state).toBe('TRIPPED');

    // Operator resume (signed, pinned); a wrong chain or an empty reason is refused first.
    const noReason = await adminCall(client, 'ResumeChain', { chain: 'anvil', reason: '' }, [['chain', 'anvil'], ['reason', '']]).catch((e: unknown) => e);
    expect(reasonOf(noReason)).toBe('REASON_REQUIRED');
    expect(audited.filter((a) => a.action === 'chain.breaker.resume')).toEqual([]);
    // Audit down: refused UNAVAILABLE / AUDIT_UNAVAILABLE, nothing changes (still tripped, no admin row).
    auditDown = true;
    const downNonce = randomUUID().replace(/-/g, '');
    const refusedByAudit = await adminCall(client, 'ResumeChain', { chain: 'anvil', reason: 'reorg explained by node operators' }, [['chain', 'anvil'], ['reason', 'reorg explained by node operators']], { nonce: downNonce }).catch((e: unknown) => e);
    auditDown = false;
    expect(refusedByAudit).toMatchObject({ code: status.UNAVAILABLE });
    expect(reasonOf(refusedByAudit)).toBe('AUDIT_UNAVAILABLE');
    expect((await db.admin<{ state: string }>(`SELECT "state" FROM "chain_breaker"`))[0]?.state).toBe('TRIPPED');
    expect(await db.admin(`SELECT 1 FROM "chain_admin_action" WHERE "nonce" = $1`, [downNonce])).toEqual([]);
    expect(await scrape('custody_chain_breaker_tripped', { chain: 'anvil' })).toBe(1);
    // Audit up: recorded first (operator, action, target, request id = nonce), then applied.
    const resumeNonce = randomUUID().replace(/-/g, '');
    const resumed = await adminCall<unknown, { breaker: { state: number; resumedBy: string } }>(client, 'ResumeChain', { chain: 'anvil', reason: 'reorg explained by node operators' }, [['chain', 'anvil'], ['reason', 'reorg explained by node operators']], { nonce: resumeNonce });
    expect(resumed.breaker).toMatchObject({ state: ChainBreakerState.BREAKER_STATE_CLEAR, resumedBy: 'alice' });
    expect(audited.filter((a) => a.action === 'chain.breaker.resume').map((a) => [a.operatorId, a.target, a.requestId, a.sourceIp, a.requestDigest?.length])).toEqual([['alice', 'anvil', resumeNonce, '127.0.0.1', 32]]);
    await waitFor(() => messagesOf(observed, Topics.incidentRaised).some((i) => i.kind === 'CHAIN_RESUMED' && i.severity === IncidentSeverity.INCIDENT_SEVERITY_WARNING), 30_000, () => 'CHAIN_RESUMED event');
    const again = await adminCall(client, 'ResumeChain', { chain: 'anvil', reason: 'again' }, [['chain', 'anvil'], ['reason', 'again']]).catch((e: unknown) => e);
    expect(reasonOf(again)).toBe('BREAKER_NOT_TRIPPED');

    // The waiting decision is prepared now (its retry), at the next nonce, and goes FINAL.
    await waitFor(() => preparedOf(next).length > 0, 60_000, () => `tx.prepared of ${next} after resume`);
    expect(preparedOf(next)[0]?.nonce).toBe('1');
    await signAndBroadcast(account, preparedOf(next)[0] as TxPrepared);
    await mineAndTick(CONFIRMATIONS);
    await waitFor(() => hasState(next, TxState.TX_STATE_FINAL) && hasState(inFlight.withdrawalId, TxState.TX_STATE_FINAL), 30_000, () => `${stateNames(next).join(',')} / ${stateNames(inFlight.withdrawalId).join(',')}`);
    expect(statuses(inFlight.withdrawalId).at(-1)?.txHash).toBe(hash);
    expect(await scrape('custody_chain_breaker_tripped', { chain: 'anvil' })).toBe(0);
  });
});
