// Caller identity on a real service: the ledger (its public entry, real PostgreSQL) serving gRPC
// with mTLS on 127.0.0.1, configured by its own config loader with the allow-list the chart
// renders for it, reduced to policy's workload identity. Certificates come from ONE CA (openssl):
// policy's is served; risk's (same CA, valid) gets PERMISSION_DENIED CALLER_NOT_ALLOWED, as does
// a certificate whose CN says custody-policy but whose URI SAN is risk's; health still answers
// risk (the probes use the pod's own certificate); plaintext and another CA's certificate never
// get past TLS. Lives at the root: it checks the platform, a service and the chart's contract.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Client, Metadata, credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { LedgerServiceClient, type GetBalancesResponse } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createLogger, errorReason } from '@custody/platform';
import { createTestDatabase, type TestDatabase } from '@custody/testing';
import { LEDGER_ENTITIES, LEDGER_MIGRATIONS, customerAccount, startLedger, type LedgerHandle } from '@custody/ledger';
import { loadLedgerConfig } from '../../services/ledger/src/config.js';

const POLICY = 'spiffe://cluster.local/ns/custody/sa/custody-policy';
const RISK = 'spiffe://cluster.local/ns/custody/sa/custody-risk';

let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let ledger: LedgerHandle;
const clients: Client[] = [];
const pem = (name: string): Buffer => readFileSync(join(dir, name));

function tlsAs(who: string, ca = 'ca'): ChannelCredentials {
  return credentials.createSsl(pem(`${ca}.crt`), pem(`${who}.key`), pem(`${who}.crt`));
}

/** GetBalances; resolves the gRPC code and reason (OK = 0). */
function getBalances(creds: ChannelCredentials): Promise<{ code: number; reason: string | undefined; balances?: GetBalancesResponse['balances'] }> {
  const client = new LedgerServiceClient(`localhost:${ledger.grpcPort}`, creds);
  clients.push(client);
  return new Promise((resolve) => {
    client.getBalances({ account: customerAccount('acme', 'dave'), assets: [] }, new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (err: ServiceError | null, res?: GetBalancesResponse) =>
      resolve(err ? { code: err.code, reason: errorReason(err.metadata) } : { code: status.OK, reason: undefined, balances: res?.balances ?? [] }),
    );
  });
}

/** grpc.health.v1.Health/Check of the whole server; resolves the code and the raw response. */
function healthCheck(creds: ChannelCredentials): Promise<{ code: number; serving: boolean }> {
  const client = new Client(`localhost:${ledger.grpcPort}`, creds);
  clients.push(client);
  return new Promise((resolve) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), new Metadata(), { deadline: Date.now() + 10_000 }, (err, res) =>
      // HealthCheckResponse { status = 1 (SERVING) } is the two bytes 08 01
      resolve(err ? { code: err.code, serving: false } : { code: status.OK, serving: Buffer.compare(res ?? Buffer.alloc(0), Buffer.from([0x08, 0x01])) === 0 }),
    );
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'grpc-callers-'));
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  const ca = (name: string) => {
    key(name);
    ssl('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
  };
  const leaf = (name: string, cn: string, ext: string, by = 'ca') => {
    key(name);
    ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    writeFileSync(join(dir, `${name}.ext`), ext);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${by}.crt`, '-CAkey', `${by}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  };
  ca('ca');
  ca('other-ca');
  // As cert-manager issues them in the chart: DNS names + the ServiceAccount's SPIFFE URI, server and client auth.
  const usages = 'extendedKeyUsage=serverAuth,clientAuth\n';
  leaf('ledger', 'custody-ledger', `subjectAltName=DNS:localhost,IP:127.0.0.1,URI:spiffe://cluster.local/ns/custody/sa/custody-ledger\n${usages}`);
  leaf('policy', 'custody-policy', `subjectAltName=DNS:custody-policy.custody.svc,URI:${POLICY}\n${usages}`);
  leaf('risk', 'custody-risk', `subjectAltName=DNS:custody-risk.custody.svc,URI:${RISK}\n${usages}`);
  leaf('risk-as-policy-cn', 'custody-policy', `subjectAltName=URI:${RISK}\n${usages}`);
  leaf('policy-other-ca', 'custody-policy', `subjectAltName=URI:${POLICY}\n${usages}`, 'other-ca');

  db = await createTestDatabase({ service: 'ledger', entities: LEDGER_ENTITIES, migrations: LEDGER_MIGRATIONS });
  bus = new InProcessBus();
  // The service's own config loader, with the variables the chart renders (allow-list reduced to policy).
  const config = loadLedgerConfig({
    CUSTODY_DB_URL: db.appUrl,
    KAFKA_BROKERS: '127.0.0.1:9092',
    CUSTODY_GRPC_HOST: '127.0.0.1',
    CUSTODY_GRPC_PORT: '0',
    CUSTODY_GRPC_TLS: 'mtls',
    CUSTODY_GRPC_TLS_CERT_FILE: join(dir, 'ledger.crt'),
    CUSTODY_GRPC_TLS_KEY_FILE: join(dir, 'ledger.key'),
    CUSTODY_GRPC_TLS_CLIENT_CA_FILE: join(dir, 'ca.crt'),
    CUSTODY_GRPC_ALLOWED_CALLERS: `uri:${POLICY}`,
  });
  expect(config.grpc.allowedCallers).toEqual([{ kind: 'uri', value: POLICY }]);
  ledger = await startLedger({ bus, database: { url: db.appUrl, schema: db.schema }, logger: createLogger({ service: 'ledger-test', level: 'silent' }), grpc: config.grpc });
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await ledger?.stop();
  await bus?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('C-9.3.10.2-b mutually authenticated service traffic: a plaintext or wrong-identity client is rejected by the ledger', () => {
  it("policy's certificate (on the allow-list) is served", async () => {
    expect(await getBalances(tlsAs('policy'))).toEqual({ code: status.OK, reason: undefined, balances: [] });
  });

  it("risk's certificate from the SAME CA is PERMISSION_DENIED with reason CALLER_NOT_ALLOWED", async () => {
    expect(await getBalances(tlsAs('risk'))).toEqual({ code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' });
  });

  it("a certificate whose CN claims custody-policy but whose URI SAN is risk's is refused too (the identity is the URI SAN)", async () => {
    expect(await getBalances(tlsAs('risk-as-policy-cn'))).toEqual({ code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' });
  });

  it("health still answers SERVING for risk's certificate (probes use the pod's own certificate)", async () => {
    expect(await healthCheck(tlsAs('risk'))).toEqual({ code: status.OK, serving: true });
    expect(await healthCheck(tlsAs('ledger'))).toEqual({ code: status.OK, serving: true });
  });

  it("plaintext and a certificate of another CA (policy's names) never get a response", async () => {
    const plaintext = await getBalances(credentials.createInsecure());
    expect(plaintext.code).toBe(status.UNAVAILABLE);
    const otherCa = await getBalances(tlsAs('policy-other-ca'));
    expect(otherCa.code).toBe(status.UNAVAILABLE);
    expect(await healthCheck(credentials.createInsecure())).toEqual({ code: status.UNAVAILABLE, serving: false });
  });
});
