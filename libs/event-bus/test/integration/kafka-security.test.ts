// kafkaSecurityFromEnv with real sockets:
//  - plaintext through the reader against the real loopback broker (scripts/infra/kafka.sh): a
//    KafkaBus built the way every main.ts builds it publishes and consumes;
//  - tls: the broker here has no TLS listener, so the mapping is proven on the wire against a
//    loopback TLS server that requires a client certificate (as a Strimzi TLS listener with
//    `authentication: tls` does): kafkajs, given the reader's options, completes the handshake
//    presenting the KafkaUser's certificate, and refuses a server its CA does not vouch for.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { KafkaBus, createKafkaClient, ensureTopics, kafkaSecurityFromEnv, type IncomingMessage } from '../../src/index.js';
import { requireEnv, waitFor } from './support.js';

const rand = (): string => randomBytes(5).toString('hex');

describe('kafkaSecurityFromEnv: plaintext on the real loopback broker', () => {
  const brokers = requireEnv('KAFKA_BROKERS').split(',');
  const topic = `kafka-security-${rand()}`;
  const groupId = `kafka-security-${rand()}`;
  const kafka = createKafkaClient({ brokers, clientId: `kafka-security-${rand()}`, logLevel: 'nothing', extra: kafkaSecurityFromEnv({ CUSTODY_KAFKA_SECURITY: 'plaintext' }, brokers) });
  const admin = kafka.admin();
  let bus: KafkaBus | undefined;

  beforeAll(async () => {
    await admin.connect();
    await ensureTopics(admin, [{ topic, partitions: 1 }]);
  });
  afterAll(async () => {
    await bus?.close();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined);
    await admin.disconnect();
  });

  it('the reader gives no TLS/SASL for loopback brokers, and a bus on that client publishes and consumes', async () => {
    expect(kafkaSecurityFromEnv({ CUSTODY_KAFKA_SECURITY: 'plaintext' }, brokers)).toEqual({});
    expect(kafkaSecurityFromEnv({}, brokers)).toEqual({});
    bus = new KafkaBus({ kafka, consumer: { sessionTimeout: 10_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 } });
    const received: IncomingMessage[] = [];
    await bus.subscribe({ groupId, topics: [topic], fromBeginning: true, handler: async (m) => void received.push(m) });
    await bus.publish([{ topic, key: 'k-1', value: new TextEncoder().encode('through the reader') }]);
    await waitFor(() => received.length === 1, 30_000, () => `received ${received.length} of 1`);
    expect(received.map((m) => [m.key, new TextDecoder().decode(m.value)])).toEqual([['k-1', 'through the reader']]);
  });
});

describe('kafkaSecurityFromEnv: tls maps to a mutual-TLS handshake kafkajs performs', () => {
  let dir: string;
  let server: Server;
  let port: number;
  const authenticated: string[] = [];
  const refused: string[] = [];

  function openssl(args: readonly string[]): void {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr}`);
  }
  /** CA `ca` and a leaf `leaf` it signs (CN, SAN DNS, extended key usage). */
  function issue(ca: string, leaf: string, cn: string, usage: 'serverAuth' | 'clientAuth'): void {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    openssl(['req', '-x509', ...ec, '-keyout', `${ca}.key`, '-out', `${ca}.crt`, '-subj', `/CN=${ca}`, '-days', '1', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign']);
    openssl(['req', ...ec, '-keyout', `${leaf}.key`, '-out', `${leaf}.csr`, '-subj', `/CN=${cn}`]);
    writeFileSync(join(dir, `${leaf}.ext`), `subjectAltName=DNS:${cn}\nextendedKeyUsage=${usage}\n`);
    openssl(['x509', '-req', '-in', `${leaf}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${leaf}.crt`, '-days', '1', '-extfile', `${leaf}.ext`]);
  }
  const tlsEnv = (ca: string) => ({
    CUSTODY_KAFKA_SECURITY: 'tls',
    CUSTODY_KAFKA_CA_FILE: join(dir, `${ca}.crt`),
    CUSTODY_KAFKA_CERT_FILE: join(dir, 'user.crt'),
    CUSTODY_KAFKA_KEY_FILE: join(dir, 'user.key'),
  });
  /** kafkajs connects with the reader's options; the fake broker closes after the handshake, so connect() rejects either way. */
  async function connectWith(options: ReturnType<typeof kafkaSecurityFromEnv>): Promise<void> {
    const admin = createKafkaClient({
      brokers: [`localhost:${port}`],
      clientId: `kafka-security-tls-${rand()}`,
      logLevel: 'nothing',
      extra: { ...options, retry: { retries: 0 }, connectionTimeout: 3000 },
    }).admin();
    await expect(admin.connect()).rejects.toThrow();
    await admin.disconnect();
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kafka-security-tls-'));
    issue('cluster-ca', 'broker', 'localhost', 'serverAuth');
    issue('clients-ca', 'user', 'custody-ledger', 'clientAuth');
    issue('other-ca', 'other', 'localhost', 'serverAuth');
    server = createServer({
      key: readFileSync(join(dir, 'broker.key')),
      cert: readFileSync(join(dir, 'broker.crt')),
      ca: readFileSync(join(dir, 'clients-ca.crt')),
      requestCert: true,
      rejectUnauthorized: true,
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      authenticated.push(String(socket.getPeerCertificate().subject.CN));
      socket.destroy();
    });
    server.on('tlsClientError', (err) => refused.push((err as NodeJS.ErrnoException).code ?? err.message));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('CA + client certificate → the handshake completes and the broker side sees the KafkaUser\'s certificate (CN=custody-ledger)', async () => {
    await connectWith(kafkaSecurityFromEnv(tlsEnv('cluster-ca'), [`localhost:${port}`]));
    await waitFor(() => authenticated.length > 0, 10_000, () => `no authenticated handshake (refused: ${refused.join(', ')})`);
    expect(authenticated).toContain('custody-ledger');
  });

  it('a CA that did not sign the broker\'s certificate → kafkajs refuses the server (no handshake completes)', async () => {
    const before = { authenticated: authenticated.length, refused: refused.length };
    await connectWith(kafkaSecurityFromEnv(tlsEnv('other-ca'), [`localhost:${port}`]));
    await waitFor(() => refused.length > before.refused, 10_000, () => 'the server saw no refused handshake');
    expect(authenticated.length).toBe(before.authenticated);
  });

  it('CA only (no client certificate) → the broker side refuses the client (what an mTLS listener does)', async () => {
    const before = { authenticated: authenticated.length, refused: refused.length };
    await connectWith(kafkaSecurityFromEnv({ CUSTODY_KAFKA_SECURITY: 'tls', CUSTODY_KAFKA_CA_FILE: join(dir, 'cluster-ca.crt') }, [`localhost:${port}`]));
    await waitFor(() => refused.length > before.refused, 10_000, () => 'the server did not refuse the client without a certificate');
    expect(authenticated.length).toBe(before.authenticated);
  });
});
