// Cross-service: the Bitcoin withdrawal hand-off between the REAL chain-adapter (Bitcoin-only:
// no EVM node) and the REAL signer (local sealed custody), each on its own PostgreSQL database,
// over the in-process bus. policy.decided ALLOW → the chain-adapter selects and reserves the
// wallet's UTXOs and emits tx.prepared (a PSBT) → the signer verifies and signs → tx.signed
// (the finalised raw tx) → the chain-adapter accepts it (SIGNED). The raw transaction is
// checked with bitcoinjs-lib, independently of both services. tx.prepared passes through a
// relay of this test (a man in the middle on the bus) that tampers with one of them.
// Lives at the root because services never import each other.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as btc from '@scure/btc-signer';
import * as bitcoin from 'bitcoinjs-lib';
import { KeyLifecycle, KeyPurpose, KeyTier, KeyTransition, PolicyDecided, PolicyDecision, Topics, TxPrepared, TxSigned, TxSigningRefused, TxState, TxStatus, encodeEvent, timestampFromDate, topicVersion, type Topic } from '@custody/contracts';
import { approvalSigningBytes, signDecisionToken, type UnsignedDecisionToken } from '@custody/decision-token';
import { InProcessBus, createEnvelope, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { createTestDatabase, rand, waitFor, type TestDatabase } from '@custody/testing';
import { CHAIN_ADAPTER_ENTITIES, CHAIN_ADAPTER_MIGRATIONS, startChainAdapter, type BitcoinOnlyHandle, type ChainAdapterHandle } from '@custody/chain-adapter';
import { startAnvil, type Anvil } from '../../services/chain-adapter/test/integration/support.js';
import { SIGNER_ENTITIES, SIGNER_MIGRATIONS, generationRequest, keyTransitionSigningBytes, startSigner, type AssetProfile, type KeyTransitionRequest, type Operator, type SignerHandle } from '@custody/signer';

const CHAIN = 'bitcoin-regtest';
const ASSET = 'BTC';
const REGTEST = { ...btc.TEST_NETWORK, bech32: 'bcrt' };
const FEE_CAP = 10_000n;
const FEE_RATE = 2n;
const AMOUNT = 60_000n;
const UTXO_AMOUNT = 100_000n;
/** tx.prepared leaves the chain-adapter on this topic; the test relays it to the signer's. */
const MITM_PREPARED = `mitm.${Topics.txPrepared}`;

const policySeed = ed25519.utils.randomSecretKey();
const POLICY_KEY_ID = 'policy-btc-1';
const op = (operatorId: string, role: string) => ({ operatorId, role, keyId: `${operatorId}-k1`, secret: ed25519.utils.randomSecretKey() });
const ops = { alice: op('alice', 'treasury'), bob: op('bob', 'compliance'), carol: op('carol', 'key_custodian'), dave: op('dave', 'key_custodian') };
const operators: Map<string, Operator> = new Map(Object.values(ops).map((o) => [o.operatorId, { operatorId: o.operatorId, roles: [o.role], keys: new Map([[o.keyId, ed25519.getPublicKey(o.secret)]]) }]));
const signerAssets: Map<string, AssetProfile> = new Map([[ASSET, { asset: ASSET, chain: CHAIN, kind: 'bitcoin', network: 'regtest', maxFee: FEE_CAP, tierCaps: { hot: 10n ** 8n, warm: 10n ** 9n, cold: 10n ** 10n } }]]);
const regtest = { ...bitcoin.networks.regtest };

const walletId = `btc-hot-${rand()}`;
const keyId = `key-${walletId}`;
const destination = btc.p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST).address ?? '';
const attacker = btc.p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true), REGTEST).address ?? '';

let chainDb: TestDatabase;
let signerDb: TestDatabase;
let bus: InProcessBus;
let adapter: BitcoinOnlyHandle;
let signer: SignerHandle;
let relay: Subscription;
let observer: Subscription;
let walletPublicKey: Uint8Array;
let walletAddress = '';
const observed: Envelope[] = [];
/** Withdrawal ids whose tx.prepared the relay tampers with (an extra output to the attacker). */
const tamper = new Set<string>();
const preparedSeen = new Map<string, TxPrepared>();

const logger = createLogger({ service: 'bitcoin-handoff-test', level: 'warn' });
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const sign = (request: KeyTransitionRequest, o: (typeof ops)['carol']) => ({ operatorId: o.operatorId, role: o.role, keyId: o.keyId, signature: ed25519.sign(keyTransitionSigningBytes(request, o.operatorId), o.secret) });

function decision(amount = AMOUNT): PolicyDecided {
  const issuedAt = nowSeconds() - 5;
  const approvalsExpireAt = issuedAt + 3600;
  const claims: UnsignedDecisionToken = {
    decisionId: `dec-${randomUUID()}`,
    withdrawalId: `wd-${randomUUID()}`,
    asset: ASSET,
    sourceWallet: walletId,
    destination: { address: destination },
    amount,
    bundleDigest: 'ab'.repeat(32),
    approvals: { quorum: 2, roles: ['compliance', 'treasury'] },
    issuedAt,
    expiresAt: issuedAt + 600,
  };
  const approvals = [ops.alice, ops.bob].map((o) => {
    const subject = { decisionId: claims.decisionId, withdrawalId: claims.withdrawalId, asset: ASSET, sourceWallet: walletId, destinationAddress: destination, destinationTag: '', amount, bundleDigest: claims.bundleDigest, quorum: 2, roles: claims.approvals.roles, expiresAt: approvalsExpireAt };
    return { operatorId: o.operatorId, role: o.role, keyId: o.keyId, signature: Buffer.from(ed25519.sign(approvalSigningBytes(subject, o.operatorId, o.role, 'approve'), o.secret)) };
  });
  return PolicyDecided.fromPartial({
    decisionId: claims.decisionId,
    withdrawalId: claims.withdrawalId,
    decision: PolicyDecision.POLICY_DECISION_ALLOW,
    bundleDigest: claims.bundleDigest,
    expiresAt: timestampFromDate(new Date(approvalsExpireAt * 1000)),
    decisionToken: Buffer.from(signDecisionToken(claims, { keyId: POLICY_KEY_ID, secretKey: policySeed }), 'latin1'),
    approvals,
    decidedAt: timestampFromDate(new Date()),
    asset: ASSET,
    chain: CHAIN,
    amount: amount.toString(),
    sourceWallet: walletId,
    destinationAddress: destination,
    destinationTag: '',
  });
}

async function publish(topic: Topic, key: string, payload: Uint8Array, correlationId: string, to: string = topic, on: InProcessBus = bus): Promise<void> {
  const envelope = createEnvelope({ type: topic, key, correlationId, producer: 'bitcoin-handoff-test', schemaVersion: topicVersion(topic), payload });
  await on.publish([{ topic: to, key, value: protobufEnvelopeCodec.encode(envelope) }]);
}

const decide = (d: PolicyDecided): Promise<void> => publish(Topics.policyDecided, d.withdrawalId, encodeEvent(Topics.policyDecided, d), `corr-${d.withdrawalId}`);

interface WithdrawalDbRow {
  state: string;
  reason_code: string;
  txid: string | null;
  signed_tx: Buffer | null;
  fee: string;
  change: string;
}
const row = async (withdrawalId: string): Promise<WithdrawalDbRow | undefined> =>
  (await chainDb.admin<WithdrawalDbRow>(`SELECT "state", "reason_code", "txid", "signed_tx", "fee"::text AS "fee", "change"::text AS "change" FROM "${chainDb.schema}"."btc_withdrawal" WHERE "withdrawal_id" = $1`, [withdrawalId]))[0];
const reserved = async (withdrawalId: string): Promise<{ txid: string; vout: number; amount: string }[]> =>
  chainDb.admin(`SELECT "txid", "vout", "amount"::text AS "amount" FROM "${chainDb.schema}"."btc_utxo" WHERE "reserved_by" = $1 ORDER BY "txid", "vout"`, [withdrawalId]);

function events<T>(type: string, decode: (b: Uint8Array) => T): T[] {
  return observed.filter((e) => e.type === type).map((e) => decode(e.payload));
}

beforeAll(async () => {
  chainDb = await createTestDatabase({ service: 'chain_adapter', entities: CHAIN_ADAPTER_ENTITIES, migrations: CHAIN_ADAPTER_MIGRATIONS });
  signerDb = await createTestDatabase({ service: 'signer', entities: SIGNER_ENTITIES, migrations: SIGNER_MIGRATIONS });
  bus = new InProcessBus();
  observer = await bus.subscribe({
    groupId: 'observer',
    topics: [Topics.txSigned, Topics.txRefused, Topics.txStatus, MITM_PREPARED],
    handler: async (m) => {
      observed.push(protobufEnvelopeCodec.decode(m.value));
    },
  });
  // The man in the middle: every tx.prepared of the chain-adapter goes on to the signer, some tampered.
  relay = await bus.subscribe({
    groupId: 'relay',
    topics: [MITM_PREPARED],
    handler: async (m) => {
      const envelope = protobufEnvelopeCodec.decode(m.value);
      const prepared = TxPrepared.decode(envelope.payload);
      preparedSeen.set(prepared.withdrawalId, prepared);
      let out = prepared;
      if (tamper.has(prepared.withdrawalId)) {
        const tx = btc.Transaction.fromPSBT(new Uint8Array(prepared.unsignedTx));
        tx.addOutputAddress(attacker, 1_000n, REGTEST);
        out = TxPrepared.fromPartial({ ...prepared, unsignedTx: Buffer.from(tx.toPSBT(0)) });
      }
      await publish(Topics.txPrepared, prepared.sourceWallet, encodeEvent(Topics.txPrepared, out), envelope.correlationId);
    },
  });
  signer = await startSigner({
    bus,
    database: { url: signerDb.appUrl, schema: signerDb.schema },
    logger,
    trustedPolicyKeys: new Map([[POLICY_KEY_ID, ed25519.getPublicKey(policySeed)]]),
    operators,
    assets: signerAssets,
    localSealed: { masterKey: new Uint8Array(32).fill(9), kekId: 'kek-btc' },
    outboxPollIntervalMs: 50,
  });
  adapter = await startChainAdapter({
    bus,
    database: { url: chainDb.appUrl, schema: chainDb.schema },
    logger,
    bitcoin: { asset: ASSET, chain: CHAIN, network: 'regtest', feeRateSatPerVb: FEE_RATE, maxFeeSat: FEE_CAP, confirmations: 6 },
    topicName: (t: Topic) => (t === Topics.txPrepared ? MITM_PREPARED : t),
    outboxPollIntervalMs: 50,
  });
  // A hot key generated under quorum in the local sealed store, then activated.
  const gen = { requestId: randomUUID(), keyId, walletId, chain: CHAIN, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt: nowSeconds() + 300 };
  const key = await signer.lifecycle.generate(gen, [sign(generationRequest(gen), ops.carol), sign(generationRequest(gen), ops.dave)]);
  walletPublicKey = key.publicKey;
  walletAddress = btc.p2wpkh(walletPublicKey, REGTEST).address ?? '';
  const act = { requestId: randomUUID(), keyId, transition: 'activate' as const, ttlSeconds: 3600, expiresAt: nowSeconds() + 300 };
  await signer.lifecycle.transition(act, [sign(act, ops.carol), sign(act, ops.dave)], 'bitcoin hand-off test');
  // key.lifecycle reached the chain-adapter's registry.
  await waitFor(async () => (await chainDb.admin(`SELECT 1 FROM "${chainDb.schema}"."custody_wallet" WHERE "wallet_id" = $1 AND "chain" = $2 AND "state" = 'active'`, [walletId, CHAIN])).length === 1, 30_000, () => 'wallet registered');
  // The wallet's unspent outputs (what a node/indexer adapter would feed), all to its P2WPKH address.
  for (let i = 0; i < 4; i++) {
    await chainDb.admin(`INSERT INTO "${chainDb.schema}"."btc_utxo" ("chain", "txid", "vout", "wallet_id", "address", "amount", "created_at") VALUES ($1, $2, $3, $4, $5, $6, now())`, [CHAIN, `${String(i + 1).repeat(2)}${'ab'.repeat(31)}`, i, walletId, walletAddress, UTXO_AMOUNT.toString()]);
  }
}, 120_000);

afterAll(async () => {
  await relay?.stop();
  await observer?.stop();
  await adapter?.stop();
  await signer?.stop();
  await bus?.close();
  await chainDb?.drop();
  await signerDb?.drop();
});

describe('Bitcoin hand-off: chain-adapter PSBT → signer → finalised raw tx, checked by bitcoinjs-lib', () => {
  it('two concurrent decisions: disjoint reserved UTXOs, each signed; the raw tx spends exactly them and pays the destination and our change', async () => {
    const first = decision();
    const second = decision();
    await Promise.all([decide(first), decide(second)]);
    for (const d of [first, second]) await waitFor(async () => (await row(d.withdrawalId))?.state === 'SIGNED', 60_000, () => `${d.withdrawalId} SIGNED`);

    const r1 = await reserved(first.withdrawalId);
    const r2 = await reserved(second.withdrawalId);
    expect(r1.length).toBeGreaterThan(0);
    expect(r2.length).toBeGreaterThan(0);
    const keys1 = new Set(r1.map((u) => `${u.txid}:${u.vout}`));
    expect(r2.filter((u) => keys1.has(`${u.txid}:${u.vout}`))).toEqual([]);

    for (const [d, utxos] of [[first, r1], [second, r2]] as const) {
      const stored = await row(d.withdrawalId);
      const signed = events(Topics.txSigned, (b) => TxSigned.decode(b)).find((m) => m.withdrawalId === d.withdrawalId);
      expect(signed).toBeDefined();
      expect(new Uint8Array(stored?.signed_tx ?? [])).toEqual(new Uint8Array(signed?.signedTx ?? []));
      const prepared = preparedSeen.get(d.withdrawalId);
      expect(prepared).toMatchObject({ sourceWallet: walletId, sourceAddress: walletAddress, feeCap: FEE_CAP.toString(), amount: AMOUNT.toString(), chain: CHAIN });

      // Independent: bitcoinjs-lib parses the bytes the signer released.
      const tx = bitcoin.Transaction.fromBuffer(Buffer.from(signed?.signedTx ?? []));
      expect(tx.getId()).toBe(signed?.txHash);
      expect(tx.getId()).toBe(stored?.txid);
      expect(tx.ins.map((i) => `${Buffer.from(i.hash).reverse().toString('hex')}:${i.index}`).sort()).toEqual(utxos.map((u) => `${u.txid}:${u.vout}`).sort());
      const ourScript = bitcoin.address.toOutputScript(walletAddress, regtest);
      const destScript = bitcoin.address.toOutputScript(destination, regtest);
      expect(tx.outs).toHaveLength(2);
      const toDestination = tx.outs.filter((o) => Buffer.from(o.script).equals(destScript));
      const toUs = tx.outs.filter((o) => Buffer.from(o.script).equals(ourScript));
      expect(toDestination.map((o) => BigInt(o.value))).toEqual([AMOUNT]);
      expect(toUs).toHaveLength(1);
      const inputs = utxos.reduce((n, u) => n + BigInt(u.amount), 0n);
      const outputs = tx.outs.reduce((n, o) => n + BigInt(o.value), 0n);
      const fee = inputs - outputs;
      expect(fee).toBe(BigInt(stored?.fee ?? '-1'));
      expect(BigInt(toUs[0]?.value ?? 0)).toBe(BigInt(stored?.change ?? '-1'));
      expect(fee).toBeGreaterThan(0n);
      expect(fee).toBeLessThanOrEqual(FEE_CAP);
      // The fee rate input, on bitcoinjs-lib's own virtual size (our estimate rounds up).
      expect(fee).toBeGreaterThanOrEqual(BigInt(tx.virtualSize()) * FEE_RATE);
      // Every input's witness: a low-S SIGHASH_ALL signature of the wallet key over bitcoinjs-lib's own BIP-143 digest.
      const scriptCode = bitcoin.payments.p2pkh({ pubkey: Buffer.from(walletPublicKey) }).output;
      if (!scriptCode) throw new Error('p2pkh script');
      tx.ins.forEach((input, i) => {
        const [sig, pubkey] = input.witness;
        expect(Buffer.from(pubkey ?? []).equals(Buffer.from(walletPublicKey))).toBe(true);
        const decoded = bitcoin.script.signature.decode(Buffer.from(sig ?? []));
        expect(decoded.hashType).toBe(bitcoin.Transaction.SIGHASH_ALL);
        const utxo = utxos.find((u) => u.txid === Buffer.from(input.hash).reverse().toString('hex') && u.vout === input.index);
        const digest = tx.hashForWitnessV0(i, scriptCode, BigInt(utxo?.amount ?? '0'), bitcoin.Transaction.SIGHASH_ALL);
        expect(secp256k1.verify(decoded.signature, digest, walletPublicKey, { prehash: false, lowS: true })).toBe(true);
      });
    }
  });

  it('a tampered tx.prepared (extra output) is refused by the signer (TX_EXTRA_OUTPUT); the withdrawal FAILS and its UTXOs are released for the next one', async () => {
    const d = decision();
    tamper.add(d.withdrawalId);
    await decide(d);
    await waitFor(() => events(Topics.txRefused, (b) => TxSigningRefused.decode(b)).some((m) => m.withdrawalId === d.withdrawalId), 60_000, () => 'tx.refused');
    const refusal = events(Topics.txRefused, (b) => TxSigningRefused.decode(b)).find((m) => m.withdrawalId === d.withdrawalId);
    expect(refusal).toMatchObject({ reasonCode: 'TX_EXTRA_OUTPUT', chain: CHAIN, sourceWallet: walletId });
    await waitFor(async () => (await row(d.withdrawalId))?.state === 'FAILED', 30_000, () => 'FAILED');
    expect(await row(d.withdrawalId)).toMatchObject({ state: 'FAILED', reason_code: 'TX_EXTRA_OUTPUT', txid: null, signed_tx: null });
    expect(await reserved(d.withdrawalId)).toEqual([]);
    await waitFor(() => events(Topics.txStatus, (b) => TxStatus.decode(b)).some((m) => m.withdrawalId === d.withdrawalId), 30_000, () => 'tx.status FAILED');
    expect(events(Topics.txStatus, (b) => TxStatus.decode(b)).find((m) => m.withdrawalId === d.withdrawalId)).toMatchObject({ state: TxState.TX_STATE_FAILED, reasonCode: 'TX_EXTRA_OUTPUT' });
    expect(events(Topics.txSigned, (b) => TxSigned.decode(b)).some((m) => m.withdrawalId === d.withdrawalId)).toBe(false);

    // Released outputs are spendable again: two more withdrawals use the two outputs left.
    const free = await chainDb.admin<{ n: string }>(`SELECT count(*)::text AS n FROM "${chainDb.schema}"."btc_utxo" WHERE "chain" = $1 AND "reserved_by" IS NULL`, [CHAIN]);
    expect(free[0]?.n).toBe('2');
    const next = [decision(), decision()];
    for (const n of next) await decide(n);
    for (const n of next) await waitFor(async () => (await row(n.withdrawalId))?.state === 'SIGNED', 60_000, () => `${n.withdrawalId} SIGNED`);
    const all = await chainDb.admin<{ n: string }>(`SELECT count(DISTINCT "reserved_by")::text AS n FROM "${chainDb.schema}"."btc_utxo" WHERE "chain" = $1 AND "reserved_by" IS NOT NULL`, [CHAIN]);
    expect(all[0]?.n).toBe('4');
  });
});

describe('EVM + Bitcoin in one chain-adapter: the Bitcoin flow is wired next to the EVM one and handles only its chain', () => {
  let anvil: Anvil;
  let db: TestDatabase;
  let bus2: InProcessBus;
  let both: ChainAdapterHandle;
  let sink: Subscription;
  const seen: Envelope[] = [];

  beforeAll(async () => {
    anvil = await startAnvil();
    db = await createTestDatabase({ service: 'chain_adapter', entities: CHAIN_ADAPTER_ENTITIES, migrations: CHAIN_ADAPTER_MIGRATIONS });
    bus2 = new InProcessBus();
    sink = await bus2.subscribe({ groupId: 'observer', topics: [Topics.txPrepared, Topics.txStatus], handler: async (m) => void seen.push(protobufEnvelopeCodec.decode(m.value)) });
    both = await startChainAdapter({
      bus: bus2,
      database: { url: db.appUrl, schema: db.schema },
      logger,
      rpcUrl: anvil.url,
      profile: { asset: 'ETH', chain: 'anvil', chainId: anvil.chainId, genesisHash: anvil.genesisHash, confirmations: 3, depthTiers: [], gasLimit: 21_000n, fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n } },
      bitcoin: { asset: ASSET, chain: CHAIN, network: 'regtest', feeRateSatPerVb: FEE_RATE, maxFeeSat: FEE_CAP, confirmations: 6 },
      pollIntervalMs: 0,
      outboxPollIntervalMs: 50,
    });
  }, 120_000);

  afterAll(async () => {
    await sink?.stop();
    await both?.stop();
    await bus2?.close();
    await db?.drop();
    await anvil?.stop();
  });

  it('a Bitcoin decision becomes a PSBT; its tx.signed (signed here with the wallet key) is accepted by the Bitcoin flow, the EVM flow raises no incident', async () => {
    const secret = secp256k1.utils.randomSecretKey();
    const pub = secp256k1.getPublicKey(secret, true);
    const address = btc.p2wpkh(pub, REGTEST).address ?? '';
    // The Bitcoin key's key.lifecycle (the signer names the EVM form of the key as address).
    const lifecycle = KeyLifecycle.fromPartial({ keyId, walletId, address: `0x${'12'.repeat(20)}`, transition: KeyTransition.KEY_TRANSITION_GENERATED, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE, tier: KeyTier.KEY_TIER_HOT, chain: CHAIN, actor: 'carol,dave', reason: 'test', transitionedAt: timestampFromDate(new Date()) });
    await publish(Topics.keyLifecycle, keyId, encodeEvent(Topics.keyLifecycle, lifecycle), 'corr-key', Topics.keyLifecycle, bus2);
    await waitFor(async () => (await db.admin(`SELECT 1 FROM "${db.schema}"."custody_wallet" WHERE "wallet_id" = $1 AND "chain" = $2`, [walletId, CHAIN])).length === 1, 30_000, () => 'registered');
    await db.admin(`INSERT INTO "${db.schema}"."btc_utxo" ("chain", "txid", "vout", "wallet_id", "address", "amount", "created_at") VALUES ($1, $2, 0, $3, $4, $5, now())`, [CHAIN, 'cd'.repeat(32), walletId, address, UTXO_AMOUNT.toString()]);

    const d = decision();
    await publish(Topics.policyDecided, d.withdrawalId, encodeEvent(Topics.policyDecided, d), 'corr-both', Topics.policyDecided, bus2);
    await waitFor(() => seen.some((e) => e.type === Topics.txPrepared && TxPrepared.decode(e.payload).withdrawalId === d.withdrawalId), 30_000, () => 'tx.prepared');
    const prepared = seen.map((e) => (e.type === Topics.txPrepared ? TxPrepared.decode(e.payload) : undefined)).find((m) => m?.withdrawalId === d.withdrawalId);
    expect(prepared).toMatchObject({ chain: CHAIN, sourceAddress: address, feeCap: FEE_CAP.toString() });

    const tx = btc.Transaction.fromPSBT(new Uint8Array(prepared?.unsignedTx ?? []));
    tx.sign(secret);
    tx.finalize();
    const signed = TxSigned.fromPartial({ withdrawalId: d.withdrawalId, decisionId: d.decisionId, chain: CHAIN, sourceWallet: walletId, keyId, signedTx: Buffer.from(tx.extract()), txHash: tx.id, signedAt: timestampFromDate(new Date()) });
    await publish(Topics.txSigned, walletId, encodeEvent(Topics.txSigned, signed), 'corr-both', Topics.txSigned, bus2);
    // A sentinel behind it on the same topic and key (same partition, handled in order): an EVM
    // tx.signed for a withdrawal nobody prepared — the EVM flow records an incident for that one.
    const sentinel = TxSigned.fromPartial({ withdrawalId: `wd-sentinel-${rand()}`, decisionId: 'dec-sentinel', chain: 'anvil', sourceWallet: walletId, keyId, signedTx: Buffer.from([1]), txHash: '0xsentinel', signedAt: timestampFromDate(new Date()) });
    await publish(Topics.txSigned, walletId, encodeEvent(Topics.txSigned, sentinel), 'corr-sentinel', Topics.txSigned, bus2);
    await waitFor(async () => (await db.admin<{ state: string }>(`SELECT "state" FROM "${db.schema}"."btc_withdrawal" WHERE "withdrawal_id" = $1`, [d.withdrawalId]))[0]?.state === 'SIGNED', 30_000, () => 'SIGNED');
    await waitFor(async () => (await db.admin(`SELECT 1 FROM "${db.schema}"."chain_incident" WHERE "tx_hash" = '0xsentinel'`)).length === 1, 30_000, () => 'sentinel incident');
    // The Bitcoin tx.signed went past the EVM flow without an incident (it is not the EVM flow's).
    expect(await db.admin(`SELECT "kind", "tx_hash" FROM "${db.schema}"."chain_incident"`)).toEqual([{ kind: 'SIGNED_TX_MISMATCH', tx_hash: '0xsentinel' }]);
    expect(await db.admin(`SELECT 1 FROM "${db.schema}"."withdrawal_tx"`)).toEqual([]);
  });
});
