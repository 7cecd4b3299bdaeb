// Cross-service: intake's IntakeAdminService and the signer's KeyAdminService record every
// state-changing operator action in the REAL audit service (its own PostgreSQL database, gRPC
// AuditService/RecordOperatorAction, through the platform's createOperatorAuditGate) BEFORE
// they change anything, and refuse the action (UNAVAILABLE, AUDIT_UNAVAILABLE) when audit
// cannot record it: nothing changes. Lives at the root because services never import each
// other (scripts/workspace/boundaries.spec.ts); each service is started through its public entry.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  ActivateKeyRequest,
  AdminApproval,
  AdminRequest,
  GenerateKeyRequest,
  IntakeAdminServiceClient,
  KeyAdminServiceClient,
  SuspendKeyRequest,
  type RegisterIntegratorRequest,
} from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createOperatorAuditGate, errorReason } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, rand, type TestDatabase } from '@custody/testing';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, LocalEd25519Signer, startAudit, type AuditHandle } from '@custody/audit';
import { AuthHeaders, INTAKE_ENTITIES, INTAKE_MIGRATIONS, encodeSigningInput, startIntake, type BodyField, type IntakeHandle } from '@custody/intake';
import { SIGNER_ENTITIES, SIGNER_MIGRATIONS, generationRequest, keyTransitionSigningBytes, startSigner, type KeyTransitionRequest, type SignerHandle } from '@custody/signer';
import { adminBodies } from '../../services/intake/src/adapters/grpc/admin.js';
import { quietLogger } from '../../services/policy/test/integration/support.js';
import { ETH, assets, operators as signerOperators, ops, trustedPolicyKeys, type TestOperator } from '../../services/signer/test/fixtures.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** SHA-256(utf8(domain) || 0x00 || (u32be(len) || part)…): the audited request digest, computed independently. */
function digest(domain: string, parts: readonly (string | Uint8Array)[]): string {
  const h = createHash('sha256').update(`${domain}\0`);
  for (const p of parts) {
    const bytes = typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    h.update(len).update(bytes);
  }
  return h.digest('hex');
}

function unary<Res>(fn: (req: unknown, md: Metadata, opts: object, cb: (err: ServiceError | null, res?: Res) => void) => void, req: unknown, md: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, md, { deadline: new Date(Date.now() + 30_000) }, (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res))));
}
async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
}

interface OperatorRow {
  sequence: string;
  actor: string;
  action: string;
  correlation_id: string;
  causation_id: string;
  payload: Buffer;
}
let auditDb: TestDatabase;
let audit: AuditHandle | undefined;
let bus: InProcessBus;
let gate: ReturnType<typeof createOperatorAuditGate>;
const operatorRecords = async (target: string): Promise<(OperatorRow & { fields: Record<string, unknown> })[]> =>
  (
    await auditDb.admin<OperatorRow>(
      `SELECT sequence::text, actor, action, correlation_id, causation_id, payload FROM audit_record WHERE kind = 'operator' AND convert_from(payload, 'UTF8') LIKE $1 ORDER BY sequence`,
      [`%"target":"${target}"%`],
    )
  ).map((r) => ({ ...r, fields: JSON.parse(r.payload.toString('utf8')) as Record<string, unknown> }));

// ---------------------------------------------------------------------------------------
// intake: IntakeAdminService on its own mTLS port (pinned operator certificate + signature)

let dir: string;
const pem: Record<string, Buffer> = {};
let intakeDb: TestDatabase;
let intake: IntakeHandle;
let intakeAdmin: IntakeAdminServiceClient;
const ALICE = (() => {
  const secret = ed25519.utils.randomSecretKey();
  return { id: 'op-alice', keyId: 'op-alice-k1', secret, publicKey: ed25519.getPublicKey(secret) };
})();
const certSha256 = (certPem: Buffer): string => createHash('sha256').update(Buffer.from(certPem.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')).digest('hex');

function registerRequest(clientId: string): RegisterIntegratorRequest {
  return {
    clientId,
    keyId: 'k1',
    publicKey: hex(ed25519.getPublicKey(ed25519.utils.randomSecretKey())),
    certificateSha256: certSha256(pem['server.crt']!),
    allowedAssets: ['ETH'],
    scopes: ['read', 'withdraw'],
    ratePerSecond: 10,
    burst: 10,
    ipAllowlist: [],
    customerAccounts: ['acct-1'],
  };
}

/** RegisterIntegrator signed by Alice; returns the call and what she signed. */
function register(req: RegisterIntegratorRequest, correlationId: string): { result: Promise<unknown>; signedPayload: Uint8Array; signature: Uint8Array } {
  const body: readonly BodyField[] = adminBodies.registerIntegrator(req);
  const nonce = randomUUID().replace(/-/g, '');
  const timestampMs = Date.now();
  const signedPayload = encodeSigningInput({ method: '/custody.intake.v1.IntakeAdminService/RegisterIntegrator', clientId: ALICE.id, keyId: ALICE.keyId, timestampMs, nonce, body });
  const signature = ed25519.sign(signedPayload, ALICE.secret);
  const md = new Metadata();
  md.set(AuthHeaders.clientId, ALICE.id);
  md.set(AuthHeaders.keyId, ALICE.keyId);
  md.set(AuthHeaders.timestamp, String(timestampMs));
  md.set(AuthHeaders.nonce, nonce);
  md.set(AuthHeaders.signature, Buffer.from(signature).toString('base64'));
  md.set('x-correlation-id', correlationId);
  return { result: unary(intakeAdmin.registerIntegrator.bind(intakeAdmin) as never, req, md), signedPayload, signature };
}
const intakeCount = async (sql: string, params: unknown[] = []): Promise<number> => Number((await intakeDb.admin<{ n: string }>(`SELECT count(*)::text AS n FROM ${sql}`, params))[0]?.n);

// ---------------------------------------------------------------------------------------
// signer: KeyAdminService (operators' quorum signatures over the key-transition bytes)

let signerDb: TestDatabase;
let signer: SignerHandle;
let keyAdmin: KeyAdminServiceClient;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const approvals = (request: KeyTransitionRequest, signers: readonly TestOperator[]): AdminApproval[] =>
  signers.map((op) => AdminApproval.fromPartial({ operatorId: op.operatorId, role: op.role, keyId: op.keyId, signature: Buffer.from(ed25519.sign(keyTransitionSigningBytes(request, op.operatorId), op.secret)) }));

/** Generates and activates a key (both audited while audit is up). */
async function activeKey(): Promise<string> {
  const walletId = `eth-hot-${rand()}`;
  const keyId = `key-${walletId}`;
  const facts = { requestId: randomUUID(), keyId, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt: nowSeconds() + 300 };
  await unary(
    keyAdmin.generateKey.bind(keyAdmin) as never,
    GenerateKeyRequest.fromPartial({
      request: { requestId: facts.requestId, keyId, expiresAt: String(facts.expiresAt), approvals: approvals(generationRequest(facts), [ops.carol, ops.dave]), reason: 'ceremony' },
      walletId,
      chain: facts.chain,
      algorithm: facts.algorithm,
      tier: facts.tier,
      custody: facts.custody,
    }),
    new Metadata(),
  );
  const activation: KeyTransitionRequest = { requestId: randomUUID(), keyId, transition: 'activate', expiresAt: nowSeconds() + 300, ttlSeconds: 3600 };
  await unary(
    keyAdmin.activateKey.bind(keyAdmin) as never,
    ActivateKeyRequest.fromPartial({ request: { requestId: activation.requestId, keyId, expiresAt: String(activation.expiresAt), approvals: approvals(activation, [ops.carol, ops.dave]), reason: 'go live' }, ttlSeconds: 3600 }),
    new Metadata(),
  );
  return keyId;
}

function suspend(keyId: string, correlationId: string): { result: Promise<unknown>; request: KeyTransitionRequest; wire: AdminRequest } {
  const request: KeyTransitionRequest = { requestId: randomUUID(), keyId, transition: 'suspend', expiresAt: nowSeconds() + 300 };
  const wire = AdminRequest.fromPartial({ requestId: request.requestId, keyId, expiresAt: String(request.expiresAt), approvals: approvals(request, [ops.carol]), reason: 'suspected compromise' });
  const md = new Metadata();
  md.set('x-correlation-id', correlationId);
  return { result: unary(keyAdmin.suspendKey.bind(keyAdmin) as never, SuspendKeyRequest.fromPartial({ request: wire }), md), request, wire };
}
const keyState = async (keyId: string): Promise<string | undefined> => (await signerDb.admin<{ state: string }>(`SELECT state FROM signer_key WHERE key_id = $1`, [keyId]))[0]?.state;
const transitions = async (keyId: string): Promise<string[]> =>
  (await signerDb.admin<{ to_state: string }>(`SELECT to_state FROM key_transition WHERE key_id = $1 ORDER BY at`, [keyId])).map((r) => r.to_state);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'admin-audit-gate-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  key('ca');
  ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'],
    ['op-alice', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
  for (const n of ['ca', 'server', 'op-alice']) {
    pem[`${n}.crt`] = readFileSync(join(dir, `${n}.crt`));
    pem[`${n}.key`] = readFileSync(join(dir, `${n}.key`));
  }

  [auditDb, intakeDb, signerDb] = await Promise.all([
    createServiceTestDatabase({ service: 'audit', entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS }),
    createServiceTestDatabase({ service: 'intake', entities: INTAKE_ENTITIES, migrations: INTAKE_MIGRATIONS }),
    createServiceTestDatabase({ service: 'signer', entities: SIGNER_ENTITIES, migrations: SIGNER_MIGRATIONS }),
  ]);
  bus = new InProcessBus();
  audit = await startAudit({
    bus,
    database: { url: auditDb.appUrl, schema: auditDb.schema },
    logger: quietLogger(),
    signer: LocalEd25519Signer.generate('audit-k1'),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    checkpointIntervalMs: 0,
  });
  gate = createOperatorAuditGate({ address: `127.0.0.1:${audit.grpcPort}`, credentials: credentials.createInsecure(), timeoutMs: 5_000 });

  const server = { certChain: pem['server.crt']!, privateKey: pem['server.key']! };
  intake = await startIntake({
    bus,
    database: { url: intakeDb.appUrl, schema: intakeDb.schema },
    logger: quietLogger(),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    admin: {
      host: '127.0.0.1',
      port: 0,
      credentials: { kind: 'tls', ...server, clientCa: pem['ca.crt']!, requireClientCertificate: true },
      operators: [{ operatorId: ALICE.id, keyId: ALICE.keyId, publicKey: ALICE.publicKey, certificateSha256: [certSha256(pem['op-alice.crt']!)] }],
    },
    outboxPollIntervalMs: 50,
    operatorAudit: gate,
  });
  intakeAdmin = new IntakeAdminServiceClient(`127.0.0.1:${intake.adminPort}`, credentials.createSsl(pem['ca.crt'], pem['op-alice.key'], pem['op-alice.crt']));

  signer = await startSigner({
    bus,
    database: { url: signerDb.appUrl, schema: signerDb.schema },
    logger: quietLogger(),
    trustedPolicyKeys,
    operators: signerOperators,
    assets,
    localSealed: { masterKey: new Uint8Array(32).fill(7), kekId: 'kek-audit-gate-it' },
    consumerGroupId: `admin-audit-gate-${rand()}`,
    outboxPollIntervalMs: 50,
    adminGrpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    operatorAudit: gate,
  });
  keyAdmin = new KeyAdminServiceClient(`127.0.0.1:${signer.adminGrpcPort}`, credentials.createInsecure());
}, 180_000);

afterAll(async () => {
  intakeAdmin?.close();
  keyAdmin?.close();
  gate?.close();
  await intake?.stop();
  await signer?.stop();
  await audit?.stop();
  await bus?.close();
  await Promise.all([auditDb?.drop(), intakeDb?.drop(), signerDb?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('C-9.3.6.2-d operator audit trail: intake and signer admin actions are recorded in audit (identity, device key, source IP, time, request id, request digest) before they are applied', () => {
  it('intake RegisterIntegrator → one operator record in audit with every field, then the integrator is stored under the same request id', async () => {
    const clientId = `client-${rand()}`;
    const correlationId = `corr-${rand()}`;
    const call = register(registerRequest(clientId), correlationId);
    await call.result;
    const records = await operatorRecords(clientId);
    expect(records).toHaveLength(1);
    const [record] = records;
    const [action] = await intakeDb.admin<{ id: string; signed_payload: Buffer; signature: Buffer; at: Date }>(`SELECT id, signed_payload, signature, at FROM admin_action WHERE target = $1`, [clientId]);
    expect(record).toMatchObject({ actor: 'op-alice', action: 'intake.integrator.register', correlation_id: correlationId, causation_id: action?.id });
    expect(record?.fields).toEqual({
      operator_id: 'op-alice',
      action: 'intake.integrator.register',
      target: clientId,
      device_id: 'key:op-alice-k1',
      source_ip: '127.0.0.1',
      request_id: action?.id,
      approval_ids: [],
      correlation_id: correlationId,
      occurred_at: action?.at.toISOString(),
      request_digest: digest('custody.intake.v1.admin-request', [call.signedPayload, call.signature]),
    });
    expect(Buffer.from(action?.signed_payload ?? [])).toEqual(Buffer.from(call.signedPayload));
    expect(await intakeCount(`integrator WHERE client_id = $1`, [clientId])).toBe(1);
    expect((await audit?.verify())?.ok).toBe(true);
  });

  it('signer SuspendKey → one operator record in audit with every field (approvers as approval ids), then the key is suspended', async () => {
    const keyId = await activeKey();
    expect((await operatorRecords(keyId)).map((r) => r.action)).toEqual(['signer.key.generate', 'signer.key.activate']);
    const correlationId = `corr-${rand()}`;
    const s = suspend(keyId, correlationId);
    await s.result;
    expect(await keyState(keyId)).toBe('suspended');
    const records = await operatorRecords(keyId);
    expect(records.map((r) => r.action)).toEqual(['signer.key.generate', 'signer.key.activate', 'signer.key.suspend']);
    const record = records[2];
    const approval = s.wire.approvals[0]!;
    expect(record).toMatchObject({ actor: 'carol', correlation_id: correlationId, causation_id: s.request.requestId });
    expect(record?.fields).toMatchObject({
      operator_id: 'carol',
      action: 'signer.key.suspend',
      target: keyId,
      device_id: 'key:carol-k1',
      source_ip: '127.0.0.1',
      request_id: s.request.requestId,
      approval_ids: ['carol'],
      correlation_id: correlationId,
      request_digest: digest('custody.signer.v1.key-admin-request', [
        'SuspendKey',
        s.request.requestId,
        keyId,
        String(s.request.expiresAt),
        'suspected compromise',
        '1',
        'carol',
        'key_custodian',
        'carol-k1',
        approval.signature,
        'suspend',
        '0',
        '0',
      ]),
    });
    expect(typeof record?.fields['occurred_at']).toBe('string');
    expect((await audit?.verify())?.ok).toBe(true);
  });
});

describe('fail closed (ISO/TR 23576 9.3.9.4): if audit cannot record an admin action, it is refused with UNAVAILABLE / AUDIT_UNAVAILABLE and nothing changes', () => {
  it('signer: audit database role lost INSERT → SuspendKey refused, the key stays active, no transition; INSERT restored → the same suspension goes through', async () => {
    const keyId = await activeKey();
    const before = { state: await keyState(keyId), transitions: await transitions(keyId), records: (await operatorRecords(keyId)).length };
    expect(before.state).toBe('active');
    await auditDb.admin(`REVOKE INSERT ON audit_record FROM "${auditDb.appRole}"`);
    try {
      expect(await failure(suspend(keyId, `corr-${rand()}`).result)).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
      expect({ state: await keyState(keyId), transitions: await transitions(keyId), records: (await operatorRecords(keyId)).length }).toEqual(before);
    } finally {
      await auditDb.admin(`GRANT INSERT ON audit_record TO "${auditDb.appRole}"`);
    }
    await suspend(keyId, `corr-${rand()}`).result;
    expect(await keyState(keyId)).toBe('suspended');
    expect((await operatorRecords(keyId)).length).toBe(before.records + 1);
  });

  it('intake: audit server stopped → RegisterIntegrator refused, no integrator row, no admin action, nothing in the outbox', async () => {
    const clientId = `client-${rand()}`;
    const before = { integrators: await intakeCount('integrator'), actions: await intakeCount('admin_action'), outbox: await intakeCount('outbox') };
    await audit?.stop();
    audit = undefined;
    expect(await failure(register(registerRequest(clientId), `corr-${rand()}`).result)).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    expect(await intakeCount(`integrator WHERE client_id = $1`, [clientId])).toBe(0);
    expect({ integrators: await intakeCount('integrator'), actions: await intakeCount('admin_action'), outbox: await intakeCount('outbox') }).toEqual(before);
    expect(await operatorRecords(clientId)).toEqual([]);
  });
});
