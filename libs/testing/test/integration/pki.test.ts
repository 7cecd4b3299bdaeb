// createTestPki: the chain openssl issues verifies with node:crypto, carries the SAN and EKU asked
// for, and works for a real mutual-TLS handshake (node:tls), including through an intermediate.
import { afterAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { createTestPki, type TestCertificate } from '../../src/index.js';

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY_MS = 24 * 3_600_000;

const x509 = (c: TestCertificate): X509Certificate => new X509Certificate(c.cert);
const pemCount = (pem: string): number => pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0;

/** One mutual-TLS handshake on 127.0.0.1: what each side concluded about the other. */
async function handshake(server: { chain: string; key: string; trusts: string }, client: { chain: string; key: string; trusts: string; servername: string }): Promise<{ serverSaw: boolean; clientSaw: boolean; clientError?: string }> {
  let serverSaw = false;
  const srv = createServer({ cert: server.chain, key: server.key, ca: server.trusts, requestCert: true, rejectUnauthorized: false }, (socket: TLSSocket) => {
    serverSaw = socket.authorized;
    socket.end();
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as AddressInfo;
  try {
    return await new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port, servername: client.servername, cert: client.chain, key: client.key, ca: client.trusts, rejectUnauthorized: false }, () => {
        const clientSaw = socket.authorized;
        const clientError = socket.authorizationError?.toString();
        socket.on('end', () => resolve({ serverSaw, clientSaw, ...(clientError ? { clientError } : {}) }));
        socket.on('close', () => resolve({ serverSaw, clientSaw, ...(clientError ? { clientError } : {}) }));
        socket.resume();
      });
      socket.on('error', (e) => resolve({ serverSaw, clientSaw: false, clientError: e.message }));
    });
  } finally {
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

describe('createTestPki (@custody/testing): a throw-away PKI made by the openssl CLI', () => {
  const pki = createTestPki({ caName: 'pki-test-ca' });
  afterAll(() => pki.cleanup());

  it('the root: self-signed CA (basicConstraints CA:TRUE), CN from caName, P-256 key matching the certificate, one day', () => {
    const ca = x509(pki.ca);
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=pki-test-ca');
    expect(ca.checkIssued(ca)).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(createPrivateKey(pki.ca.key).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(createPublicKey(pki.ca.key).export({ type: 'spki', format: 'pem' })).toBe(ca.publicKey.export({ type: 'spki', format: 'pem' }));
    expect(Date.parse(ca.validTo) - Date.parse(ca.validFrom)).toBe(DAY_MS);
    expect(pki.ca.certPath).toBe(join(pki.dir, 'ca.crt'));
    expect(readFileSync(pki.ca.certPath, 'utf8')).toBe(pki.ca.cert);
    expect(readFileSync(pki.ca.keyPath, 'utf8')).toBe(pki.ca.key);
  });

  it('server(): issued by the root, serverAuth only, SAN IP:127.0.0.1 and DNS:localhost by default; files hold the PEMs', () => {
    const server = pki.server('server');
    const cert = x509(server);
    const ca = x509(pki.ca);
    expect(cert.ca).toBe(false);
    expect(cert.subject).toBe('CN=server');
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.keyUsage).toEqual([SERVER_AUTH]);
    expect(cert.subjectAltName?.split(', ').sort()).toEqual(['DNS:localhost', 'IP Address:127.0.0.1']);
    expect(cert.checkHost('localhost')).toBe('localhost');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(createPrivateKey(server.key).asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(Date.parse(cert.validTo) - Date.parse(cert.validFrom)).toBe(DAY_MS);
    expect(readFileSync(server.certPath, 'utf8')).toBe(server.cert);
    expect(readFileSync(server.keyPath, 'utf8')).toBe(server.key);
    expect(server.chain).toBe(server.cert); // issued by the root: nothing in between
  });

  it('client(): clientAuth only, no SAN unless asked; cn and SAN fields as requested', () => {
    const plain = x509(pki.client('plain-client'));
    expect(plain.keyUsage).toEqual([CLIENT_AUTH]);
    expect(plain.subjectAltName).toBeUndefined();
    const named = x509(pki.client('intake', { cn: 'custody-intake', dns: ['intake.custody.svc'], uri: ['spiffe://custody/ns/custody/sa/intake'] }));
    expect(named.subject).toBe('CN=custody-intake');
    expect(named.keyUsage).toEqual([CLIENT_AUTH]);
    expect(named.subjectAltName?.split(', ').sort()).toEqual(['DNS:intake.custody.svc', 'URI:spiffe://custody/ns/custody/sa/intake']);
    expect(named.checkIssued(x509(pki.ca))).toBe(true);
  });

  it('issue(): exactly the request (server and client auth in one certificate, keyUsage), as the chart gets it from cert-manager', () => {
    const pod = pki.issue('pod', { cn: 'custody-signer', dns: ['custody-signer', 'custody-signer.custody.svc'], extendedKeyUsage: ['serverAuth', 'clientAuth'], keyUsage: 'critical,digitalSignature' });
    const cert = x509(pod);
    expect(cert.keyUsage?.sort()).toEqual([SERVER_AUTH, CLIENT_AUTH].sort());
    expect(cert.subjectAltName).toBe('DNS:custody-signer, DNS:custody-signer.custody.svc');
    expect(execFileSync('openssl', ['x509', '-noout', '-ext', 'keyUsage', '-in', pod.certPath], { encoding: 'utf8' })).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\s*$/);
    expect(cert.checkHost('custody-signer.custody.svc')).toBe('custody-signer.custody.svc');
  });

  it('root(): another CA in the same directory, unrelated to the first (its leaves do not verify against ca)', () => {
    const rogue = pki.root('rogue-ca');
    const leaf = x509(rogue.client('rogue-client'));
    expect(x509(rogue.ca).ca).toBe(true);
    expect(leaf.checkIssued(x509(rogue.ca))).toBe(true);
    expect(leaf.checkIssued(x509(pki.ca))).toBe(false);
    expect(leaf.verify(x509(pki.ca).publicKey)).toBe(false);
    expect(rogue.ca.certPath).toBe(join(pki.dir, 'rogue-ca.crt'));
  });

  it('intermediate(): a CA (pathlen 0) under the root; its leaves chain through it and verify only with it', () => {
    const sub = pki.intermediate('issuing-ca');
    const inter = x509(sub.ca);
    const root = x509(pki.ca);
    expect(inter.ca).toBe(true);
    expect(inter.checkIssued(root)).toBe(true);
    expect(inter.verify(root.publicKey)).toBe(true);
    const leaf = sub.server('deep-server');
    expect(x509(leaf).checkIssued(inter)).toBe(true);
    expect(x509(leaf).verify(inter.publicKey)).toBe(true);
    expect(x509(leaf).verify(root.publicKey)).toBe(false);
    expect(pemCount(leaf.chain)).toBe(2);
    expect(readFileSync(leaf.chainPath, 'utf8')).toBe(leaf.cert + sub.ca.cert);
  });

  it('mutual TLS with node:tls: server and client from the root authorize each other; through the intermediate with the chain; a client of another root is refused', async () => {
    const server = pki.server('tls-server');
    const client = pki.client('tls-client');
    expect(await handshake({ chain: server.chain, key: server.key, trusts: pki.ca.cert }, { chain: client.chain, key: client.key, trusts: pki.ca.cert, servername: 'localhost' })).toEqual({ serverSaw: true, clientSaw: true });

    const sub = pki.intermediate('tls-issuing-ca');
    const deepServer = sub.server('tls-deep-server');
    const deepClient = sub.client('tls-deep-client');
    expect(await handshake({ chain: deepServer.chain, key: deepServer.key, trusts: pki.ca.cert }, { chain: deepClient.chain, key: deepClient.key, trusts: pki.ca.cert, servername: 'localhost' })).toEqual({ serverSaw: true, clientSaw: true });

    const other = pki.root('tls-other-ca').client('tls-stranger');
    expect(await handshake({ chain: server.chain, key: server.key, trusts: pki.ca.cert }, { chain: other.chain, key: other.key, trusts: pki.ca.cert, servername: 'localhost' })).toEqual({ serverSaw: false, clientSaw: true });
  });

  it('pemFiles(): every certificate and key by file name as Buffers; a name is issued once and must be a plain file name', () => {
    const files = pki.pemFiles();
    expect(Object.keys(files)).toEqual(expect.arrayContaining(['ca.crt', 'ca.key', 'server.crt', 'server.key', 'rogue-ca.crt', 'issuing-ca.key']));
    expect(files['server.crt']?.toString()).toBe(readFileSync(pki.path('server.crt'), 'utf8'));
    expect(() => pki.server('server')).toThrow(/already issued/);
    expect(() => pki.client('../escape')).toThrow(/not a plain file name/);
    expect(() => pki.client('bad-cn', { cn: 'a/CN=b' })).toThrow(/CN/);
  });

  it('cleanup(): removes the directory it made, never one it was given', () => {
    const own = createTestPki();
    expect(existsSync(own.ca.certPath)).toBe(true);
    own.cleanup();
    expect(existsSync(own.dir)).toBe(false);

    const given = mkdtempSync(join(tmpdir(), 'pki-given-'));
    try {
      const inGiven = createTestPki({ dir: given, caName: 'given-ca' });
      expect(inGiven.ca.certPath).toBe(join(given, 'ca.crt'));
      inGiven.cleanup();
      expect(existsSync(join(given, 'ca.crt'))).toBe(true);
    } finally {
      rmSync(given, { recursive: true, force: true });
    }
  });
});
