// The signer's main gRPC port serves grpc.health.v1 only, over mTLS, configured exactly as the
// chart configures it (CUSTODY_GRPC_HOST/PORT + the platform's CUSTODY_GRPC_TLS*, read by
// config.ts), and the chart's exec probe (deploy/docker/grpc-health-probe.mjs) run as a real
// process: SERVING once the signer is up on the real PostgreSQL and Kafka, refused without the
// pod's certificate, failing after stop and for a signer whose key custody did not open.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { DepositAddressServiceClient, DeriveDepositAddressRequest } from '@custody/contracts';
import { KafkaBus, createKafkaClient } from '@custody/event-bus';
import { createTestPki, type TestCertificateRequest, type TestPki } from '@custody/testing';
import { loadSignerConfig, type SignerConfig } from '../../src/config.js';
import { prefixedTopics, startSigner, type SignerHandle } from '../../src/index.js';
import { createPrefixedTopics, createTestDatabase, deletePrefixedTopics, pkcs11Options, quietLogger, rand, requireEnv, type TestDatabase } from './support.js';

const PROBE = join(process.cwd(), 'deploy/docker/grpc-health-probe.mjs');
const prefix = `it-health-${rand()}.`;
let pki: TestPki | undefined;
let dir: string;
let db: TestDatabase;
let bus: KafkaBus;
let config: SignerConfig;
let signer: SignerHandle | undefined;
let healthPort: number;
const file = (name: string): string => join(dir, name);

function probe(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr });
    });
  });
}

/** What the chart gives the signer's container (its own certificate Secret, server name custody-signer). */
const podEnv = (port: number): Record<string, string> => ({
  CUSTODY_GRPC_HOST: '127.0.0.1',
  CUSTODY_GRPC_PORT: String(port),
  CUSTODY_GRPC_TLS: 'mtls',
  CUSTODY_GRPC_TLS_CERT_FILE: file('pod.crt'),
  CUSTODY_GRPC_TLS_KEY_FILE: file('pod.key'),
  CUSTODY_GRPC_TLS_CLIENT_CA_FILE: file('ca.crt'),
  CUSTODY_GRPC_TLS_SERVER_NAME: 'custody-signer',
  CUSTODY_GRPC_PROBE_TIMEOUT: '5000',
});

function signerEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    CUSTODY_DB_URL: db.appUrl,
    KAFKA_BROKERS: requireEnv('KAFKA_BROKERS'),
    CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: `policy-1=${'ef'.repeat(32)}`,
    CUSTODY_SIGNER_OPERATORS_FILE: file('operators.json'),
    CUSTODY_SIGNER_ASSETS_FILE: file('assets.json'),
    CUSTODY_SIGNER_MASTER_KEY: 'cd'.repeat(32),
    CUSTODY_GRPC_HOST: '127.0.0.1',
    CUSTODY_GRPC_TLS: 'mtls',
    CUSTODY_GRPC_TLS_CERT_FILE: file('pod.crt'),
    CUSTODY_GRPC_TLS_KEY_FILE: file('pod.key'),
    CUSTODY_GRPC_TLS_CLIENT_CA_FILE: file('ca.crt'),
    ...extra,
  };
}

const start = (c: SignerConfig, pkcs11?: { modulePath: string; tokenLabel: string; pin: string }): Promise<SignerHandle> =>
  startSigner({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    trustedPolicyKeys: c.trustedPolicyKeys,
    operators: c.operators,
    assets: c.assets,
    ...(c.localSealed ? { localSealed: c.localSealed } : {}),
    ...(pkcs11 ? { pkcs11 } : {}),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `${prefix}signer.tx-prepared`,
    healthGrpc: c.healthGrpc,
  });

/** A port nothing listens on right now (bound and released). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      s.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

beforeAll(async () => {
  pki = createTestPki({ prefix: 'signer-health-', caName: 'ca' });
  dir = pki.dir;
  // like cert-manager issues it for the chart: one certificate, server and client auth
  const podCert: TestCertificateRequest = { cn: 'custody-signer', dns: ['custody-signer', 'custody-signer.custody.svc'], uri: ['spiffe://cluster.local/ns/custody/sa/custody-signer'], extendedKeyUsage: ['serverAuth', 'clientAuth'], keyUsage: 'critical,digitalSignature' };
  pki.issue('pod', podCert);
  pki.root('rogue-ca').issue('rogue', podCert);
  writeFileSync(file('operators.json'), JSON.stringify([{ operatorId: 'carol', roles: ['key_custodian'], keys: { k1: 'ab'.repeat(32) } }]));
  writeFileSync(file('assets.json'), JSON.stringify([{ asset: 'ETH', chain: 'ethereum-sepolia', kind: 'evm', chainId: '11155111', maxFee: '10000000000000000', tierCaps: { hot: '1', warm: '2', cold: '3' } }]));

  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `signer-health-${rand()}`, logLevel: 'nothing' }) });
  config = loadSignerConfig(signerEnv({ CUSTODY_GRPC_PORT: '0' }));
  signer = await start(config);
  if (signer.healthGrpcPort === undefined) throw new Error('health server not started');
  healthPort = signer.healthGrpcPort;
}, 120_000);

afterAll(async () => {
  await signer?.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  pki?.cleanup();
});

describe('signer gRPC health on its main port (CUSTODY_GRPC_PORT) over mTLS, for the chart exec probe', () => {
  it('config: the health server is always configured, from the platform TLS settings (client certificates required)', () => {
    expect(config.healthGrpc).toMatchObject({ host: '127.0.0.1', port: 0, credentials: { kind: 'tls', requireClientCertificate: true } });
    expect(config.grpc).toBeUndefined(); // no DepositAddressService port was asked for
    expect(config.adminGrpc).toBeUndefined();
  });

  it('the probe exits 0 with the pod\'s own certificate against the running signer (real PostgreSQL and Kafka)', async () => {
    expect(await probe(podEnv(healthPort))).toEqual({ code: 0, stderr: '' });
  });

  it('a plaintext client and a certificate of another CA are refused', async () => {
    const plain = await probe({ ...podEnv(healthPort), CUSTODY_GRPC_TLS: 'insecure' });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toMatch(/UNAVAILABLE/);
    const rogue = await probe({ ...podEnv(healthPort), CUSTODY_GRPC_TLS_CERT_FILE: file('rogue.crt'), CUSTODY_GRPC_TLS_KEY_FILE: file('rogue.key') });
    expect(rogue.code).toBe(1);
    expect(rogue.stderr).toMatch(/UNAVAILABLE/);
  });

  it('the port serves health only: DepositAddressService is not there, even to a CA-valid caller', async () => {
    const client = new DepositAddressServiceClient(`127.0.0.1:${healthPort}`, credentials.createSsl(readFileSync(file('ca.crt')), readFileSync(file('pod.key')), readFileSync(file('pod.crt'))), {
      'grpc.ssl_target_name_override': 'custody-signer',
      'grpc.default_authority': 'custody-signer',
    });
    const err = await new Promise<ServiceError | null>((resolve) => {
      client.deriveDepositAddress(DeriveDepositAddressRequest.fromPartial({ customerAccount: 'c/1', asset: 'ETH' }), new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (e) => resolve(e));
    }).finally(() => client.close());
    expect(err?.code).toBe(status.UNIMPLEMENTED);
  });

  it('a signer whose key custody does not open never serves health: the probe fails on its port', async () => {
    const port = await freePort();
    const c = loadSignerConfig(signerEnv({ CUSTODY_GRPC_PORT: String(port) }));
    // a token that does not exist (no PIN is tried on the shared SoftHSM token)
    await expect(start(c, { ...pkcs11Options(), tokenLabel: `no-such-token-${rand()}` })).rejects.toThrow();
    const r = await probe({ ...podEnv(port), CUSTODY_GRPC_PROBE_TIMEOUT: '3000' });
    expect(r.code).toBe(1);
  });

  it('after stop the probe fails (non-zero exit)', async () => {
    expect((await probe(podEnv(healthPort))).code).toBe(0);
    await signer?.stop();
    signer = undefined;
    const r = await probe({ ...podEnv(healthPort), CUSTODY_GRPC_PROBE_TIMEOUT: '3000' });
    expect(r.code).toBe(1);
  });
});
