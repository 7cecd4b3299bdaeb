// IntakeAdminService (operators) over real gRPC with mTLS on its own port, real PostgreSQL
// and real Kafka: pinned operator certificates AND Ed25519 signatures over the canonical
// request, evidence stored with every action, events through the outbox; the integrator
// side (CustodyGatewayService) sees every change. grpcurl calls ListIntegrators by reflection.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  IntakeAdminServiceClient,
  IntegratorAction,
  Topics,
  type IntegratorChanged,
  type MaintenanceScheduled,
  WithdrawalState,
  decodePayload,
  timestampFromDate,
  type CustodyGatewayServiceClient,
  type IntegratorInfo,
  type RegisterIntegratorRequest,
  type ScheduleMaintenanceRequest,
  type Withdrawal,
} from '@custody/contracts';
import { KafkaBus, createKafkaClient, protobufEnvelopeCodec, type Envelope, type Subscription } from '@custody/event-bus';
import { createTestPki, type TestPki } from '@custody/testing';
import { AuthHeaders, encodeSigningInput, prefixedTopics, startIntake, type BodyField, type IntakeHandle } from '../../src/index.js';
import { adminBodies } from '../../src/adapters/grpc/admin.js';
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
let pki: TestPki | undefined;
let dir: string;
let db: TestDatabase;
let bus: KafkaBus;
let intake: IntakeHandle;
let observer: Subscription;
const observed: Envelope[] = [];
const pem: Record<string, Buffer> = {};
const closers: { close(): void }[] = [];

interface OperatorKey {
  readonly id: string;
  readonly keyId: string;
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
}
const newOperator = (id: string): OperatorKey => {
  const secret = ed25519.utils.randomSecretKey();
  return { id, keyId: `${id}-k1`, secret, publicKey: ed25519.getPublicKey(secret) };
};
const ALICE = newOperator('alice');
const BOB = newOperator('bob');

const file = (name: string): string => join(dir, name);
const fingerprint = (certPem: Buffer): string => {
  const der = Buffer.from(certPem.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex');
};
function integratorChanged(e: Envelope): IntegratorChanged {
  const d = decodePayload(e);
  if (d.type !== Topics.integratorChanged) throw new Error(`not integrator.changed: ${d.type}`);
  return d.message;
}
function maintenanceScheduled(e: Envelope): MaintenanceScheduled {
  const d = decodePayload(e);
  if (d.type !== Topics.maintenanceScheduled) throw new Error(`not maintenance.scheduled: ${d.type}`);
  return d.message;
}
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Admin client over the certificate `cert` (signed by the operators' CA or any other). */
function adminClient(cert: string): IntakeAdminServiceClient {
  const c = new IntakeAdminServiceClient(`127.0.0.1:${intake.adminPort}`, credentials.createSsl(pem['ca.crt'], pem[`${cert}.key`], pem[`${cert}.crt`]));
  closers.push(c);
  return c;
}
function gatewayClient(cert: string): CustodyGatewayServiceClient {
  const c = newClient(intake.grpcPort, credentials.createSsl(pem['ca.crt'], pem[`${cert}.key`], pem[`${cert}.crt`]));
  closers.push(c);
  return c;
}

/** Signs an admin call the way docs/intake.md describes (client id = operator id). */
function adminMetadata(op: OperatorKey, method: string, body: readonly BodyField[], options: { nonce?: string; tamper?: boolean; timestampMs?: number } = {}): Metadata {
  const nonce = options.nonce ?? newNonce();
  const timestampMs = options.timestampMs ?? clock.now().getTime();
  const payload = encodeSigningInput({ method: `/custody.intake.v1.IntakeAdminService/${method}`, clientId: op.id, keyId: op.keyId, timestampMs, nonce, body });
  const signature = ed25519.sign(payload, op.secret);
  if (options.tamper) signature[5] = (signature[5] as number) ^ 1;
  const md = new Metadata();
  md.set(AuthHeaders.clientId, op.id);
  md.set(AuthHeaders.keyId, op.keyId);
  md.set(AuthHeaders.timestamp, String(timestampMs));
  md.set(AuthHeaders.nonce, nonce);
  md.set(AuthHeaders.signature, Buffer.from(signature).toString('base64'));
  return md;
}

const registerRequest = (k: SigningKey, cert: string, overrides: Partial<RegisterIntegratorRequest> = {}): RegisterIntegratorRequest => ({
  clientId: k.clientId,
  keyId: k.keyId,
  publicKey: hex(k.publicKey),
  certificateSha256: fingerprint(pem[`${cert}.crt`]!),
  allowedAssets: ['ETH'],
  scopes: ['read', 'withdraw'],
  ratePerSecond: 100,
  burst: 100,
  ipAllowlist: [],
  customerAccounts: ['acct-1'],
  ...overrides,
});

function register(c: IntakeAdminServiceClient, req: RegisterIntegratorRequest, op = ALICE, md?: Metadata): Promise<{ integrator: IntegratorInfo }> {
  return call(c.registerIntegrator.bind(c) as never, req, md ?? adminMetadata(op, 'RegisterIntegrator', adminBodies.registerIntegrator(req)));
}

const withdrawalRequest = () => ({
  idempotencyKey: `idem-${rand()}`,
  customerAccount: 'acct-1',
  asset: 'ETH',
  amount: '1000',
  destinationAddress: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  destinationTag: '',
  clientReference: '',
  signatureKeyId: '',
  signature: Buffer.alloc(0),
});
function submitAs(c: CustodyGatewayServiceClient, key: SigningKey) {
  const req = withdrawalRequest();
  return call(c.submitWithdrawal.bind(c) as never, req, signedMetadata(key, 'SubmitWithdrawal', submitBodyOf(req), { timestampMs: clock.now().getTime() })) as Promise<{ withdrawal: Withdrawal }>;
}

async function count(table: string): Promise<number> {
  const [r] = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`);
  return Number(r?.n);
}
const snapshot = async () => ({ integrators: await count('integrator'), actions: await count('admin_action'), outbox: await count('outbox'), windows: await count('maintenance_window') });

beforeAll(async () => {
  pki = createTestPki({ prefix: 'intake-admin-', caName: 'ca' }); // server + integrators
  dir = pki.dir;
  const operatorCa = pki.root('operator-ca'); // operators only: the admin port trusts this CA, the gateway port does not
  pki.server('server');
  for (const c of ['int-new', 'int-rot', 'int-dup', 'int-gone']) pki.client(c);
  for (const c of ['op-alice', 'op-bob', 'op-unpinned']) operatorCa.client(c);
  Object.assign(pem, pki.pemFiles());

  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `intake-admin-test-${rand()}`, logLevel: 'nothing' }) });
  const server = { certChain: pem['server.crt']!, privateKey: pem['server.key']! };
  intake = await startIntake({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'tls', ...server, clientCa: pem['ca.crt']!, requireClientCertificate: true } },
    admin: {
      port: 0,
      credentials: { kind: 'tls', ...server, clientCa: pem['operator-ca.crt']!, requireClientCertificate: true },
      operators: [
        { operatorId: ALICE.id, keyId: ALICE.keyId, publicKey: ALICE.publicKey, certificateSha256: [fingerprint(pem['op-alice.crt']!)] },
        { operatorId: BOB.id, keyId: BOB.keyId, publicKey: BOB.publicKey, certificateSha256: [fingerprint(pem['op-bob.crt']!)] },
      ],
      maxKeyOverlapMs: 24 * 3_600_000,
    },
    timestampWindowMs: 60_000,
    maintenanceMinNoticeMs: 3_600_000,
    perSourceLimit: { ratePerSecond: 100_000, burst: 100_000 },
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}intake.pipeline`,
    outboxPollIntervalMs: 50,
  });
  observer = await bus.subscribe({
    groupId: `${prefix}observer`,
    topics: [`${prefix}${Topics.integratorChanged}`, `${prefix}${Topics.maintenanceScheduled}`],
    handler: async (m) => {
      observed.push(protobufEnvelopeCodec.decode(m.value));
    },
  });
}, 180_000);

afterAll(async () => {
  for (const c of closers) c.close();
  await observer?.stop();
  await intake?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  pki?.cleanup();
});

describe('IntakeAdminService is served on its own port, to operator certificates only', () => {
  it('the admin port is not the gateway port, and the gateway port does not serve the admin service', async () => {
    expect(intake.adminPort).toBeDefined();
    expect(intake.adminPort).not.toBe(intake.grpcPort);
    const onGateway = new IntakeAdminServiceClient(`127.0.0.1:${intake.grpcPort}`, credentials.createSsl(pem['ca.crt'], pem['int-dup.key'], pem['int-dup.crt']));
    closers.push(onGateway);
    expect(await failure(call(onGateway.listIntegrators.bind(onGateway) as never, {}, adminMetadata(ALICE, 'ListIntegrators', [])))).toMatchObject({ code: status.UNIMPLEMENTED });
  });

  it('an integrator certificate (another CA) does not get through the admin port TLS handshake', async () => {
    const c = new IntakeAdminServiceClient(`127.0.0.1:${intake.adminPort}`, credentials.createSsl(pem['ca.crt'], pem['int-dup.key'], pem['int-dup.crt']));
    closers.push(c);
    expect(await failure(call(c.listIntegrators.bind(c) as never, {}, adminMetadata(ALICE, 'ListIntegrators', [])))).toMatchObject({ code: status.UNAVAILABLE });
  });
});

describe('operator authentication: pinned certificate AND Ed25519 signature, replay-protected; refusals store nothing', () => {
  it('refuses a CA-valid operator certificate that is not pinned', async () => {
    const before = await snapshot();
    const res = await failure(register(adminClient('op-unpinned'), registerRequest(newSigningKey('nobody-1'), 'int-dup')));
    expect(res).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'UNKNOWN_OPERATOR_CERTIFICATE' });
    expect(await snapshot()).toEqual(before);
  });

  it('refuses an unsigned call and a bad signature over a pinned certificate', async () => {
    const before = await snapshot();
    const c = adminClient('op-alice');
    const req = registerRequest(newSigningKey('nobody-2'), 'int-dup');
    expect(await failure(register(c, req, ALICE, new Metadata()))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'SIGNATURE_REQUIRED' });
    expect(await failure(register(c, req, ALICE, adminMetadata(ALICE, 'RegisterIntegrator', adminBodies.registerIntegrator(req), { tamper: true })))).toMatchObject({
      code: status.UNAUTHENTICATED,
      reason: 'BAD_SIGNATURE',
    });
    // Signed for another body (the operator approved other scopes): does not verify.
    const signedFor = adminBodies.registerIntegrator({ ...req, scopes: ['read'] });
    expect(await failure(register(c, req, ALICE, adminMetadata(ALICE, 'RegisterIntegrator', signedFor)))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'BAD_SIGNATURE' });
    expect(await snapshot()).toEqual(before);
  });

  it("refuses another operator's valid signature over alice's certificate", async () => {
    const req = registerRequest(newSigningKey('nobody-3'), 'int-dup');
    const res = await failure(register(adminClient('op-alice'), req, BOB));
    expect(res).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'OPERATOR_CERTIFICATE_MISMATCH' });
  });

  it('refuses a replayed signed call (the first one is applied once)', async () => {
    const c = adminClient('op-alice');
    const req = registerRequest(newSigningKey('replayed-co'), 'int-dup');
    const md = adminMetadata(ALICE, 'RegisterIntegrator', adminBodies.registerIntegrator(req));
    await register(c, req, ALICE, md);
    const before = await snapshot();
    expect(await failure(register(c, req, ALICE, md))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'REPLAYED_NONCE' });
    expect(await snapshot()).toEqual(before);
  });
});

const NEW_CO = newSigningKey('new-co');

describe('RegisterIntegrator: stored with the operator evidence, evented, usable on the gateway at once', () => {
  const NEW = NEW_CO;

  it('registers; the admin_action row re-verifies with the operator key; integrator.changed reaches Kafka; the integrator can withdraw', async () => {
    const res = await register(adminClient('op-alice'), registerRequest(NEW, 'int-new', { ipAllowlist: ['127.0.0.1', '::1/128'] }));
    expect(res.integrator).toMatchObject({ clientId: 'new-co', status: 'active', scopes: ['read', 'withdraw'], allowedAssets: ['ETH'], ratePerSecond: 100, burst: 100 });
    expect(res.integrator.keys).toEqual([expect.objectContaining({ keyId: 'k1', publicKey: hex(NEW.publicKey), revoked: false })]);
    expect(res.integrator.certificateSha256).toEqual([fingerprint(pem['int-new.crt']!)]);

    const [action] = await db.admin<{ operator_id: string; action: string; signature: Buffer; signed_payload: Buffer; certificate_sha256: string }>(
      `SELECT operator_id, action, signature, signed_payload, certificate_sha256 FROM admin_action WHERE target = 'new-co'`,
    );
    expect(action).toMatchObject({ operator_id: 'alice', action: 'REGISTER_INTEGRATOR', certificate_sha256: fingerprint(pem['op-alice.crt']!) });
    expect(ed25519.verify(new Uint8Array(action!.signature), new Uint8Array(action!.signed_payload), ALICE.publicKey)).toBe(true);

    await waitFor(() => observed.some((e) => e.type === Topics.integratorChanged && e.key === 'new-co'), 20_000, () => 'integrator.changed on Kafka');
    const event = observed.find((e) => e.type === Topics.integratorChanged && e.key === 'new-co')!;
    const message = integratorChanged(event);
    expect(message).toMatchObject({ clientId: 'new-co', action: IntegratorAction.INTEGRATOR_ACTION_REGISTERED, actor: 'alice', keyId: 'k1', publicKey: hex(NEW.publicKey) });
    expect(ed25519.verify(new Uint8Array(message.signature), new Uint8Array(message.signedPayload), ALICE.publicKey)).toBe(true);

    const { withdrawal } = await submitAs(gatewayClient('int-new'), NEW);
    expect(withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
  });

  it('refuses a taken client id (ALREADY_EXISTS) and stores nothing', async () => {
    const before = await snapshot();
    const res = await failure(register(adminClient('op-bob'), registerRequest(newSigningKey('new-co'), 'int-dup'), BOB));
    expect(res).toMatchObject({ code: status.ALREADY_EXISTS, reason: 'INTEGRATOR_EXISTS' });
    expect(await snapshot()).toEqual(before);
  });

  const bad: [string, Partial<RegisterIntegratorRequest>, string, string][] = [
    ['client id', { clientId: 'has space' }, 'client_id', 'CLIENT_ID_MALFORMED'],
    ['key id', { keyId: '' }, 'key_id', 'KEY_ID_REQUIRED'],
    ['public key (not hex)', { publicKey: 'zz' }, 'public_key', 'PUBLIC_KEY_MALFORMED'],
    ['certificate pin', { certificateSha256: 'abc' }, 'certificate_sha256', 'CERTIFICATE_SHA256_MALFORMED'],
    ['asset', { allowedAssets: ['DOGE'] }, 'allowed_assets', 'UNKNOWN_ASSET'],
    ['no scope', { scopes: [] }, 'scopes', 'SCOPES_REQUIRED'],
    ['scope', { scopes: ['admin'] }, 'scopes', 'SCOPE_INVALID'],
    ['rate', { ratePerSecond: 0 }, 'rate_per_second', 'RATE_LIMIT_INVALID'],
    ['burst', { burst: 0 }, 'burst', 'RATE_LIMIT_INVALID'],
    ['IP allow-list', { ipAllowlist: ['10.0.0.0/33'] }, 'ip_allowlist', 'IP_ALLOWLIST_INVALID'],
    ['customer account', { customerAccounts: ['a b'] }, 'customer_accounts', 'CUSTOMER_ACCOUNT_MALFORMED'],
  ];
  it.each(bad)('bad %s → INVALID_ARGUMENT naming the field, nothing stored', async (_name, override, field, reason) => {
    const before = await snapshot();
    const res = await failure(register(adminClient('op-alice'), registerRequest(newSigningKey(`bad-${rand()}`), 'int-dup', override)));
    expect(res).toMatchObject({ code: status.INVALID_ARGUMENT, field, reason });
    expect(await snapshot()).toEqual(before);
  });
});

describe('RevokeIntegrator: the integrator is refused on CustodyGateway from then on', () => {
  it('revokes (evidence + event); certificate-only and signed gateway calls are then UNAUTHENTICATED CLIENT_REVOKED', async () => {
    const GONE = newSigningKey('gone-co');
    const admin = adminClient('op-alice');
    await register(admin, registerRequest(GONE, 'int-gone'));
    const gw = gatewayClient('int-gone');
    expect((await submitAs(gw, GONE)).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);

    const req = { clientId: 'gone-co', reason: 'contract ended' };
    const res = (await call(admin.revokeIntegrator.bind(admin) as never, req, adminMetadata(ALICE, 'RevokeIntegrator', adminBodies.revokeIntegrator(req)))) as { integrator: IntegratorInfo };
    expect(res.integrator.status).toBe('revoked');

    expect(await failure(submitAs(gw, GONE))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CLIENT_REVOKED' });
    expect(await failure(call(gw.listWithdrawals.bind(gw) as never, { customerAccount: '', states: [], pageSize: 0, pageToken: '' }))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CLIENT_REVOKED' });

    const [action] = await db.admin<{ operator_id: string; reason: string }>(`SELECT operator_id, reason FROM admin_action WHERE target = 'gone-co' AND action = 'REVOKE_INTEGRATOR'`);
    expect(action).toEqual({ operator_id: 'alice', reason: 'contract ended' });
    await waitFor(
      () => observed.some((e) => e.type === Topics.integratorChanged && e.key === 'gone-co' && integratorChanged(e).action === IntegratorAction.INTEGRATOR_ACTION_REVOKED),
      20_000,
      () => 'integrator.changed REVOKED on Kafka',
    );

    const again = { clientId: 'gone-co', reason: '' };
    expect(await failure(call(admin.revokeIntegrator.bind(admin) as never, again, adminMetadata(ALICE, 'RevokeIntegrator', adminBodies.revokeIntegrator(again))))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'INTEGRATOR_REVOKED',
    });
    const unknown = { clientId: 'never-registered', reason: '' };
    expect(await failure(call(admin.revokeIntegrator.bind(admin) as never, unknown, adminMetadata(ALICE, 'RevokeIntegrator', adminBodies.revokeIntegrator(unknown))))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'INTEGRATOR_NOT_FOUND',
    });
  });
});

describe('RotateIntegratorKey: the new key at once, the old one only during the bounded overlap', () => {
  it('both keys sign during the overlap; after it the old key is KEY_EXPIRED and the new one still works', async () => {
    const OLD = newSigningKey('rot-co', 'k1');
    const NEXT = newSigningKey('rot-co', 'k2');
    const admin = adminClient('op-bob');
    await register(admin, registerRequest(OLD, 'int-rot'), BOB);
    const gw = gatewayClient('int-rot');

    const tooLong = { clientId: 'rot-co', newKeyId: 'k2', newPublicKey: hex(NEXT.publicKey), overlapSeconds: 24 * 3600 + 1 };
    expect(await failure(call(admin.rotateIntegratorKey.bind(admin) as never, tooLong, adminMetadata(BOB, 'RotateIntegratorKey', adminBodies.rotateIntegratorKey(tooLong))))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      field: 'overlap_seconds',
    });

    const req = { clientId: 'rot-co', newKeyId: 'k2', newPublicKey: hex(NEXT.publicKey), overlapSeconds: 600 };
    const res = (await call(admin.rotateIntegratorKey.bind(admin) as never, req, adminMetadata(BOB, 'RotateIntegratorKey', adminBodies.rotateIntegratorKey(req)))) as { integrator: IntegratorInfo };
    const old = res.integrator.keys.find((k) => k.keyId === 'k1');
    expect(old?.expiresAt).toBeDefined();
    expect(res.integrator.keys.find((k) => k.keyId === 'k2')?.expiresAt).toBeUndefined();

    expect((await submitAs(gw, NEXT)).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    expect((await submitAs(gw, OLD)).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);

    clock.offsetMs = 601_000; // past the overlap
    try {
      expect(await failure(submitAs(gw, OLD))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'KEY_EXPIRED' });
      expect((await submitAs(gw, NEXT)).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    } finally {
      clock.offsetMs = 0;
    }

    const dup = { ...req, overlapSeconds: 0 };
    expect(await failure(call(admin.rotateIntegratorKey.bind(admin) as never, dup, adminMetadata(BOB, 'RotateIntegratorKey', adminBodies.rotateIntegratorKey(dup))))).toMatchObject({
      code: status.ALREADY_EXISTS,
      reason: 'KEY_EXISTS',
    });
    await waitFor(
      () =>
        observed.some((e) => {
          if (e.type !== Topics.integratorChanged || e.key !== 'rot-co') return false;
          const m = integratorChanged(e);
          return m.action === IntegratorAction.INTEGRATOR_ACTION_KEY_ROTATED && m.actor === 'bob' && m.keyId === 'k2' && m.previousKeysExpireAt !== undefined;
        }),
      20_000,
      () => 'integrator.changed KEY_ROTATED on Kafka',
    );
  });
});

describe('ListIntegrators (and a stock client: grpcurl by reflection on the admin port)', () => {
  it('lists the integrators with their keys and pins', async () => {
    const admin = adminClient('op-alice');
    const res = (await call(admin.listIntegrators.bind(admin) as never, {}, adminMetadata(ALICE, 'ListIntegrators', []))) as { integrators: IntegratorInfo[] };
    expect(res.integrators.map((i) => i.clientId)).toEqual(expect.arrayContaining(['new-co', 'replayed-co']));
    expect(res.integrators.find((i) => i.clientId === 'new-co')?.certificateSha256).toEqual([fingerprint(pem['int-new.crt']!)]);
  });

  it('grpcurl lists IntakeAdminService by reflection and calls ListIntegrators signed outside our client code', async () => {
    const bin = requireEnv('GRPCURL_BIN');
    const transcript: string[] = [];
    const grpcurl = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      const full = ['-cacert', file('ca.crt'), '-cert', file('op-alice.crt'), '-key', file('op-alice.key'), ...args];
      return new Promise((resolve) => {
        // Asynchronous: the server runs in this process.
        execFile(bin, full, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
          transcript.push(`$ grpcurl ${full.map((a) => (/[ {]/.test(a) ? `'${a}'` : a)).join(' ').replaceAll(dir, '$CERTS')}\n${stdout}${stderr}`);
          resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
        });
      });
    };
    const addr = `127.0.0.1:${intake.adminPort}`;
    const list = await grpcurl([addr, 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')).toEqual(expect.arrayContaining(['custody.intake.v1.IntakeAdminService', 'grpc.health.v1.Health']));
    expect(list.stdout).not.toMatch(/CustodyGatewayService/);

    const md = adminMetadata(ALICE, 'ListIntegrators', []);
    const headers = [AuthHeaders.clientId, AuthHeaders.keyId, AuthHeaders.timestamp, AuthHeaders.nonce, AuthHeaders.signature].flatMap((h) => ['-H', `${h}: ${String(md.get(h)[0])}`]);
    const ok = await grpcurl([...headers, '-d', '{}', addr, 'custody.intake.v1.IntakeAdminService/ListIntegrators']);
    expect(ok.code).toBe(0);
    const body = JSON.parse(ok.stdout) as { integrators: { clientId: string; status: string }[] };
    expect(body.integrators).toContainEqual(expect.objectContaining({ clientId: 'new-co', status: 'active' }));
    const replay = await grpcurl(['-v', ...headers, '-d', '{}', addr, 'custody.intake.v1.IntakeAdminService/ListIntegrators']);
    expect(replay.code).not.toBe(0);
    expect(replay.stdout + replay.stderr).toMatch(/error-reason: REPLAYED_NONCE/);
    if (process.env.INTAKE_ADMIN_GRPCURL_TRANSCRIPT) writeFileSync(process.env.INTAKE_ADMIN_GRPCURL_TRANSCRIPT, transcript.join('\n'));
  });
});

describe('C-9.4-a ScheduleMaintenance / CancelMaintenance: minimum notice, operator from authentication, cancellation published', () => {
  const scheduleReq = (startsInMs: number, overrides: Partial<ScheduleMaintenanceRequest> = {}): ScheduleMaintenanceRequest => {
    const startsAt = new Date(clock.now().getTime() + startsInMs);
    return {
      chains: [],
      assets: ['ETH'],
      startsAt: timestampFromDate(startsAt),
      endsAt: timestampFromDate(new Date(startsAt.getTime() + 3_600_000)),
      withdrawalsSuspended: true,
      depositsDelayed: false,
      description: 'Ethereum node upgrade',
      ...overrides,
    };
  };

  it('refuses a window inside the minimum notice (INVALID_ARGUMENT starts_at) and a window without an end, storing nothing', async () => {
    const admin = adminClient('op-alice');
    const before = await snapshot();
    const short = scheduleReq(60_000);
    expect(await failure(call(admin.scheduleMaintenance.bind(admin) as never, short, adminMetadata(ALICE, 'ScheduleMaintenance', adminBodies.scheduleMaintenance(short))))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      field: 'starts_at',
      reason: 'MAINTENANCE_NOTICE_TOO_SHORT',
    });
    const { endsAt: _drop, ...noEnd } = scheduleReq(2 * 3_600_000);
    const open = { ...noEnd, endsAt: undefined };
    expect(await failure(call(admin.scheduleMaintenance.bind(admin) as never, open, adminMetadata(ALICE, 'ScheduleMaintenance', adminBodies.scheduleMaintenance(open))))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      field: 'ends_at',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('schedules (announced_by = the operator), then cancels: gone from GetServiceStatus, withdrawals run inside the former window, cancellation on Kafka under the same key', async () => {
    const admin = adminClient('op-alice');
    const req = scheduleReq(2 * 3_600_000);
    const { window } = (await call(admin.scheduleMaintenance.bind(admin) as never, req, adminMetadata(ALICE, 'ScheduleMaintenance', adminBodies.scheduleMaintenance(req)))) as { window: { maintenanceId: string } };
    const [row] = await db.admin<{ announced_by: string }>(`SELECT announced_by FROM maintenance_window WHERE id = $1`, [window.maintenanceId]);
    expect(row?.announced_by).toBe('alice');
    const gw = gatewayClient('int-new');
    const NEW_FOR_MAINTENANCE = NEW_CO;
    const listed = (await call(gw.getServiceStatus.bind(gw) as never, {})) as { maintenance: { maintenanceId: string }[] };
    expect(listed.maintenance.map((m) => m.maintenanceId)).toContain(window.maintenanceId);

    const cancel = { maintenanceId: window.maintenanceId, reason: 'upgrade postponed' };
    const cancelled = (await call(admin.cancelMaintenance.bind(admin) as never, cancel, adminMetadata(ALICE, 'CancelMaintenance', adminBodies.cancelMaintenance(cancel)))) as { maintenanceId: string };
    expect(cancelled.maintenanceId).toBe(window.maintenanceId);
    const after = (await call(gw.getServiceStatus.bind(gw) as never, {})) as { maintenance: { maintenanceId: string }[] };
    expect(after.maintenance.map((m) => m.maintenanceId)).not.toContain(window.maintenanceId);
    const actions = await db.admin<{ action: string; operator_id: string }>(`SELECT action, operator_id FROM admin_action WHERE target = $1 ORDER BY at, action DESC`, [window.maintenanceId]);
    expect(actions).toEqual([
      { action: 'SCHEDULE_MAINTENANCE', operator_id: 'alice' },
      { action: 'CANCEL_MAINTENANCE', operator_id: 'alice' },
    ]);

    await waitFor(() => observed.filter((e) => e.type === Topics.maintenanceScheduled && e.key === window.maintenanceId).length === 2, 20_000, () => 'announcement + cancellation on Kafka');
    const [first, second] = observed.filter((e) => e.key === window.maintenanceId).map(maintenanceScheduled);
    expect(first).toMatchObject({ maintenanceId: window.maintenanceId, cancelled: false, announcedBy: 'alice', assets: ['ETH'] });
    expect(second).toMatchObject({ maintenanceId: window.maintenanceId, cancelled: true, cancelledBy: 'alice', announcedBy: 'alice', assets: ['ETH'], withdrawalsSuspended: true });
    expect(second?.cancelledAt).toBeDefined();

    // Inside the former window, intake no longer suspends ETH withdrawals.
    clock.offsetMs = 2.5 * 3_600_000;
    try {
      expect((await submitAs(gw, NEW_FOR_MAINTENANCE)).withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    } finally {
      clock.offsetMs = 0;
    }

    const again = { maintenanceId: window.maintenanceId, reason: '' };
    expect(await failure(call(admin.cancelMaintenance.bind(admin) as never, again, adminMetadata(ALICE, 'CancelMaintenance', adminBodies.cancelMaintenance(again))))).toMatchObject({
      code: status.FAILED_PRECONDITION,
      reason: 'MAINTENANCE_ALREADY_CANCELLED',
    });
    const unknown = { maintenanceId: '00000000-0000-4000-8000-000000000000', reason: '' };
    expect(await failure(call(admin.cancelMaintenance.bind(admin) as never, unknown, adminMetadata(ALICE, 'CancelMaintenance', adminBodies.cancelMaintenance(unknown))))).toMatchObject({
      code: status.NOT_FOUND,
      reason: 'MAINTENANCE_NOT_FOUND',
    });
    const malformed = { maintenanceId: 'x', reason: '' };
    expect(await failure(call(admin.cancelMaintenance.bind(admin) as never, malformed, adminMetadata(ALICE, 'CancelMaintenance', adminBodies.cancelMaintenance(malformed))))).toMatchObject({
      code: status.INVALID_ARGUMENT,
      field: 'maintenance_id',
    });
  });
});

describe('C-9.4-a ListMaintenanceNotices: the operators see the schedule with who announced and who cancelled it (and grpcurl, a stock client, reads it)', () => {
  interface Notice {
    window: { maintenanceId: string; assets: string[] };
    announcedBy: string;
    cancelledBy: string;
    cancelledAt?: unknown;
    state: string;
  }
  const schedule = async (op: OperatorKey, cert: string, startsInMs: number, durationMs = 3_600_000): Promise<string> => {
    const admin = adminClient(cert);
    const startsAt = new Date(clock.now().getTime() + startsInMs);
    const req: ScheduleMaintenanceRequest = {
      chains: [],
      assets: ['ETH'],
      startsAt: timestampFromDate(startsAt),
      endsAt: timestampFromDate(new Date(startsAt.getTime() + durationMs)),
      withdrawalsSuspended: true,
      depositsDelayed: false,
      description: `listing test ${rand()}`,
    };
    const res = (await call(admin.scheduleMaintenance.bind(admin) as never, req, adminMetadata(op, 'ScheduleMaintenance', adminBodies.scheduleMaintenance(req)))) as { window: { maintenanceId: string } };
    return res.window.maintenanceId;
  };
  const list = async (req: { includeEnded: boolean; includeCancelled: boolean; limit: number }): Promise<{ notices: Notice[]; truncated: boolean }> => {
    const admin = adminClient('op-bob');
    return (await call(admin.listMaintenanceNotices.bind(admin) as never, req, adminMetadata(BOB, 'ListMaintenanceNotices', adminBodies.listMaintenanceNotices(req)))) as { notices: Notice[]; truncated: boolean };
  };

  it('default: upcoming windows only; include_cancelled adds the cancelled one with its operator; include_ended the one that has ended; earliest start first', async () => {
    const upcoming = await schedule(ALICE, 'op-alice', 3 * 3_600_000);
    const toCancel = await schedule(BOB, 'op-bob', 4 * 3_600_000);
    const ending = await schedule(ALICE, 'op-alice', 1.5 * 3_600_000, 60_000);
    const admin = adminClient('op-bob');
    const cancel = { maintenanceId: toCancel, reason: 'not needed' };
    await call(admin.cancelMaintenance.bind(admin) as never, cancel, adminMetadata(BOB, 'CancelMaintenance', adminBodies.cancelMaintenance(cancel)));

    const mine = (r: { notices: Notice[] }) => r.notices.filter((n) => [upcoming, toCancel, ending].includes(n.window.maintenanceId));
    const byDefault = mine(await list({ includeEnded: false, includeCancelled: false, limit: 0 }));
    expect(byDefault.map((n) => [n.window.maintenanceId, n.state, n.announcedBy])).toEqual([
      [ending, 'upcoming', 'alice'],
      [upcoming, 'upcoming', 'alice'],
    ]);
    const withCancelled = mine(await list({ includeEnded: false, includeCancelled: true, limit: 0 }));
    expect(withCancelled.map((n) => n.window.maintenanceId)).toEqual([ending, upcoming, toCancel]);
    expect(withCancelled[2]).toMatchObject({ state: 'cancelled', announcedBy: 'bob', cancelledBy: 'bob', window: { assets: ['ETH'] } });
    expect(withCancelled[2]?.cancelledAt).toBeDefined();

    clock.offsetMs = 2 * 3_600_000; // `ending` is over, `upcoming` not yet started
    try {
      expect(mine(await list({ includeEnded: false, includeCancelled: false, limit: 0 })).map((n) => n.window.maintenanceId)).toEqual([upcoming]);
      expect(mine(await list({ includeEnded: true, includeCancelled: false, limit: 0 })).map((n) => [n.window.maintenanceId, n.state])).toEqual([
        [ending, 'ended'],
        [upcoming, 'upcoming'],
      ]);
    } finally {
      clock.offsetMs = 0;
    }
  });

  it('limit: the latest-starting windows are kept and truncated is set; out of range → INVALID_ARGUMENT limit', async () => {
    const all = await list({ includeEnded: true, includeCancelled: true, limit: 1000 });
    expect(all.truncated).toBe(false);
    expect(all.notices.length).toBeGreaterThanOrEqual(3);
    const one = await list({ includeEnded: true, includeCancelled: true, limit: 1 });
    expect(one.truncated).toBe(true);
    expect(one.notices.map((n) => n.window.maintenanceId)).toEqual([all.notices[all.notices.length - 1]?.window.maintenanceId]);
    expect(await failure(list({ includeEnded: false, includeCancelled: false, limit: 1001 }))).toMatchObject({ code: status.INVALID_ARGUMENT, field: 'limit', reason: 'LIMIT_OUT_OF_RANGE' });
  });

  it('grpcurl (reflection, request signed over the documented body include_ended, include_cancelled, limit) lists the cancelled window too', async () => {
    const cancelledId = await schedule(ALICE, 'op-alice', 5 * 3_600_000);
    const admin = adminClient('op-alice');
    const cancel = { maintenanceId: cancelledId, reason: 'moved' };
    await call(admin.cancelMaintenance.bind(admin) as never, cancel, adminMetadata(ALICE, 'CancelMaintenance', adminBodies.cancelMaintenance(cancel)));
    const bin = requireEnv('GRPCURL_BIN');
    const body: BodyField[] = [
      ['include_ended', 'false'],
      ['include_cancelled', 'true'],
      ['limit', '0'],
    ];
    const md = adminMetadata(ALICE, 'ListMaintenanceNotices', body);
    const headers = [AuthHeaders.clientId, AuthHeaders.keyId, AuthHeaders.timestamp, AuthHeaders.nonce, AuthHeaders.signature].flatMap((h) => ['-H', `${h}: ${String(md.get(h)[0])}`]);
    const args = ['-cacert', file('ca.crt'), '-cert', file('op-alice.crt'), '-key', file('op-alice.key'), ...headers, '-d', '{"include_cancelled": true}', `127.0.0.1:${intake.adminPort}`, 'custody.intake.v1.IntakeAdminService/ListMaintenanceNotices'];
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(bin, args, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const res = JSON.parse(r.stdout) as { notices: Notice[] };
    expect(res.notices.find((n) => n.window.maintenanceId === cancelledId)).toMatchObject({ state: 'cancelled', announcedBy: 'alice', cancelledBy: 'alice' });
  });
});
