// The embedded default's throw-away mTLS material: parsed and checked by node's X.509 and TLS
// (OpenSSL) stacks, a real mutual TLS handshake on 127.0.0.1, and a foreign CA's client refused.
import { createHash, X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { describe, expect, it } from '@jest/globals';
import { certificatePin, localMtls, type LocalMtls } from './tls.js';

const names = { ca: 'embedded-ca', server: 'signer', client: 'intake' };

/** A TLS 1.3 server requiring a client certificate of `mtls.ca`; resolves what each side saw. */
async function handshake(serverSide: LocalMtls, clientCert: { cert: Buffer; key: Buffer }): Promise<{ clientAuthorized: boolean; clientError: string; serverSawPeer: string; serverError: string }> {
  let serverSawPeer = '';
  let serverError = '';
  const server = createServer({ cert: serverSide.server.cert, key: serverSide.server.key, ca: serverSide.ca, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.3' }, (socket: TLSSocket) => {
    serverSawPeer = String(socket.getPeerCertificate().subject?.CN ?? '');
    socket.end('ok');
  });
  server.on('tlsClientError', (err) => (serverError = err.message));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  try {
    const socket = connect({ host: '127.0.0.1', port, ca: serverSide.ca, cert: clientCert.cert, key: clientCert.key });
    let clientError = '';
    let clientAuthorized = false;
    await new Promise<void>((resolve) => {
      socket.once('secureConnect', () => (clientAuthorized = socket.authorized));
      socket.on('data', () => undefined);
      socket.once('error', (err) => {
        clientError = err.message;
        resolve();
      });
      socket.once('close', () => resolve());
    });
    await new Promise((r) => setImmediate(r));
    return { clientAuthorized, clientError, serverSawPeer, serverError };
  } finally {
    server.close();
  }
}

describe('localMtls: throw-away CA, signer server and intake client certificates', () => {
  const mtls = localMtls(names);

  it('issues X.509 v3 certificates that chain to the CA, with the names and usages each end needs', () => {
    const ca = new X509Certificate(mtls.ca);
    const server = new X509Certificate(mtls.server.cert);
    const client = new X509Certificate(mtls.client.cert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(client.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(client.checkIssued(ca)).toBe(true);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('localhost')).toBe('localhost');
    expect(client.checkIP('127.0.0.1')).toBeUndefined();
    expect(server.subject).toBe('CN=signer');
    expect(client.subject).toBe('CN=intake');
    expect(client.issuer).toBe('CN=embedded-ca');
    expect(server.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(client.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']);
    expect(new Date(client.validTo).getTime()).toBeGreaterThan(Date.now() + 80 * 86_400_000);
    expect(new Date(client.validFrom).getTime()).toBeLessThanOrEqual(Date.now());
  });

  it("pins a certificate by the SHA-256 of its DER, in the signer's allow-list syntax", () => {
    const der = new X509Certificate(mtls.client.cert).raw;
    expect(mtls.client.pin).toBe(`sha256:${createHash('sha256').update(der).digest('hex')}`);
    expect(certificatePin(mtls.client.cert)).toBe(mtls.client.pin);
    expect(mtls.client.pin).not.toBe(mtls.server.pin);
    // Fresh material at each call: nothing is reused between starts.
    expect(localMtls(names).client.pin).not.toBe(mtls.client.pin);
  });

  it('completes a mutual TLS 1.3 handshake on 127.0.0.1: each end verifies the other against the CA', async () => {
    const seen = await handshake(mtls, mtls.client);
    expect(seen).toEqual({ clientAuthorized: true, clientError: '', serverSawPeer: 'intake', serverError: '' });
  });

  it("refuses a client certificate of another CA (the server's CA is the only trust anchor)", async () => {
    const foreign = localMtls(names);
    const seen = await handshake(mtls, foreign.client);
    expect(seen.serverSawPeer).toBe('');
    expect(seen.serverError).not.toBe('');
  });
});
