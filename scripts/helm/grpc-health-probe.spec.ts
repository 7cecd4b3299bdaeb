// deploy/docker/grpc-health-probe.mjs, the exec probe the chart runs in every container (kubelet's
// own grpc probe cannot do TLS): against the platform's GrpcServer configured the way the chart
// configures it (mTLS, client certificate required, one certificate per pod with server and client
// auth usages), with throw-away certificates made by openssl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { GrpcServer } from '@custody/platform';
import { createTestPki, type TestCertificateRequest, type TestPki } from '@custody/testing';
import { ROOT } from './harness.js';

const PROBE = join(ROOT, 'deploy/docker/grpc-health-probe.mjs');
let pki: TestPki | undefined;
const file = (name: string): string => {
  if (!pki) throw new Error('the test PKI is made in beforeAll');
  return pki.path(name);
};

/** A leaf certificate like cert-manager issues them for the chart: server and client auth. */
const podCertificate = (dnsNames: readonly string[]): TestCertificateRequest => ({ cn: dnsNames[0], dns: dnsNames, extendedKeyUsage: ['serverAuth', 'clientAuth'], keyUsage: 'critical,digitalSignature' });

interface ProbeResult {
  readonly code: number | null;
  readonly stderr: string;
}

function probe(env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PROBE], { env: { PATH: process.env.PATH ?? '', ...env }, timeout: 20_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stderr });
    });
  });
}

let server: GrpcServer;
let port: number;
/** The environment the chart gives a pod (paths of its mounted certificate Secret). */
const podEnv = (): Record<string, string> => ({
  CUSTODY_GRPC_HOST: '127.0.0.1',
  CUSTODY_GRPC_PORT: String(port),
  CUSTODY_GRPC_TLS: 'mtls',
  CUSTODY_GRPC_TLS_CERT_FILE: file('pod.crt'),
  CUSTODY_GRPC_TLS_KEY_FILE: file('pod.key'),
  CUSTODY_GRPC_TLS_CLIENT_CA_FILE: file('ca.crt'),
  CUSTODY_GRPC_TLS_SERVER_NAME: 'custody-intake',
  CUSTODY_GRPC_PROBE_TIMEOUT: '5000',
});

beforeAll(async () => {
  pki = createTestPki({ prefix: 'custody-probe-', caName: 'ca' });
  const pod = pki.issue('pod', podCertificate(['custody-intake', 'custody-intake.custody.svc']));
  pki.root('rogue-ca').issue('rogue', podCertificate(['custody-intake']));
  server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [],
    packageDefinition: {},
    credentials: { kind: 'tls', certChain: Buffer.from(pod.cert), privateKey: Buffer.from(pod.key), clientCa: Buffer.from(pki.ca.cert), requireClientCertificate: true },
  });
  port = await server.start();
});

afterAll(async () => {
  await server.shutdown(1_000);
  pki?.cleanup();
});

describe('gRPC health exec probe over mutual TLS (deploy/docker/grpc-health-probe.mjs)', () => {
  it('passes with the pod\'s own certificate against a SERVING server', async () => {
    expect(await probe(podEnv())).toEqual({ code: 0, stderr: '' });
  });

  it('fails when the server is up but NOT_SERVING (readiness drops while draining)', async () => {
    server.setServingStatus('', 'NOT_SERVING');
    try {
      const r = await probe(podEnv());
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/status NOT_SERVING/);
    } finally {
      server.setServingStatus('', 'SERVING');
    }
    expect((await probe(podEnv())).code).toBe(0);
  });

  it('a plaintext client is refused by the mTLS server', async () => {
    const r = await probe({ ...podEnv(), CUSTODY_GRPC_TLS: 'insecure' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UNAVAILABLE/);
  });

  it('a client certificate from another CA is refused by the server', async () => {
    const r = await probe({ ...podEnv(), CUSTODY_GRPC_TLS_CERT_FILE: file('rogue.crt'), CUSTODY_GRPC_TLS_KEY_FILE: file('rogue.key') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UNAVAILABLE/);
  });

  it('the probe checks the server\'s identity: a name not in its certificate fails', async () => {
    const r = await probe({ ...podEnv(), CUSTODY_GRPC_TLS_SERVER_NAME: 'custody-ledger' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/UNAVAILABLE/);
  });

  it('fails closed on missing settings and never prints key material', async () => {
    const { CUSTODY_GRPC_TLS_KEY_FILE: _omitted, ...noKey } = podEnv();
    const missing = await probe(noKey);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/mtls needs CUSTODY_GRPC_TLS_KEY_FILE/);
    const unreadable = await probe({ ...podEnv(), CUSTODY_GRPC_TLS_KEY_FILE: file('absent.key') });
    expect(unreadable.code).toBe(1);
    expect(unreadable.stderr).toMatch(/cannot read a TLS file \(ENOENT\)/);
    expect(unreadable.stderr).not.toMatch(/PRIVATE KEY|absent\.key/);
  });

  it('fails when nothing listens', async () => {
    const r = await probe({ ...podEnv(), CUSTODY_GRPC_PORT: '1', CUSTODY_GRPC_PROBE_TIMEOUT: '2000' });
    expect(r.code).toBe(1);
  });
});
