// mTLS per integrator (client certificate -> integrator, bound to the signing client id)
// and interoperability with a stock gRPC client (grpcurl: reflection, describe, health,
// GetServiceStatus, and a signed SubmitWithdrawal built outside this codebase's client).
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, status } from '@grpc/grpc-js';
import { WithdrawalState, type CustodyGatewayServiceClient, type Withdrawal } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createTestPki, type TestPki } from '@custody/testing';
import { startIntake, type IntakeHandle } from '../../src/index.js';
import { TestClock, call, createTestDatabase, failure, newClient, newSigningKey, quietLogger, rand, signedMetadata, submitBodyOf, type TestDatabase } from './support.js';

const clock = new TestClock();
let pki: TestPki | undefined;
let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let intake: IntakeHandle;
const pem: Record<string, Buffer> = {};
const ACME = newSigningKey('acme');
const OTHER = newSigningKey('other-co');
const GONE = newSigningKey('gone-co');
const clients: CustodyGatewayServiceClient[] = [];

const file = (name: string): string => join(dir, name);
const fingerprint = (certPem: Buffer): string => {
  const der = Buffer.from(certPem.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return createHash('sha256').update(der).digest('hex');
};
function clientFor(cert: string): CustodyGatewayServiceClient {
  const c = newClient(intake.grpcPort, credentials.createSsl(pem['ca.crt'], pem[`${cert}.key`], pem[`${cert}.crt`]));
  clients.push(c);
  return c;
}

let grpcurlBin: string;
const transcript: string[] = [];
// Asynchronous on purpose: the server runs in this process, a synchronous spawn would block it.
function grpcurl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const full = ['-cacert', file('ca.crt'), '-cert', file('acme.crt'), '-key', file('acme.key'), ...args];
  return new Promise((resolve) => {
    execFile(grpcurlBin, full, { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      transcript.push(`$ grpcurl ${full.map((a) => (/[ {]/.test(a) ? `'${a}'` : a)).join(' ').replaceAll(dir, '$CERTS')}\n${stdout}${stderr}`);
      resolve({ code, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  pki = createTestPki({ prefix: 'intake-mtls-', caName: 'intake-test-ca' });
  dir = pki.dir;
  pki.server('server');
  for (const c of ['acme', 'other-co', 'gone-co', 'unregistered']) pki.client(c);
  Object.assign(pem, pki.pemFiles());
  grpcurlBin = execFileSync('bash', ['scripts/infra/grpcurl.sh'], { encoding: 'utf8' }).trim().split('\n').pop() as string;

  db = await createTestDatabase();
  bus = new InProcessBus();
  intake = await startIntake({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    clock,
    grpc: { port: 0, credentials: { kind: 'tls', certChain: pem['server.crt']!, privateKey: pem['server.key']!, clientCa: pem['ca.crt']!, requireClientCertificate: true } },
    perSourceLimit: { ratePerSecond: 10_000, burst: 10_000 },
    consumerGroupId: `intake-mtls-${rand()}`,
  });
  for (const [k, cert] of [[ACME, 'acme'], [OTHER, 'other-co'], [GONE, 'gone-co']] as const) {
    await intake.integrators.register(
      {
        clientId: k.clientId,
        scopes: ['read', 'withdraw'],
        allowedAssets: ['ETH'],
        rateLimit: { ratePerSecond: 1000, burst: 1000 },
        keys: [{ keyId: k.keyId, publicKey: k.publicKey }],
        certificateFingerprints: [fingerprint(pem[`${cert}.crt`]!)],
        customerAccounts: ['acct-1'],
      },
      clock.now(),
    );
  }
  await intake.integrators.revoke(GONE.clientId);
}, 180_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await intake?.stop();
  await bus?.close();
  await db?.drop();
  if (process.env.INTAKE_GRPCURL_TRANSCRIPT) writeFileSync(process.env.INTAKE_GRPCURL_TRANSCRIPT, transcript.join('\n'));
  pki?.cleanup();
});

const listReq = { customerAccount: '', states: [], pageSize: 0, pageToken: '' };
const request = () => ({
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

describe('C-9.3.6.3-e mTLS: the client certificate is the integrator identity', () => {
  it('a registered certificate authenticates read calls without a signature', async () => {
    const c = clientFor('acme');
    const res = (await call(c.listWithdrawals.bind(c) as never, listReq)) as { withdrawals: Withdrawal[] };
    expect(res.withdrawals).toEqual([]);
  });

  it('a CA-signed but unregistered certificate is refused', async () => {
    const c = clientFor('unregistered');
    expect(await failure(call(c.listWithdrawals.bind(c) as never, listReq))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'UNKNOWN_CLIENT_CERTIFICATE' });
  });

  it('the certificate of a revoked integrator is refused', async () => {
    const c = clientFor('gone-co');
    expect(await failure(call(c.listWithdrawals.bind(c) as never, listReq))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CLIENT_REVOKED' });
  });

  it('a mutating call needs the signature of the same integrator as the certificate', async () => {
    const c = clientFor('acme');
    const req = request();
    const ok = (await call(c.submitWithdrawal.bind(c) as never, req, signedMetadata(ACME, 'SubmitWithdrawal', submitBodyOf(req), { timestampMs: clock.now().getTime() }))) as { withdrawal: Withdrawal };
    expect(ok.withdrawal.state).toBe(WithdrawalState.WITHDRAWAL_STATE_REQUESTED);
    // Signed correctly by another registered integrator, sent over acme's certificate.
    const req2 = request();
    const mismatch = await failure(call(c.submitWithdrawal.bind(c) as never, req2, signedMetadata(OTHER, 'SubmitWithdrawal', submitBodyOf(req2), { timestampMs: clock.now().getTime() })));
    expect(mismatch).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'CLIENT_CERTIFICATE_MISMATCH' });
    // A certificate alone does not authorise a withdrawal.
    expect(await failure(call(c.submitWithdrawal.bind(c) as never, request()))).toMatchObject({ code: status.UNAUTHENTICATED, reason: 'SIGNATURE_REQUIRED' });
  });
});

describe('interoperability with a stock client (grpcurl over mTLS)', () => {
  const addr = () => `127.0.0.1:${intake.grpcPort}`;

  it('lists services through reflection', async () => {
    const r = await grpcurl([addr(), 'list']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')).toEqual(expect.arrayContaining(['custody.intake.v1.CustodyGatewayService', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection']));
  });

  // Everything below goes through server reflection only (no -proto / -protoset): grpcurl
  // resolves the request and response types, google.protobuf.Timestamp included, from the
  // descriptors the server serves.
  it('describes a method', async () => {
    const r = await grpcurl([addr(), 'describe', 'custody.intake.v1.CustodyGatewayService.SubmitWithdrawal']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/rpc SubmitWithdrawal \( \.custody\.intake\.v1\.SubmitWithdrawalRequest \) returns \( \.custody\.intake\.v1\.SubmitWithdrawalResponse \)/);
  });

  it('calls the standard health check', async () => {
    const r = await grpcurl(['-d', '{"service":"custody.intake.v1.CustodyGatewayService"}', addr(), 'grpc.health.v1.Health/Check']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ status: 'SERVING' });
  });

  it('calls GetServiceStatus', async () => {
    const r = await grpcurl([addr(), 'custody.intake.v1.CustodyGatewayService/GetServiceStatus']);
    expect(r.code).toBe(0);
    const body = JSON.parse(r.stdout) as { assets: { asset: string; withdrawalsEnabled?: boolean }[] };
    expect(body.assets).toContainEqual(expect.objectContaining({ asset: 'ETH', withdrawalsEnabled: true }));
  });

  it('submits a withdrawal signed outside our client code, and shows the error trailers of a refusal', async () => {
    const req = request();
    const md = signedMetadata(ACME, 'SubmitWithdrawal', submitBodyOf(req), { timestampMs: clock.now().getTime() });
    const headers = ['x-custody-client-id', 'x-custody-key-id', 'x-custody-timestamp', 'x-custody-nonce', 'x-custody-signature'].flatMap((h) => ['-H', `${h}: ${String(md.get(h)[0])}`]);
    const json = JSON.stringify({ idempotency_key: req.idempotencyKey, customer_account: 'acct-1', asset: 'ETH', amount: '1000', destination_address: req.destinationAddress });
    const ok = await grpcurl([...headers, '-d', json, addr(), 'custody.intake.v1.CustodyGatewayService/SubmitWithdrawal']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ withdrawal: { state: 'WITHDRAWAL_STATE_REQUESTED', amount: '1000' } });
    // Replaying the exact same call: refused, with the reason in the trailers.
    const replay = await grpcurl(['-v', ...headers, '-d', json, addr(), 'custody.intake.v1.CustodyGatewayService/SubmitWithdrawal']);
    expect(replay.code).not.toBe(0);
    expect(replay.stdout + replay.stderr).toMatch(/Code: Unauthenticated/);
    expect(replay.stdout + replay.stderr).toMatch(/error-reason: REPLAYED_NONCE/);
  });
});
