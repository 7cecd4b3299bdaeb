// grpcClientTlsEnv / grpcClientSettings / grpcClientCredentials: validation (fail closed) and a
// real mutual-TLS round trip against the platform's GrpcServer on 127.0.0.1 with throw-away
// certificates made by openssl.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Metadata, type ChannelCredentials } from '@grpc/grpc-js';
import { defineConfig } from './config.js';
import { grpcClientCredentials, grpcClientSettings, grpcClientTlsEnv, isLoopbackAddress, type GrpcClientSettings } from './grpc-client-tls.js';
import { GrpcServer } from './grpc-server.js';

const NAMES = {
  address: 'CUSTODY_TEST_PEER_ADDRESS',
  tls: 'CUSTODY_TEST_PEER_TLS',
  caFile: 'CUSTODY_TEST_PEER_TLS_CA_FILE',
  certFile: 'CUSTODY_TEST_PEER_TLS_CERT_FILE',
  keyFile: 'CUSTODY_TEST_PEER_TLS_KEY_FILE',
} as const;
const schema = grpcClientTlsEnv(NAMES);
const load = (env: Record<string, string>): GrpcClientSettings | undefined => grpcClientSettings(defineConfig(schema, env), NAMES);
const loadError = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a config error');
};

const dir = mkdtempSync(join(tmpdir(), 'platform-client-tls-'));
const file = (name: string): string => join(dir, name);
const files = { CUSTODY_TEST_PEER_TLS_CA_FILE: file('ca.crt'), CUSTODY_TEST_PEER_TLS_CERT_FILE: file('client.crt'), CUSTODY_TEST_PEER_TLS_KEY_FILE: file('client.key') };

describe('grpcClientTlsEnv: one client\'s variables, fail closed', () => {
  it('no address: no client (the files are not required)', () => {
    expect(load({})).toBeUndefined();
  });

  it('mtls is the default and needs the CA, certificate and key files, each named when missing', () => {
    const message = loadError({ CUSTODY_TEST_PEER_ADDRESS: 'custody-signer.custody.svc:50051' });
    for (const name of [NAMES.caFile, NAMES.certFile, NAMES.keyFile]) expect(message).toContain(name);
    expect(load({ CUSTODY_TEST_PEER_ADDRESS: 'custody-signer.custody.svc:50051', ...files })).toEqual({ address: 'custody-signer.custody.svc:50051', tls: { caFile: files.CUSTODY_TEST_PEER_TLS_CA_FILE, certFile: files.CUSTODY_TEST_PEER_TLS_CERT_FILE, keyFile: files.CUSTODY_TEST_PEER_TLS_KEY_FILE } });
  });

  it.each([['custody-signer.custody.svc:50051'], ['10.0.0.5:50051'], ['[2001:db8::1]:50051'], ['128.0.0.1:50051']])('refuses plaintext to %s (not loopback)', (address) => {
    const message = loadError({ CUSTODY_TEST_PEER_ADDRESS: address, CUSTODY_TEST_PEER_TLS: 'insecure' });
    expect(message).toContain(NAMES.tls);
    expect(message).toMatch(/loopback/);
  });

  it.each([['127.0.0.1:50051'], ['127.3.4.5:1'], ['localhost:50051'], ['[::1]:50051']])('allows plaintext to loopback %s, when chosen explicitly', (address) => {
    expect(load({ CUSTODY_TEST_PEER_ADDRESS: address, CUSTODY_TEST_PEER_TLS: 'insecure' })).toEqual({ address, tls: undefined });
  });

  it.each([['signer'], ['signer:'], ['signer:70000'], ['http://signer:50051'], ['[zz::1]:1'], ['a b:1']])('refuses the malformed address %s', (address) => {
    expect(loadError({ CUSTODY_TEST_PEER_ADDRESS: address, ...files })).toContain(NAMES.address);
  });

  it('refuses an unknown mode', () => {
    expect(loadError({ CUSTODY_TEST_PEER_ADDRESS: '127.0.0.1:1', CUSTODY_TEST_PEER_TLS: 'tls' })).toContain(NAMES.tls);
  });

  it('isLoopbackAddress', () => {
    expect(['127.0.0.1:1', 'LOCALHOST:1', '[0:0:0:0:0:0:0:1]:1'].map(isLoopbackAddress)).toEqual([true, true, true]);
    expect(['localhost.evil.example:1', '127.0.0.1.nip.io:1', '[::ffff:10.0.0.1]:1', '0.0.0.0:1', '[::]:1'].map(isLoopbackAddress)).toEqual([false, false, false, false, false]);
  });
});

describe('grpcClientCredentials', () => {
  let server: GrpcServer;
  let port: number;

  beforeAll(async () => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    key('ca');
    ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=client-tls-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    const leaf = (name: string, ext: string) => {
      key(name);
      ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      writeFileSync(file(`${name}.ext`), ext);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
    };
    leaf('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    leaf('client', 'extendedKeyUsage=clientAuth\n');
    server = new GrpcServer({
      host: '127.0.0.1',
      port: 0,
      services: [],
      packageDefinition: {},
      credentials: { kind: 'tls', certChain: readFileSync(file('server.crt')), privateKey: readFileSync(file('server.key')), clientCa: readFileSync(file('ca.crt')), requireClientCertificate: true },
    });
    port = await server.start();
  });

  afterAll(async () => {
    await server.shutdown(1_000);
    rmSync(dir, { recursive: true, force: true });
  });

  /** grpc.health.v1.Health/Check of the whole server; resolves the gRPC status code (0 = OK). */
  const healthCheck = (address: string, creds: ChannelCredentials): Promise<number> =>
    new Promise((resolve) => {
      const client = new Client(address, creds);
      client.makeUnaryRequest('/grpc.health.v1.Health/Check', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), new Metadata(), { deadline: Date.now() + 10_000 }, (error) => {
        client.close();
        resolve(error ? error.code : 0);
      });
    });

  it('mutual TLS from the settings reaches an mTLS server (the client certificate is presented)', async () => {
    const settings = load({ CUSTODY_TEST_PEER_ADDRESS: `localhost:${port}`, ...files });
    expect(await healthCheck(settings!.address, grpcClientCredentials(settings!))).toBe(0);
  });

  it('the mTLS server refuses the loopback plaintext the helper allows (the server side still decides)', async () => {
    const settings = load({ CUSTODY_TEST_PEER_ADDRESS: `127.0.0.1:${port}`, CUSTODY_TEST_PEER_TLS: 'insecure' });
    expect(await healthCheck(settings!.address, grpcClientCredentials(settings!))).not.toBe(0);
  });

  it('refuses plaintext to a non-loopback address even from hand-made settings', () => {
    expect(() => grpcClientCredentials({ address: 'custody-signer.custody.svc:50051', tls: undefined })).toThrow(/refusing plaintext/);
  });

  it('an unreadable file fails with its role and error code, never file contents', () => {
    const run = () => grpcClientCredentials({ address: 'localhost:1', tls: { caFile: file('ca.crt'), certFile: file('client.crt'), keyFile: file('absent.key') } });
    expect(run).toThrow(/cannot read the key file .*absent\.key \(ENOENT\)/);
    expect(run).not.toThrow(/BEGIN/);
  });

  it('a file that is not PEM fails at load (not at the first call), without its contents', () => {
    writeFileSync(file('junk.key'), 'not-a-key-SECRETVALUE');
    const run = () => grpcClientCredentials({ address: 'localhost:1', tls: { caFile: file('ca.crt'), certFile: file('client.crt'), keyFile: file('junk.key') } });
    expect(run).toThrow(/not usable PEM credentials/);
    expect(run).not.toThrow(/SECRETVALUE/);
  });
});
