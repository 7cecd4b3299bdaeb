// The signer end to end on the real components: PostgreSQL (anti-double-sign store, key
// inventory, outbox/inbox), Kafka (tx.prepared in; tx.signed / tx.refused / key.lifecycle
// out) and the SoftHSM2 token over PKCS#11 (the wallet key lives there). Each attack is
// refused with its reason and nothing is signed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hex } from '@scure/base';
import { signDecisionToken } from '@custody/decision-token';
import { KeyLifecycle as KeyLifecycleEvent, KeyTransition, Topics, TxSigned, TxSigningRefused, encodeEvent, topicVersion, type TxPrepared } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { createBusMetrics, createMetrics, startMetricsServer, type MetricsServer } from '@custody/platform';
import { generationRequest, prefixedTopics, startSigner, type SignerHandle } from '../../src/index.js';
import { createSignerMetrics } from '../../src/adapters/metrics.js';
import { PostgresSigningStore } from '../../src/adapters/persistence/postgres-stores.js';
import { decodeEip1559Transaction, eip1559SigningHash } from '../../src/domain/crypto/evm.js';
import { bigintToMinimalBytes, rlpEncode } from '../../src/domain/crypto/rlp.js';
import { bigintToBytes, concatBytes } from '../../src/domain/crypto/bytes.js';
import { AMOUNT, ETH, OTHER_DESTINATION, POLICY_KEY_ID, approve, assets, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys, type PreparedOptions, type Scenario } from '../fixtures.js';
import { TestClock, createPrefixedTopics, createTestDatabase, deletePrefixedTopics, pkcs11Options, quietLogger, rand, requireEnv, waitFor, type TestDatabase } from './support.js';

const prefix = `t${rand()}.`;
const clock = new TestClock();
let db: TestDatabase;
let bus: KafkaBus;
let signer: SignerHandle;
let observer: Subscription;
let metricsServer: MetricsServer;
const observed: Envelope[] = [];
const walletId = `eth-hot-${rand()}`;
const keyId = `key-${walletId}`;
let keyAddress = '';
let keyPublic: Uint8Array;

async function publishPrepared(p: TxPrepared, id?: string): Promise<Envelope> {
  const envelope = createEnvelope({
    type: Topics.txPrepared,
    key: p.sourceWallet,
    correlationId: `corr-${rand()}`,
    producer: 'test-chain-adapter',
    schemaVersion: topicVersion(Topics.txPrepared),
    payload: encodeEvent(Topics.txPrepared, p),
    ...(id ? { id } : {}),
  });
  await bus.publish([{ topic: `${prefix}${Topics.txPrepared}`, key: p.sourceWallet, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope;
}

function outcomesFor(withdrawalId: string): { signed: TxSigned[]; refused: TxSigningRefused[] } {
  const signed: TxSigned[] = [];
  const refused: TxSigningRefused[] = [];
  for (const e of observed) {
    if (e.type === Topics.txSigned) {
      const m = TxSigned.decode(e.payload);
      if (m.withdrawalId === withdrawalId) signed.push(m);
    } else if (e.type === Topics.txRefused) {
      const m = TxSigningRefused.decode(e.payload);
      if (m.withdrawalId === withdrawalId) refused.push(m);
    }
  }
  return { signed, refused };
}

async function outcome(withdrawalId: string, count = 1): Promise<{ signed: TxSigned[]; refused: TxSigningRefused[] }> {
  await waitFor(() => {
    const o = outcomesFor(withdrawalId);
    return o.signed.length + o.refused.length >= count;
  }, 30_000, () => `${count} outcome(s) for ${withdrawalId}`);
  return outcomesFor(withdrawalId);
}

async function signedRows(decisionId: string): Promise<number> {
  const rows = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM signed_decision WHERE decision_id = $1 AND status = 'signed'`, [decisionId]);
  return Number(rows[0]?.n);
}

/** Publishes, waits for the refusal, and checks that nothing was signed for it. */
async function expectRefused(s: Scenario, options: PreparedOptions, code: string): Promise<void> {
  await publishPrepared(prepared(s, options));
  const o = await outcome(s.withdrawalId);
  expect(o.refused.map((r) => r.reasonCode)).toEqual([code]);
  expect(o.signed).toHaveLength(0);
  expect(await signedRows(s.decisionId)).toBe(0);
}

// As main.ts wires them: one registry, the bus hooks on the bus and the service, /metrics served.
const registry = createMetrics('signer');
const busMetrics = createBusMetrics(registry, { topics: Object.values(Topics).map((t) => `${prefix}${t}`), groups: [`${prefix}signer.tx-prepared`] });

/** GET /metrics, then the value of the one sample `name{labels}` (labels in any order; service="signer" added). */
async function scrape(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const res = await fetch(`${metricsServer.url}/metrics`);
  expect(res.status).toBe(200);
  const want = JSON.stringify(Object.entries({ ...labels, service: 'signer' }).sort());
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1], l[2]]);
    if (JSON.stringify(got.sort()) === want) return Number(m[3]);
  }
  return undefined;
}

const nowSeconds = (): number => Math.floor(clock.now().getTime() / 1000);

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `signer-test-${rand()}`, logLevel: 'nothing' }), metrics: busMetrics });
  metricsServer = await startMetricsServer({ registry, port: 0 });
  signer = await startSigner({
    onOutcome: createSignerMetrics(registry, [...assets.values()].map((a) => a.chain)),
    busMetrics,
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    trustedPolicyKeys,
    operators,
    assets,
    pkcs11: pkcs11Options(),
    localSealed: { masterKey: new Uint8Array(32).fill(7), kekId: 'kek-it' },
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}signer.tx-prepared`,
    outboxPollIntervalMs: 50,
  });
  observer = await bus.subscribe({
    groupId: `${prefix}observer`,
    topics: [Topics.txSigned, Topics.txRefused, Topics.keyLifecycle].map((t) => `${prefix}${t}`),
    handler: async (m) => {
      observed.push(protobufEnvelopeCodec.decode(m.value));
    },
  });
  const gen = { requestId: randomUUID(), keyId, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'pkcs11' as const, expiresAt: nowSeconds() + 300 };
  const key = await signer.lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  keyAddress = key.address;
  keyPublic = key.publicKey;
  const act = { requestId: randomUUID(), keyId, transition: 'activate' as const, ttlSeconds: 3600, expiresAt: nowSeconds() + 300 };
  await signer.lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'integration activation');
}, 120_000);

afterAll(async () => {
  await observer?.stop();
  const rows = db ? await db.admin<{ custody_ref: string }>(`SELECT custody_ref FROM signer_key WHERE custody = 'pkcs11'`).catch(() => []) : [];
  for (const r of rows) await signer?.custody.get('pkcs11')?.destroyKey(r.custody_ref).catch(() => undefined);
  await signer?.stop();
  await metricsServer?.close();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('C-5.4.2-a quorum-approved generation inside the HSM; the response holds public material only', () => {
  it('one approval → QUORUM_NOT_MET and no key; with the quorum the ceremony record names the approvers', async () => {
    const gen = { requestId: randomUUID(), keyId: `key-solo-${rand()}`, walletId: `w-solo-${rand()}`, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'warm' as const, custody: 'pkcs11' as const, expiresAt: nowSeconds() + 300 };
    await expect(signer.lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol)])).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    expect(await db.admin(`SELECT 1 FROM signer_key WHERE key_id = $1`, [gen.keyId])).toHaveLength(0);

    const [row] = await db.admin<{ state: string; custody: string; public_key: Buffer }>(`SELECT state, custody, public_key FROM signer_key WHERE key_id = $1`, [keyId]);
    expect(row).toMatchObject({ custody: 'pkcs11' });
    expect(new Uint8Array(row?.public_key ?? [])).toEqual(keyPublic);
    const [ceremony] = await db.admin<{ quorum_operators: string[]; request_id: string }>(`SELECT quorum_operators, request_id FROM key_transition WHERE key_id = $1 AND transition = 'generated'`, [keyId]);
    expect(ceremony?.quorum_operators.sort()).toEqual(['carol', 'dave']);
    await waitFor(() => observed.some((e) => e.type === Topics.keyLifecycle && KeyLifecycleEvent.decode(e.payload).keyId === keyId && KeyLifecycleEvent.decode(e.payload).transition === KeyTransition.KEY_TRANSITION_GENERATED), 30_000, () => 'key.lifecycle GENERATED');
    const generated = observed.map((e) => (e.type === Topics.keyLifecycle ? KeyLifecycleEvent.decode(e.payload) : undefined)).find((m) => m?.keyId === keyId && m.transition === KeyTransition.KEY_TRANSITION_GENERATED);
    expect(generated?.quorumEvidence?.approvals.map((a) => a.operatorId).sort()).toEqual(['carol', 'dave']);
    // The wallet id and its chain address travel on the event (chain-adapter's wallet registry).
    expect(generated).toMatchObject({ walletId, address: keyAddress, chain: ETH.chain });
    expect(keyAddress).toMatch(/^0x[0-9a-f]{40}$/);
  });
});

describe('C-8.2.2.5-a what you approve is what you sign: end to end on Postgres + Kafka + SoftHSM2', () => {
  it('signs an approved withdrawal with the HSM key: tx.signed carries bytes whose sender is the wallet, decision row committed as signed', async () => {
    const s = scenario(walletId, clock.now());
    await publishPrepared(prepared(s));
    const o = await outcome(s.withdrawalId);
    expect(o.refused).toEqual([]);
    const signed = o.signed[0];
    if (!signed) throw new Error('not signed');
    const decoded = decodeEip1559Transaction(new Uint8Array(signed.signedTx));
    expect(`0x${hex.encode(decoded.signed?.from ?? new Uint8Array())}`).toBe(keyAddress);
    expect(decoded.tx.value).toBe(AMOUNT);
    const sig = decoded.signed?.signature;
    if (!sig) throw new Error('no signature');
    const compact = concatBytes(bigintToBytes(sig.r, 32), bigintToBytes(sig.s, 32));
    expect(secp256k1.verify(compact, eip1559SigningHash(decoded.tx), keyPublic, { prehash: false, lowS: true })).toBe(true);
    expect(signed.txHash).toBe(`0x${hex.encode(decoded.signed?.hash ?? new Uint8Array())}`);
    expect(await signedRows(s.decisionId)).toBe(1);
  });

  it('serves /metrics: a released signature adds 1 to custody_signer_signatures_total{chain}, a refusal adds 1 to refusals_total{reason} and none to signatures', async () => {
    const chain = { chain: ETH.chain };
    const signedBefore = (await scrape('custody_signer_signatures_total', chain)) ?? Number.NaN;
    const refusedBefore = (await scrape('custody_signer_refusals_total', { reason: 'TX_AMOUNT_MISMATCH' })) ?? Number.NaN;
    const ok = scenario(walletId, clock.now());
    await publishPrepared(prepared(ok));
    expect((await outcome(ok.withdrawalId)).signed).toHaveLength(1);
    await waitFor(async () => (await scrape('custody_signer_signatures_total', chain)) === signedBefore + 1, 10_000, () => 'signatures_total + 1');
    await expectRefused(scenario(walletId, clock.now()), { tx: { value: AMOUNT * 100n } }, 'TX_AMOUNT_MISMATCH');
    await waitFor(async () => (await scrape('custody_signer_refusals_total', { reason: 'TX_AMOUNT_MISMATCH' })) === refusedBefore + 1, 10_000, () => 'refusals_total + 1');
    expect(await scrape('custody_signer_signatures_total', chain)).toBe(signedBefore + 1);
    const consumed = await scrape('custody_bus_consumed_total', { topic: `${prefix}${Topics.txPrepared}`, group: `${prefix}signer.tx-prepared`, outcome: 'ok' });
    expect(consumed).toBeGreaterThanOrEqual(2);
  });

  it('forged decision token (signed by another key under the policy key id) → TOKEN_BAD_SIGNATURE, nothing signed', async () => {
    const s = scenario(walletId, clock.now());
    await expectRefused(s, { token: signDecisionToken(s.claims, { keyId: POLICY_KEY_ID, secretKey: ed25519.utils.randomSecretKey() }) }, 'TOKEN_BAD_SIGNATURE');
  });

  it('tampered amount in the unsigned tx → TX_AMOUNT_MISMATCH, nothing signed', async () => {
    await expectRefused(scenario(walletId, clock.now()), { tx: { value: AMOUNT * 100n } }, 'TX_AMOUNT_MISMATCH');
  });

  it('tampered destination in the unsigned tx → TX_DESTINATION_MISMATCH, nothing signed', async () => {
    await expectRefused(scenario(walletId, clock.now()), { tx: { to: hex.decode(OTHER_DESTINATION.slice(2)) } }, 'TX_DESTINATION_MISMATCH');
  });

  it('extra call data (e.g. a token transfer smuggled in) → TX_DATA_NOT_ALLOWED, nothing signed', async () => {
    await expectRefused(scenario(walletId, clock.now()), { tx: { data: hex.decode('a9059cbb' + '00'.repeat(64)) } }, 'TX_DATA_NOT_ALLOWED');
  });

  it('tampered request amount (token says otherwise) → TOKEN_BINDING_MISMATCH, nothing signed', async () => {
    await expectRefused(scenario(walletId, clock.now()), { fields: { amount: (AMOUNT * 2n).toString() }, tx: { value: AMOUNT * 2n } }, 'TOKEN_BINDING_MISMATCH');
  });

  it('wrong quorum: one approval where the token names 2 → QUORUM_NOT_MET; a forged approval → APPROVAL_INVALID', async () => {
    const s = scenario(walletId, clock.now());
    await expectRefused(s, { approvals: [approve(s, ops.alice)] }, 'QUORUM_NOT_MET');
    const s2 = scenario(walletId, clock.now());
    await expectRefused(s2, { approvals: [approve(s2, ops.alice), { ...approve(s2, ops.bob), signature: Buffer.alloc(64, 9) }] }, 'APPROVAL_INVALID');
  });

  it('expired approvals → APPROVALS_EXPIRED; expired token → TOKEN_EXPIRED; nothing signed', async () => {
    const s = scenario(walletId, clock.now());
    const ended = nowSeconds() - 1;
    await expectRefused(s, { approvalsExpireAt: ended, approvals: [approve(s, ops.alice, { expiresAt: ended }), approve(s, ops.bob, { expiresAt: ended })] }, 'APPROVALS_EXPIRED');
    const s2 = scenario(walletId, new Date(clock.now().getTime() - 3_600_000));
    await expectRefused(s2, {}, 'TOKEN_EXPIRED');
  });
});

describe('C-8.2.2.5-a single use: the anti-double-sign store refuses a replayed decision', () => {
  it('a second tx.prepared with the same decision id (new event) → DECISION_ALREADY_USED; one signature only', async () => {
    const s = scenario(walletId, clock.now());
    await publishPrepared(prepared(s));
    await outcome(s.withdrawalId, 1);
    await publishPrepared(prepared(s, { tx: { maxFeePerGas: 20_000_000_000n } }));
    const o = await outcome(s.withdrawalId, 2);
    expect(o.signed).toHaveLength(1);
    expect(o.refused.map((r) => r.reasonCode)).toEqual(['DECISION_ALREADY_USED']);
    // the replay is refused without spending anything: intake must not fail the withdrawal
    expect(o.refused.map((r) => r.decisionConsumed)).toEqual([false]);
    expect(await signedRows(s.decisionId)).toBe(1);
  });

  it('the same decision presented twice at once (two events) is signed at most once', async () => {
    const s = scenario(walletId, clock.now());
    await Promise.all([publishPrepared(prepared(s)), publishPrepared(prepared(s))]);
    const o = await outcome(s.withdrawalId, 2);
    expect(o.signed).toHaveLength(1);
    expect(o.refused.map((r) => r.reasonCode)).toEqual(['DECISION_ALREADY_USED']);
  });

  it('a redelivered event (same envelope id) has no second effect', async () => {
    const s = scenario(walletId, clock.now());
    const first = await publishPrepared(prepared(s));
    await outcome(s.withdrawalId, 1);
    const marker = scenario(walletId, clock.now());
    await publishPrepared(prepared(s), first.id);
    await publishPrepared(prepared(marker)); // same partition key: handled after the redelivery
    await outcome(marker.withdrawalId, 1);
    expect(outcomesFor(s.withdrawalId).signed).toHaveLength(1);
    expect(outcomesFor(s.withdrawalId).refused).toHaveLength(0);
  });
});

describe('C-8.2.2.5-a the anti-double-sign store releases nothing for a decision that is not reserved', () => {
  it('signUnderLock on an unreserved decision rolls back: no outbox row, no inbox row', async () => {
    const store = new PostgresSigningStore(signer.dataSource, prefixedTopics(prefix), `${prefix}probe`);
    const eventId = randomUUID();
    const at = clock.now();
    const before = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM outbox`);
    await expect(
      store.signUnderLock({ eventId, correlationId: 'c' }, walletId, `dec-unreserved-${rand()}`, async () => ({
        outcome: { kind: 'signed', decisionId: 'x', withdrawalId: 'w', chain: ETH.chain, sourceWallet: walletId, at, keyId, signedTx: Uint8Array.of(1), txHash: '0x00' },
        transitions: [],
      })),
    ).rejects.toThrow(/not reserved/);
    const after = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM outbox`);
    expect(after[0]?.n).toBe(before[0]?.n);
    expect(await db.admin(`SELECT 1 FROM inbox WHERE event_id = $1`, [eventId])).toHaveLength(0);
  });
});

describe('C-5.5.4.3-b replay protection: the signer signs only for the asset profile chain id (EIP-155)', () => {
  it('a transaction for another chain id → TX_CHAIN_ID_MISMATCH, nothing signed', async () => {
    await expectRefused(scenario(walletId, clock.now()), { tx: { chainId: 1n } }, 'TX_CHAIN_ID_MISMATCH');
  });

  it('a transaction without a chain id (chainId 0) → TX_CHAIN_ID_MISMATCH, nothing signed', async () => {
    const s = scenario(walletId, clock.now());
    const t = s.tx;
    const int = bigintToMinimalBytes;
    const noChainId = concatBytes(Uint8Array.of(2), rlpEncode([int(0n), int(t.nonce), int(t.maxPriorityFeePerGas), int(t.maxFeePerGas), int(t.gasLimit), t.to, int(t.value), t.data, []]));
    await expectRefused(s, { unsignedTx: noChainId }, 'TX_CHAIN_ID_MISMATCH');
  });
});

describe('C-5.4.4-a C-5.4.4-b suspension takes effect before the next signature (row lock in the signing transaction)', () => {
  it('a suspension committing while a request waits for the key row lock is seen by that request: KEY_SUSPENDED, nothing signed', async () => {
    const s = scenario(walletId, clock.now());
    await db.admin('BEGIN');
    await db.admin(`SELECT 1 FROM signer_key WHERE key_id = $1 FOR UPDATE`, [keyId]);
    await db.admin(`UPDATE signer_key SET state = 'suspended' WHERE key_id = $1`, [keyId]);
    await publishPrepared(prepared(s));
    // The signer has reserved the decision and now waits on the row lock we hold.
    await waitFor(async () => (await db.admin(`SELECT 1 FROM signed_decision WHERE decision_id = $1`, [s.decisionId])).length === 1, 30_000, () => 'reservation committed');
    expect(outcomesFor(s.withdrawalId).signed).toHaveLength(0);
    await db.admin('COMMIT');
    const o = await outcome(s.withdrawalId);
    expect(o.refused.map((r) => r.reasonCode)).toEqual(['KEY_SUSPENDED']);
    // refused after the reservation: the decision is spent, the withdrawal needs a new one
    expect(o.refused.map((r) => r.decisionConsumed)).toEqual([true]);
    expect(o.signed).toHaveLength(0);
    await db.admin(`UPDATE signer_key SET state = 'active' WHERE key_id = $1`, [keyId]);
  });

  it('one operator suspends through the lifecycle (key.lifecycle SUSPENDED); resuming needs two; a replayed admin request is refused', async () => {
    const suspend = { requestId: randomUUID(), keyId, transition: 'suspend' as const, expiresAt: nowSeconds() + 300 };
    await signer.lifecycle.transition(suspend, [signTransition(suspend, ops.erin)], 'incident drill');
    await expectRefused(scenario(walletId, clock.now()), {}, 'KEY_SUSPENDED');
    await waitFor(() => observed.some((e) => e.type === Topics.keyLifecycle && KeyLifecycleEvent.decode(e.payload).transition === KeyTransition.KEY_TRANSITION_SUSPENDED), 30_000, () => 'key.lifecycle SUSPENDED');
    const suspended = observed.map((e) => (e.type === Topics.keyLifecycle ? KeyLifecycleEvent.decode(e.payload) : undefined)).find((m) => m?.keyId === keyId && m.transition === KeyTransition.KEY_TRANSITION_SUSPENDED);
    expect(suspended).toMatchObject({ walletId, address: keyAddress });
    const resume = { requestId: randomUUID(), keyId, transition: 'resume' as const, expiresAt: nowSeconds() + 300 };
    await expect(signer.lifecycle.transition(resume, [signTransition(resume, ops.erin)], 'resume')).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    await signer.lifecycle.transition(resume, [signTransition(resume, ops.erin), signTransition(resume, ops.carol)], 'resume');
    await expect(signer.lifecycle.transition(resume, [signTransition(resume, ops.erin), signTransition(resume, ops.carol)], 'resume again')).rejects.toMatchObject({ code: 'INVALID_TRANSITION' });
    // resumed = INACTIVE: still no signature until a fresh, quorum-approved activation
    await expectRefused(scenario(walletId, clock.now()), {}, 'KEY_NOT_ACTIVE');
    const act = { requestId: randomUUID(), keyId, transition: 'activate' as const, ttlSeconds: 600, expiresAt: nowSeconds() + 300 };
    await signer.lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 're-activation');
    const s = scenario(walletId, clock.now());
    await publishPrepared(prepared(s));
    expect((await outcome(s.withdrawalId)).signed).toHaveLength(1);
  });
});
