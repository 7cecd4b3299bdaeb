import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLedgerConfig } from './config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ledger-config-'));
  for (const f of ['cert.pem', 'key.pem', 'ca.pem']) writeFileSync(join(dir, f), `-----${f}-----`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = { CUSTODY_DB_URL: 'postgres://ledger@127.0.0.1:5432/custody', KAFKA_BROKERS: '127.0.0.1:9092' };

describe('ledger config', () => {
  it('mTLS: the certificate files are read into the validated, frozen config (the service can start)', () => {
    const config = loadLedgerConfig({
      ...base,
      CUSTODY_GRPC_TLS: 'mtls',
      CUSTODY_GRPC_TLS_CERT_FILE: join(dir, 'cert.pem'),
      CUSTODY_GRPC_TLS_KEY_FILE: join(dir, 'key.pem'),
      CUSTODY_GRPC_TLS_CLIENT_CA_FILE: join(dir, 'ca.pem'),
    });
    expect(config.grpc.credentials).toMatchObject({ kind: 'tls', requireClientCertificate: true });
    if (config.grpc.credentials.kind !== 'tls') throw new Error('expected tls');
    expect(config.grpc.credentials.certChain.toString()).toBe('-----cert.pem-----');
    expect(config.grpc.credentials.clientCa?.toString()).toBe('-----ca.pem-----');
    expect(Object.isFrozen(config.grpc)).toBe(true);
  });

  it('a missing TLS file variable stops the start naming it', () => {
    expect(() => loadLedgerConfig({ ...base, CUSTODY_GRPC_TLS: 'mtls', CUSTODY_GRPC_TLS_CERT_FILE: join(dir, 'cert.pem') })).toThrow(/CUSTODY_GRPC_TLS_KEY_FILE/);
  });
});
