// deploy/docker/grpc-health-probe.mjs, the exec probe the chart runs in every container (kubelet's
// own grpc probe cannot do TLS): against the platform's GrpcServer configured the way the chart
// configures it (mTLS, client certificate required, one certificate per pod with server and client
// auth usages), with throw-away certificates made by openssl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcServer } from '@custody/platform';
import { ROOT } from './harness.js';

const PROBE = join(ROOT, 'deploy/docker/grpc-health-probe.mjs');
const dir = mkdtempSync(join(tmpdir(), 'custody-probe-'));
const file = (name: string): string => join(dir, name);

function openssl(args: readonly string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
}

/** A CA and a leaf certificate it signs, like cert-manager issues them for the chart. */
function issue(ca: string, leaf: string, dnsNames: readonly string[]): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=${ca}`, '-days', '1', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
  openssl(['req', ...ec, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${dnsNames[0]}`]);
  writeFileSync(file(`${leaf}.ext`), `subjectAltName=${dnsNames.map((d) => `DNS:${d}`).join(',')}\nextendedKeyUsage=serverAuth,clientAuth\nkeyUsage=critical,digitalSignature\n`);
  openssl(['x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${leaf}.crt`, '-days', '1', '-extfile', `${leaf}.ext`]);
}

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
  issue('ca', 'pod', ['custody-intake', 'custody-intake.custody.svc']);
  issue('rogue-ca', 'rogue', ['custody-intake']);
  server = new GrpcServer({
    host: '127.0.0.1',
    port: 0,
    services: [],
    packageDefinition: {},
    credentials: { kind: 'tls', certChain: readFileSync(file('pod.crt')), privateKey: readFileSync(file('pod.key')), clientCa: readFileSync(file('ca.crt')), requireClientCertificate: true },
  });
  port = await server.start();
});

afterAll(async () => {
  await server.shutdown(1_000);
  rmSync(dir, { recursive: true, force: true });
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
