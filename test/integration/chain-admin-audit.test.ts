// Cross-service: chain-adapter's ChainAdminService (ResumeChain, CancelWithdrawal) records each
// operator action in the REAL audit service (its own PostgreSQL database, gRPC
// AuditService/RecordOperatorAction through the platform's createOperatorAuditGate) AFTER the
// call authenticated and validated and BEFORE anything changes; with audit stopped the action is
// refused (UNAVAILABLE, AUDIT_UNAVAILABLE) and the breaker stays tripped. Real anvil and
// PostgreSQL; the in-process bus (the events are not what is tested here). Lives at the root
// because services never import each other (scripts/workspace/boundaries.spec.ts).
import { execFileSync } from 'node:child_process';
import { createHash, generateKeyPairSync, randomUUID, sign as edSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { ChainAdminServiceClient, ChainBreakerState } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createOperatorAuditGate, errorReason } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, rand, type TestDatabase } from '@custody/testing';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, LocalEd25519Signer, startAudit, type AuditHandle } from '@custody/audit';
import { AdminHeaders, adminSigningDigest, startChainAdapter, type ChainAdapterHandle } from '@custody/chain-adapter';
import { tripBreaker } from '../../services/chain-adapter/src/application/breaker.js';
import { createTestDatabase as createChainTestDatabase, quietLogger, startAnvil, type Anvil } from '../../services/chain-adapter/test/integration/support.js';

const CHAIN = 'anvil';
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

let dir: string;
let anvil: Anvil;
let auditDb: TestDatabase;
let chainDb: TestDatabase;
let audit: AuditHandle | undefined;
let bus: InProcessBus;
let gate: ReturnType<typeof createOperatorAuditGate>;
let adapter: ChainAdapterHandle;
let client: ChainAdminServiceClient;
let aliceCertSha256: string;
const alice = generateKeyPairSync('ed25519');

interface OperatorRow {
  actor: string;
  action: string;
  correlation_id: string;
  payload: Buffer;
}
const operatorRecords = async (target: string): Promise<(OperatorRow & { fields: Record<string, unknown> })[]> =>
  (
    await auditDb.admin<OperatorRow>(`SELECT actor, action, correlation_id, payload FROM audit_record WHERE kind = 'operator' AND convert_from(payload, 'UTF8') LIKE $1 ORDER BY sequence`, [`%"target":"${target}"%`])
  ).map((r) => ({ ...r, fields: JSON.parse(r.payload.toString('utf8')) as Record<string, unknown> }));
const breakerState = async (): Promise<string | undefined> => (await chainDb.admin<{ state: string }>(`SELECT "state" FROM "chain_breaker" WHERE "chain" = $1`, [CHAIN]))[0]?.state;
const adminRows = async (nonce: string): Promise<unknown[]> => chainDb.admin(`SELECT 1 FROM "chain_admin_action" WHERE "nonce" = $1`, [nonce]);
const resumedEvents = async (): Promise<number> => Number((await chainDb.admin<{ n: string }>(`SELECT count(*)::text AS n FROM "chain_incident" WHERE "kind" = 'CHAIN_RESUMED'`))[0]?.n);

async function trip(): Promise<void> {
  await adapter.store.transaction((scope) => tripBreaker(scope, { chain: CHAIN, asset: 'ETH', kind: 'REORG_BEYOND_FINALITY', detail: 'test: reorg past finality', depthFactor: 2, now: new Date() }));
  expect(await breakerState()).toBe('TRIPPED');
}

/** One call signed by alice (pinned certificate + Ed25519 over method and body). */
function adminCall<Res>(method: 'ResumeChain' | 'CancelWithdrawal', request: object, body: [string, string][], correlationId: string): { result: Promise<Res>; nonce: string; signature: Buffer } {
  const ts = String(Date.now());
  const nonce = randomUUID().replace(/-/g, '');
  const path = `/custody.chain.v1.ChainAdminService/${method}`;
  const signature = edSign(null, adminSigningDigest(path, 'alice', ts, nonce, body), alice.privateKey);
  const md = new Metadata();
  md.set(AdminHeaders.operator, 'alice');
  md.set(AdminHeaders.timestamp, ts);
  md.set(AdminHeaders.nonce, nonce);
  md.set(AdminHeaders.signature, signature.toString('base64'));
  md.set('x-correlation-id', correlationId);
  const fn = (method === 'ResumeChain' ? client.resumeChain : client.cancelWithdrawal).bind(client) as unknown as (r: object, m: Metadata, cb: (e: ServiceError | null, r: Res) => void) => void;
  return { result: new Promise((resolve, reject) => fn(request, md, (err, res) => (err ? reject(err) : resolve(res)))), nonce, signature };
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

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'chain-admin-audit-'));
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
  const pem = (n: string) => readFileSync(join(dir, n));
  aliceCertSha256 = createHash('sha256').update(Buffer.from(pem('op-alice.crt').toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')).digest('hex');

  anvil = await startAnvil();
  [auditDb, chainDb] = await Promise.all([createServiceTestDatabase({ service: 'audit', entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS }), createChainTestDatabase()]);
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
  adapter = await startChainAdapter({
    bus,
    database: { url: chainDb.appUrl, schema: chainDb.schema },
    logger: quietLogger(),
    rpcUrl: anvil.url,
    profile: {
      asset: 'ETH',
      chain: CHAIN,
      chainId: anvil.chainId,
      genesisHash: anvil.genesisHash,
      confirmations: 3,
      depthTiers: [],
      gasLimit: 21_000n,
      fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n },
    },
    consumerGroupId: `chain-admin-audit-${rand()}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 0,
    adminOperators: [{ operatorId: 'alice', publicKey: new Uint8Array(alice.publicKey.export({ format: 'der', type: 'spki' }).subarray(12)), certificateSha256: [aliceCertSha256] }],
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'tls', certChain: pem('server.crt'), privateKey: pem('server.key'), clientCa: pem('ca.crt'), requireClientCertificate: true } },
    operatorAudit: gate,
  });
  client = new ChainAdminServiceClient(`127.0.0.1:${adapter.grpcPort}`, credentials.createSsl(pem('ca.crt'), pem('op-alice.key'), pem('op-alice.crt')));
}, 180_000);

afterAll(async () => {
  client?.close();
  gate?.close();
  await adapter?.stop();
  await audit?.stop();
  await bus?.close();
  await Promise.all([auditDb?.drop(), chainDb?.drop()]);
  await anvil?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('C-9.3.6.2-d operator audit trail: chain-adapter ResumeChain is recorded in audit (identity, device, source IP, time, request id, request digest) before it is applied', () => {
  it('breaker tripped → ResumeChain → one operator record in the real audit with every field, then the breaker is CLEAR', async () => {
    await trip();
    const reason = 'reorg explained by the node operators';
    const correlationId = `corr-${rand()}`;
    const call = adminCall<{ breaker: { state: number; resumedBy: string } }>('ResumeChain', { chain: CHAIN, reason }, [['chain', CHAIN], ['reason', reason]], correlationId);
    expect((await call.result).breaker).toMatchObject({ state: ChainBreakerState.BREAKER_STATE_CLEAR, resumedBy: 'alice' });
    expect(await breakerState()).toBe('CLEAR');
    const records = await operatorRecords(CHAIN);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ actor: 'alice', action: 'chain.breaker.resume', correlation_id: correlationId });
    expect(records[0]?.fields).toMatchObject({
      operator_id: 'alice',
      action: 'chain.breaker.resume',
      target: CHAIN,
      device_id: `cert:${aliceCertSha256}`,
      source_ip: '127.0.0.1',
      request_id: call.nonce,
      approval_ids: [],
      correlation_id: correlationId,
      request_digest: digest('custody.chain.v1.admin-audit', ['ResumeChain', 'alice', CHAIN, reason, call.nonce, call.signature]),
    });
    expect(typeof records[0]?.fields['occurred_at']).toBe('string');
    expect(await adminRows(call.nonce)).toHaveLength(1);
    expect((await audit?.verify())?.ok).toBe(true);
  });
});

describe('fail closed (ISO/TR 23576 9.3.9.4): with audit stopped, chain admin changes are refused with UNAVAILABLE / AUDIT_UNAVAILABLE and nothing changes', () => {
  it('audit server stopped → ResumeChain refused, the breaker stays TRIPPED, no admin row, no CHAIN_RESUMED; CancelWithdrawal refused before it is looked up', async () => {
    await trip();
    const before = { records: (await operatorRecords(CHAIN)).length, resumed: await resumedEvents() };
    await audit?.stop();
    audit = undefined;
    const reason = 'reorg explained by the node operators';
    const call = adminCall('ResumeChain', { chain: CHAIN, reason }, [['chain', CHAIN], ['reason', reason]], `corr-${rand()}`);
    expect(await failure(call.result)).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    expect(await breakerState()).toBe('TRIPPED');
    expect(await adminRows(call.nonce)).toEqual([]);
    expect({ records: (await operatorRecords(CHAIN)).length, resumed: await resumedEvents() }).toEqual(before);
    // Validation still comes first (nothing to audit), then audit: an unknown withdrawal is refused AUDIT_UNAVAILABLE, not NOT_FOUND.
    expect(await failure(adminCall('ResumeChain', { chain: CHAIN, reason: '' }, [['chain', CHAIN], ['reason', '']], `corr-${rand()}`).result)).toEqual({ code: status.INVALID_ARGUMENT, reason: 'REASON_REQUIRED' });
    const cancel = adminCall('CancelWithdrawal', { withdrawalId: 'w-unknown', reason: 'customer asked' }, [['withdrawal_id', 'w-unknown'], ['reason', 'customer asked']], `corr-${rand()}`);
    expect(await failure(cancel.result)).toEqual({ code: status.UNAVAILABLE, reason: 'AUDIT_UNAVAILABLE' });
    expect(await adminRows(cancel.nonce)).toEqual([]);
  });
});
