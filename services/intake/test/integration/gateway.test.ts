// CustodyGatewayService over real gRPC, real PostgreSQL and real Kafka.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { status, type Metadata } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  PolicyDecided,
  PolicyDecision,
  RiskAssessed,
  RiskVerdict,
  Topics,
  TxPrepared,
  TxSigned,
  TxState,
  TxStatus,
  WithdrawalRequested,
  WithdrawalState,
  decodePayload,
  encodeEvent,
  topicVersion,
  type CustodyGatewayServiceClient,
  type EventType,
  type EventMessages,
  type Withdrawal as WireWithdrawal,
} from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { prefixedTopics, startIntake, type IntakeHandle } from '../../src/index.js';
import {
  TestClock,
  call,
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  failure,
  newClient,
  newNonce,
  newSigningKey,
  quietLogger,
  rand,
  requireEnv,
  signedMetadata,
  submitBodyOf,
  waitFor,
  type SigningKey,
  type TestDatabase,
} from './support.js';

const prefix = `t${rand()}.`;
const clock = new TestClock();
let db: TestDatabase;
let bus: KafkaBus;
let intake: IntakeHandle;
let client: CustodyGatewayServiceClient;
let observer: Subscription;
const observed: Envelope[] = [];

const ACME = newSigningKey('acme');
const REVOKED = newSigningKey('revoked-co');
const READONLY = newSigningKey('readonly-co');
const FENCED = newSigningKey('fenced-co');
const SLOW = newSigningKey('slow-co');
const STRANGER = newSigningKey('stranger');

const ETH_DEST = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const baseRequest = (overrides: Partial<Record<string, string>> = {}) => ({
  idempotencyKey: `idem-${rand()}`,
  customerAccount: 'acct-1',
  asset: 'ETH',
  amount: '1500000000000000000',
  destinationAddress: ETH_DEST,
  destinationTag: '',
  clientReference: 'ref-1',
  signatureKeyId: '',
  signature: Buffer.alloc(0),
  ...overrides,
});

type SubmitReq = ReturnType<typeof baseRequest>;

function submit(req: SubmitReq, key: SigningKey = ACME, opts: { timestampMs?: number; nonce?: string; tamper?: boolean; metadata?: Metadata } = {}) {
  const md = opts.metadata ?? signedMetadata(key, 'SubmitWithdrawal', submitBodyOf(req), { timestampMs: opts.timestampMs ?? clock.now().getTime(), ...(opts.nonce ? { nonce: opts.nonce } : {}), ...(opts.tamper ? { tamper: true } : {}) });
  return call(client.submitWithdrawal.bind(client) as never, req, md) as Promise<{ withdrawal: WireWithdrawal }>;
}

function readMd(key: SigningKey, method: string, body: [string, string | string[]][]): Metadata {
  return signedMetadata(key, method, body, { timestampMs: clock.now().getTime() });
}

async function counts(): Promise<{ withdrawals: number; outbox: number }> {
  const [w] = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM withdrawal');
  const [o] = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM outbox');
  return { withdrawals: Number(w?.n), outbox: Number(o?.n) };
}

async function publish<K extends EventType>(type: K, key: string, message: EventMessages[K], id?: string): Promise<Envelope> {
  const envelope = createEnvelope({
    type,
    key,
    correlationId: `corr-${rand()}`,
    producer: 'test-pipeline',
    schemaVersion: topicVersion(type),
    payload: encodeEvent(type, message),
    ...(id ? { id } : {}),
  });
  await bus.publish([{ topic: `${prefix}${type}`, key, value: protobufEnvelopeCodec.encode(envelope) }]);
  return envelope;
}

beforeAll(async () => {
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `intake-test-${rand()}`, logLevel: 'nothing' }) });
  intake = await startIntake({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    timestampWindowMs: 60_000,
    maintenanceMinNoticeMs: 3_600_000,
    perSourceLimit: { ratePerSecond: 100_000, burst: 100_000 },
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}intake.pipeline`,
    outboxPollIntervalMs: 50,
  });
  const now = clock.now();
  const reg = (k: SigningKey, extra: Partial<Parameters<IntakeHandle['integrators']['register']>[0]> = {}) =>
    intake.integrators.register(
      {
        clientId: k.clientId,
        scopes: ['read', 'withdraw', 'deposit'],
        allowedAssets: ['ETH', 'BTC', 'USDC.ETH'],
        rateLimit: { ratePerSecond: 10_000, burst: 10_000 },
        keys: [{ keyId: k.keyId, publicKey: k.publicKey }],
        customerAccounts: ['acct-1', 'acct-2'],
        ...extra,
      },
      now,
    );
  await reg(ACME);
  await reg(REVOKED);
  await intake.integrators.revoke(REVOKED.clientId);
  await reg(READONLY, { scopes: ['read'] });
  await reg(FENCED, { ipAllowlist: ['10.0.0.0/8'] });
  await reg(SLOW, { rateLimit: { ratePerSecond: 1, burst: 2 } });
  client = newClient(intake.grpcPort);
  observer = await bus.subscribe({
    groupId: `${prefix}observer`,
    topics: [`${prefix}${Topics.withdrawalRequested}`, `${prefix}${Topics.withdrawalStatus}`, `${prefix}${Topics.maintenanceScheduled}`],
    handler: async (m) => {
      observed.push(protobufEnvelopeCodec.decode(m.value));
    },
  });
}, 120_000);

afterAll(async () => {
  client?.close();
  await observer?.stop();
  await intake?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
});

describe('SubmitWithdrawal happy path: stored, evidenced and evented', () => {
  it('C-9.3.6.3-e stores the request with the integrator signature as evidence and emits withdrawal.requested in the same transaction', async () => {
    const req = baseRequest({ destinationAddress: ETH_DEST.toLowerCase() });
    const { withdrawal } = await submit(req);
    expect(withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    expect(withdrawal.destinationAddress).toBe(ETH_DEST); // normalised to EIP-55
    expect(withdrawal.amount).toBe('1500000000000000000');

    const [row] = await db.admin<{ signature: Buffer; signed_payload: Buffer; signature_key_id: string }>('SELECT signature, signed_payload, signature_key_id FROM withdrawal WHERE id = $1', [withdrawal.withdrawalId]);
    expect(row?.signature_key_id).toBe('k1');
    // The evidence re-verifies independently of intake.
    expect(ed25519.verify(new Uint8Array(row!.signature), new Uint8Array(row!.signed_payload), ACME.publicKey)).toBe(true);
    const [ob] = await db.admin<{ topic: string }>('SELECT topic FROM outbox WHERE key = $1', [withdrawal.withdrawalId]);
    expect(ob?.topic).toBe(`${prefix}${Topics.withdrawalRequested}`);

    await waitFor(() => observed.some((e) => e.key === withdrawal.withdrawalId && e.type === Topics.withdrawalRequested), 20_000, () => 'withdrawal.requested on Kafka');
    const env = observed.find((e) => e.key === withdrawal.withdrawalId && e.type === Topics.withdrawalRequested)!;
    const decoded = decodePayload(env);
    expect(decoded.type).toBe(Topics.withdrawalRequested);
    const msg = decoded.message as WithdrawalRequested;
    expect(msg).toMatchObject({ clientId: 'acme', asset: 'ETH', chain: 'ethereum-mainnet', amount: '1500000000000000000', destinationAddress: ETH_DEST });
    expect(ed25519.verify(new Uint8Array(msg.requestSignature!.signature), new Uint8Array(msg.requestSignature!.signedPayload), ACME.publicKey)).toBe(true);
  });

  it('Get and List return the caller’s withdrawals only', async () => {
    const { withdrawal } = await submit(baseRequest({ customerAccount: 'acct-2' }));
    const got = await call(client.getWithdrawal.bind(client) as never, { withdrawalId: withdrawal.withdrawalId }, readMd(ACME, 'GetWithdrawal', [['withdrawal_id', withdrawal.withdrawalId]]));
    expect((got as { withdrawal: WireWithdrawal }).withdrawal.withdrawalId).toBe(withdrawal.withdrawalId);
    const other = await failure(call(client.getWithdrawal.bind(client) as never, { withdrawalId: withdrawal.withdrawalId }, readMd(READONLY, 'GetWithdrawal', [['withdrawal_id', withdrawal.withdrawalId]])));
    expect(other).toMatchObject({ code: status.NOT_FOUND, reason: 'WITHDRAWAL_NOT_FOUND' });
    const listReq = { customerAccount: 'acct-2', states: [], pageSize: 0, pageToken: '' };
    const listed = (await call(client.listWithdrawals.bind(client) as never, listReq, readMd(ACME, 'ListWithdrawals', [['customer_account', 'acct-2'], ['states', []], ['page_size', '0'], ['page_token', '']]))) as { withdrawals: WireWithdrawal[] };
    expect(listed.withdrawals.map((w) => w.withdrawalId)).toContain(withdrawal.withdrawalId);
    expect(listed.withdrawals.every((w) => w.customerAccount === 'acct-2')).toBe(true);
  });

  it('ListWithdrawals pages with a cursor and filters by state', async () => {
    for (let i = 0; i < 3; i++) await submit(baseRequest({ customerAccount: 'acct-2' }));
    const md = (token: string) => readMd(ACME, 'ListWithdrawals', [['customer_account', 'acct-2'], ['states', ['WITHDRAWAL_STATE_REQUESTED']], ['page_size', '2'], ['page_token', token]]);
    const req = (token: string) => ({ customerAccount: 'acct-2', states: [WithdrawalState.WITHDRAWAL_STATE_REQUESTED], pageSize: 2, pageToken: token });
    const seen = new Set<string>();
    let token = '';
    for (let page = 0; page < 10; page++) {
      const res = (await call(client.listWithdrawals.bind(client) as never, req(token), md(token))) as { withdrawals: WireWithdrawal[]; nextPageToken: string };
      expect(res.withdrawals.length).toBeLessThanOrEqual(2);
      for (const w of res.withdrawals) {
        expect(seen.has(w.withdrawalId)).toBe(false);
        expect(w.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
        seen.add(w.withdrawalId);
      }
      token = res.nextPageToken;
      if (!token) break;
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });
});

describe('C-9.3.6.3-e request authentication: each rejection with its exact code, nothing stored', () => {
  const cases: [string, () => Promise<unknown>, number, string][] = [
    ['unknown client', () => submit(baseRequest(), STRANGER), status.UNAUTHENTICATED, 'UNKNOWN_CLIENT'],
    ['revoked client', () => submit(baseRequest(), REVOKED), status.UNAUTHENTICATED, 'CLIENT_REVOKED'],
    ['bad signature', () => submit(baseRequest(), ACME, { tamper: true }), status.UNAUTHENTICATED, 'BAD_SIGNATURE'],
    ['timestamp too old', () => submit(baseRequest(), ACME, { timestampMs: clock.now().getTime() - 61_000 }), status.UNAUTHENTICATED, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['timestamp in the future', () => submit(baseRequest(), ACME, { timestampMs: clock.now().getTime() + 61_000 }), status.UNAUTHENTICATED, 'TIMESTAMP_OUT_OF_WINDOW'],
    ['unsigned call', () => call(client.submitWithdrawal.bind(client) as never, baseRequest()), status.UNAUTHENTICATED, 'SIGNATURE_REQUIRED'],
    ['asset not allowed for the client', () => submit(baseRequest({ asset: 'ETH.ANVIL' })), status.PERMISSION_DENIED, 'ASSET_NOT_ALLOWED'],
    ['client without the withdraw scope', () => submit(baseRequest(), READONLY), status.PERMISSION_DENIED, 'SCOPE_MISSING'],
    ['source address outside the allow-list', () => submit(baseRequest(), FENCED), status.PERMISSION_DENIED, 'SOURCE_IP_NOT_ALLOWED'],
  ];
  it.each(cases)('%s', async (_name, run, code, reason) => {
    const before = await counts();
    expect(await failure(run())).toMatchObject({ code, reason });
    expect(await counts()).toEqual(before);
  });

  it('a signature made with a revoked key is refused', async () => {
    const key = newSigningKey('rotating-co');
    await intake.integrators.register({ clientId: key.clientId, scopes: ['withdraw'], allowedAssets: ['ETH'], rateLimit: { ratePerSecond: 100, burst: 100 }, keys: [{ keyId: 'k1', publicKey: key.publicKey }], customerAccounts: ['acct-1'] }, clock.now());
    await intake.integrators.revokeKey(key.clientId, 'k1');
    expect(await failure(submit(baseRequest(), key))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'KEY_REVOKED' });
  });

  it('a replayed signed request (same nonce) is rejected even though the first was accepted', async () => {
    const req = baseRequest();
    const md = signedMetadata(ACME, 'SubmitWithdrawal', submitBodyOf(req), { timestampMs: clock.now().getTime(), nonce: newNonce() });
    const first = await submit(req, ACME, { metadata: md });
    expect(first.withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    const before = await counts();
    expect(await failure(submit(req, ACME, { metadata: md }))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'REPLAYED_NONCE' });
    expect(await counts()).toEqual(before);
  });

  it('a signature for one method does not authorise another (method is signed)', async () => {
    const req = { withdrawalId: '00000000-0000-4000-8000-000000000000', reason: '' };
    const md = signedMetadata(ACME, 'SubmitWithdrawal', [['withdrawal_id', req.withdrawalId], ['reason', '']], { timestampMs: clock.now().getTime() });
    expect(await failure(call(client.cancelWithdrawal.bind(client) as never, req, md))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'BAD_SIGNATURE' });
  });
});

describe('C-8.2.4.2-a per-client rate limit', () => {
  it('answers RESOURCE_EXHAUSTED with retry-after once the client’s burst is spent', async () => {
    clock.frozen = clock.now();
    try {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await failure(submit(baseRequest({ amount: '0' }), SLOW)).catch(() => undefined));
      // The first two pass authentication and fail validation; then the bucket is empty.
      expect(results.slice(0, 2).map((r) => r?.reason)).toEqual(['AMOUNT_NOT_POSITIVE', 'AMOUNT_NOT_POSITIVE']);
      expect(results[2]).toMatchObject({ code: status.RESOURCE_EXHAUSTED, reason: 'RATE_LIMITED' });
      expect(Number(results[2]?.metadata.get('retry-after-ms')[0])).toBeGreaterThan(0);
      // Another client is not affected.
      expect((await submit(baseRequest())).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    } finally {
      clock.frozen = undefined;
    }
  });
});

describe('C-5.5.2-b validation: INVALID_ARGUMENT naming the field, nothing stored', () => {
  const cases: [string, Partial<Record<string, string>>, string, string][] = [
    ['bad EIP-55 checksum', { destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' }, 'destination_address', 'ADDRESS_CHECKSUM_INVALID'],
    ['Bitcoin address for an ETH withdrawal', { destinationAddress: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' }, 'destination_address', 'ADDRESS_WRONG_NETWORK'],
    ['testnet address for a mainnet BTC withdrawal', { asset: 'BTC', amount: '1000', destinationAddress: 'tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7' }, 'destination_address', 'ADDRESS_WRONG_NETWORK'],
    ['bech32 typo', { asset: 'BTC', amount: '1000', destinationAddress: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5' }, 'destination_address', 'ADDRESS_CHECKSUM_INVALID'],
    ['zero amount', { amount: '0' }, 'amount', 'AMOUNT_NOT_POSITIVE'],
    ['fractional amount', { amount: '1.5' }, 'amount', 'AMOUNT_NOT_INTEGER'],
    ['unknown asset', { asset: 'DOGE' }, 'asset', 'UNKNOWN_ASSET'],
    ['unknown account', { customerAccount: 'acct-nope' }, 'customer_account', 'UNKNOWN_CUSTOMER_ACCOUNT'],
    ['tag on a chain without tags', { destinationTag: '42' }, 'destination_tag', 'DESTINATION_TAG_NOT_SUPPORTED'],
  ];
  it.each(cases)('%s', async (_name, patch, field, reason) => {
    const before = await counts();
    expect(await failure(submit(baseRequest(patch)))).toMatchObject({ code: status.INVALID_ARGUMENT, reason, field });
    expect(await counts()).toEqual(before);
  });

  it('accepts valid bech32m (taproot) and base58check destinations for BTC', async () => {
    for (const destinationAddress of ['bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0', '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa']) {
      const { withdrawal } = await submit(baseRequest({ asset: 'BTC', amount: '1000', destinationAddress }));
      expect(withdrawal.destinationAddress).toBe(destinationAddress);
    }
  });
});

describe('idempotency', () => {
  it('same key + same body returns the original result; a different body is ALREADY_EXISTS', async () => {
    const req = baseRequest();
    const first = await submit(req);
    const again = await submit(req);
    expect(again.withdrawal.withdrawalId).toBe(first.withdrawal.withdrawalId);
    const before = await counts();
    const conflict = await failure(submit({ ...req, amount: '2' }));
    expect(conflict).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'IDEMPOTENCY_KEY_REUSED' });
    expect(conflict.details).toMatch(/idempotency_key/);
    expect(await counts()).toEqual(before);
  });

  it('50 concurrent duplicates resolve to one request and one event', async () => {
    const req = baseRequest();
    const results = await Promise.all(Array.from({ length: 50 }, () => submit(req)));
    const ids = new Set(results.map((r) => r.withdrawal.withdrawalId));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    const [rows] = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM withdrawal WHERE idempotency_key = $1', [req.idempotencyKey]);
    expect(rows?.n).toBe('1');
    const [events] = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM outbox WHERE key = $1', [id]);
    expect(events?.n).toBe('1');
  });
});

describe('C-5.3-a pipeline events drive the state machine forward only, exactly once', () => {
  it('risk -> policy -> prepared -> broadcast -> confirmed -> final, streamed to WatchWithdrawals', async () => {
    const { withdrawal } = await submit(baseRequest());
    const id = withdrawal.withdrawalId;
    const streamed: WireWithdrawal[] = [];
    const watchReq = { customerAccount: '', withdrawalIds: [id] };
    const stream = client.watchWithdrawals(watchReq, readMd(ACME, 'WatchWithdrawals', [['customer_account', ''], ['withdrawal_ids', [id]]]));
    stream.on('data', (m: { withdrawal: WireWithdrawal }) => streamed.push(m.withdrawal));
    stream.on('error', () => undefined);
    await waitFor(() => streamed.length >= 1, 10_000, () => 'current state first');
    expect(streamed[0]?.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);

    const get = async () => ((await call(client.getWithdrawal.bind(client) as never, { withdrawalId: id }, readMd(ACME, 'GetWithdrawal', [['withdrawal_id', id]]))) as { withdrawal: WireWithdrawal }).withdrawal;
    const waitState = (s: WithdrawalState) => waitFor(async () => (await get()).state === s, 20_000, () => `state ${WithdrawalState[s]}`);

    const risk = await publish(Topics.riskAssessed, id, RiskAssessed.fromPartial({ assessmentId: 'a1', withdrawalId: id, verdict: RiskVerdict.RISK_VERDICT_CLEAR }));
    await waitState(WithdrawalState.WITHDRAWAL_STATE_SCREENED);
    // The same event delivered again has no second effect (inbox).
    await publish(Topics.riskAssessed, id, RiskAssessed.decode(risk.payload), risk.id);
    await publish(Topics.policyDecided, id, PolicyDecided.fromPartial({ decisionId: 'd1', withdrawalId: id, decision: PolicyDecision.POLICY_DECISION_ALLOW }));
    await waitState(WithdrawalState.WITHDRAWAL_STATE_APPROVED);
    await publish(Topics.txPrepared, 'wallet-1', TxPrepared.fromPartial({ withdrawalId: id, decisionId: 'd1', sourceWallet: 'wallet-1' }));
    await waitState(WithdrawalState.WITHDRAWAL_STATE_SIGNING);
    await publish(Topics.txSigned, 'wallet-1', TxSigned.fromPartial({ withdrawalId: id, decisionId: 'd1', txHash: '0xabc' }));
    await waitFor(async () => (await db.admin<{ state: string }>('SELECT state FROM withdrawal WHERE id = $1', [id]))[0]?.state === 'SIGNED', 20_000, () => 'SIGNED');
    // A late, backwards event (policy again) is ignored.
    await publish(Topics.policyDecided, id, PolicyDecided.fromPartial({ decisionId: 'd0', withdrawalId: id, decision: PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL }));
    await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: id, txHash: '0xabc', state: TxState.TX_STATE_BROADCAST }));
    await waitState(WithdrawalState.WITHDRAWAL_STATE_BROADCAST);
    await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: id, txHash: '0xabc', state: TxState.TX_STATE_CONFIRMED, confirmations: 3 }));
    await waitState(WithdrawalState.WITHDRAWAL_STATE_CONFIRMED);
    await publish(Topics.txStatus, 'wallet-1', TxStatus.fromPartial({ withdrawalId: id, txHash: '0xabc', state: TxState.TX_STATE_FINAL, confirmations: 12 }));
    await waitState(WithdrawalState.WITHDRAWAL_STATE_COMPLETED);
    const final = await get();
    expect(final).toMatchObject({ txHash: '0xabc', confirmations: 12 });

    const transitions = await db.admin<{ from_state: string | null; to_state: string }>('SELECT from_state, to_state FROM withdrawal_transition WHERE withdrawal_id = $1 ORDER BY at, to_state', [id]);
    expect(transitions.map((t) => t.to_state)).toEqual(['REQUESTED', 'SCREENED', 'APPROVED', 'PREPARED', 'SIGNED', 'BROADCAST', 'CONFIRMED', 'FINAL']);
    await waitFor(() => streamed.some((w) => w.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED), 10_000, () => 'final state streamed');
    const states = streamed.map((w) => w.state);
    expect(states.indexOf(WithdrawalState.WITHDRAWAL_STATE_SCREENED)).toBeLessThan(states.indexOf(WithdrawalState.WITHDRAWAL_STATE_COMPLETED));
    // Each transition was published as withdrawal.status (one per change, incl. confirmation updates).
    await waitFor(() => observed.filter((e) => e.key === id && e.type === Topics.withdrawalStatus).length >= 6, 20_000, () => 'status events on Kafka');
    stream.cancel();
  });

  it('after a policy deny nothing moves the withdrawal on', async () => {
    const { withdrawal } = await submit(baseRequest());
    const id = withdrawal.withdrawalId;
    await publish(Topics.policyDecided, id, PolicyDecided.fromPartial({ decisionId: 'dx', withdrawalId: id, decision: PolicyDecision.POLICY_DECISION_DENY, reasons: [{ code: 'DAILY_LIMIT_EXCEEDED', detail: 'limit' }] }));
    await waitFor(async () => (await db.admin<{ state: string }>('SELECT state FROM withdrawal WHERE id = $1', [id]))[0]?.state === 'DENIED', 20_000, () => 'DENIED');
    const marker = await publish(Topics.txPrepared, 'wallet-2', TxPrepared.fromPartial({ withdrawalId: id, sourceWallet: 'wallet-2' }));
    await waitFor(async () => (await db.admin('SELECT 1 FROM inbox WHERE event_id = $1', [marker.id])).length === 1, 20_000, () => 'tx.prepared handled');
    const [row] = await db.admin<{ state: string; reason_code: string }>('SELECT state, reason_code FROM withdrawal WHERE id = $1', [id]);
    expect(row).toEqual({ state: 'DENIED', reason_code: 'DAILY_LIMIT_EXCEEDED' });
  });

  it('CancelWithdrawal works before signing and is refused after the signer has the transaction', async () => {
    const a = (await submit(baseRequest())).withdrawal.withdrawalId;
    const cancelReq = (id: string) => ({ withdrawalId: id, reason: 'customer changed mind' });
    const cancelMd = (id: string) => signedMetadata(ACME, 'CancelWithdrawal', [['withdrawal_id', id], ['reason', 'customer changed mind']], { timestampMs: clock.now().getTime() });
    const cancelled = (await call(client.cancelWithdrawal.bind(client) as never, cancelReq(a), cancelMd(a))) as { withdrawal: WireWithdrawal };
    expect(cancelled.withdrawal).toMatchObject({ state: WithdrawalState.WITHDRAWAL_STATE_CANCELLED, reasonCode: 'CANCELLED_BY_CLIENT' });

    const b = (await submit(baseRequest())).withdrawal.withdrawalId;
    await publish(Topics.riskAssessed, b, RiskAssessed.fromPartial({ assessmentId: 'ab', withdrawalId: b, verdict: RiskVerdict.RISK_VERDICT_CLEAR }));
    await publish(Topics.policyDecided, b, PolicyDecided.fromPartial({ decisionId: 'db', withdrawalId: b, decision: PolicyDecision.POLICY_DECISION_ALLOW }));
    await publish(Topics.txPrepared, 'wallet-3', TxPrepared.fromPartial({ withdrawalId: b, sourceWallet: 'wallet-3' }));
    await waitFor(async () => (await db.admin<{ state: string }>('SELECT state FROM withdrawal WHERE id = $1', [b]))[0]?.state === 'PREPARED', 20_000, () => 'PREPARED');
    expect(await failure(call(client.cancelWithdrawal.bind(client) as never, cancelReq(b), cancelMd(b)))).toMatchObject({ code: status.FAILED_PRECONDITION, reason: 'NOT_CANCELLABLE' });
  });
});

describe('C-9.4-a maintenance: advance notice, machine-readable schedule, structured UNAVAILABLE during the window', () => {
  it('refuses a window announced with less than the minimum notice', async () => {
    const now = clock.now();
    await expect(
      intake.maintenance.schedule({ chains: [], assets: ['BTC'], startsAt: new Date(now.getTime() + 60_000), endsAt: new Date(now.getTime() + 3_600_000), withdrawalsSuspended: true, depositsDelayed: false, description: 'node upgrade', announcedBy: 'op-1' }, 'c1'),
    ).rejects.toMatchObject({ code: 'MAINTENANCE_NOTICE_TOO_SHORT' });
  });

  it('publishes a window, shows it in GetServiceStatus, and refuses withdrawals inside it', async () => {
    const now = clock.now();
    const startsAt = new Date(now.getTime() + 2 * 3_600_000);
    const endsAt = new Date(startsAt.getTime() + 3_600_000);
    const window = await intake.maintenance.schedule({ chains: ['bitcoin-mainnet'], assets: [], startsAt, endsAt, withdrawalsSuspended: true, depositsDelayed: true, description: 'Bitcoin Core upgrade', announcedBy: 'op-1' }, 'c2');
    const statusRes = (await call(client.getServiceStatus.bind(client) as never, {})) as { assets: { asset: string; withdrawalsEnabled: boolean }[]; maintenance: { maintenanceId: string; chains: string[]; withdrawalsSuspended: boolean }[] };
    expect(statusRes.maintenance).toContainEqual(expect.objectContaining({ maintenanceId: window.id, chains: ['bitcoin-mainnet'], withdrawalsSuspended: true }));
    expect(statusRes.assets.find((a) => a.asset === 'BTC')?.withdrawalsEnabled).toBe(true); // not yet
    await waitFor(() => observed.some((e) => e.key === window.id && e.type === Topics.maintenanceScheduled), 20_000, () => 'maintenance.scheduled on Kafka');

    clock.offsetMs = 2.5 * 3_600_000; // inside the window
    try {
      const refused = await failure(submit(baseRequest({ asset: 'BTC', amount: '1000', destinationAddress: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4' })));
      expect(refused).toMatchObject({ code: status.UNAVAILABLE, reason: 'MAINTENANCE' });
      expect(refused.metadata.get('maintenance-id')[0]).toBe(window.id);
      expect(Number(refused.metadata.get('retry-after-ms')[0])).toBeGreaterThan(0);
      const during = (await call(client.getServiceStatus.bind(client) as never, {})) as { assets: { asset: string; withdrawalsEnabled: boolean; reasonCode: string }[] };
      expect(during.assets.find((a) => a.asset === 'BTC')).toMatchObject({ withdrawalsEnabled: false, reasonCode: 'MAINTENANCE' });
      // Other chains are not affected.
      expect((await submit(baseRequest())).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    } finally {
      clock.offsetMs = 0;
    }
  });
});

describe('GetDepositAddress fails closed without the signer', () => {
  it('returns UNAVAILABLE with a clear reason and no address', async () => {
    const req = { customerAccount: 'acct-1', asset: 'ETH' };
    const res = await failure(call(client.getDepositAddress.bind(client) as never, req, readMd(ACME, 'GetDepositAddress', [['customer_account', 'acct-1'], ['asset', 'ETH']])));
    expect(res).toMatchObject({ code: status.UNAVAILABLE, reason: 'DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE' });
    expect(res.details).toMatch(/signer/);
  });
});
