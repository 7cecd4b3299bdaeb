import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createTestPki } from '@custody/testing';
import { loadIntakeConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'intake-config-'));
const file = (name: string): string => {
  const path = join(dir, name);
  writeFileSync(path, `-----BEGIN ${name}-----\n`);
  return path;
};
/** A CA and a client certificate (client auth) made by openssl, as the chart mounts them. */
let pemFiles: Record<string, string> | undefined;
const clientPem = (): Record<string, string> => {
  if (pemFiles) return pemFiles;
  const pki = createTestPki({ dir, caName: 'intake-config-ca' });
  const client = pki.client('client', { cn: 'custody-intake' });
  pemFiles = { CUSTODY_INTAKE_SIGNER_TLS_CA_FILE: pki.ca.certPath, CUSTODY_INTAKE_SIGNER_TLS_CERT_FILE: client.certPath, CUSTODY_INTAKE_SIGNER_TLS_KEY_FILE: client.keyPath };
  return pemFiles;
};
const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  CUSTODY_DB_URL: 'postgres://intake@127.0.0.1:5432/intake',
  KAFKA_BROKERS: '127.0.0.1:9092',
  CUSTODY_GRPC_TLS: 'insecure',
  ...extra,
});

describe('intake config: the signer client (deposit addresses)', () => {
  it('has no signer client unless CUSTODY_INTAKE_SIGNER_ADDRESS is set (GetDepositAddress then fails closed)', () => {
    expect(loadIntakeConfig(env()).signer).toBeUndefined();
  });

  it('requires the mTLS files for the signer unless insecure is chosen explicitly', () => {
    expect(() => loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: '127.0.0.1:50061' }))).toThrow(/CUSTODY_INTAKE_SIGNER_TLS_CA_FILE/);
    expect(loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: '127.0.0.1:50061', CUSTODY_INTAKE_SIGNER_TLS: 'insecure' })).signer).toMatchObject({ address: '127.0.0.1:50061', timeoutMs: 3000, mtls: false });
    const tls = loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: 'signer.internal:50061', ...clientPem() })).signer;
    expect(tls).toMatchObject({ address: 'signer.internal:50061', mtls: true });
    expect(tls?.credentials._isSecure()).toBe(true);
  });

  it('refuses plaintext to a signer that is not on loopback (fail closed), and mTLS files that are not PEM', () => {
    expect(() => loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: 'custody-signer.custody.svc:50051', CUSTODY_INTAKE_SIGNER_TLS: 'insecure' }))).toThrow(/CUSTODY_INTAKE_SIGNER_TLS: plaintext is allowed only to a loopback address/);
    expect(() => loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: '10.0.0.7:50051', CUSTODY_INTAKE_SIGNER_TLS: 'insecure' }))).toThrow(/loopback/);
    expect(() =>
      loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: 'signer.internal:50061', CUSTODY_INTAKE_SIGNER_TLS_CA_FILE: file('CA'), CUSTODY_INTAKE_SIGNER_TLS_CERT_FILE: file('CERT'), CUSTODY_INTAKE_SIGNER_TLS_KEY_FILE: file('KEY') })),
    ).toThrow(/not usable PEM credentials/);
  });

  it('reads the gateway mTLS files (server certificate, key, client CA)', () => {
    const c = loadIntakeConfig(env({ CUSTODY_GRPC_TLS: 'mtls', CUSTODY_GRPC_TLS_CERT_FILE: file('SRV'), CUSTODY_GRPC_TLS_KEY_FILE: file('SRVKEY'), CUSTODY_GRPC_TLS_CLIENT_CA_FILE: file('CLIENTCA') }));
    expect(c.grpc).toMatchObject({ host: '127.0.0.1', port: 50051, credentials: { kind: 'tls', requireClientCertificate: true } });
  });

  it('refuses an address that is not host:port', () => {
    expect(() => loadIntakeConfig(env({ CUSTODY_INTAKE_SIGNER_ADDRESS: 'http://signer', CUSTODY_INTAKE_SIGNER_TLS: 'insecure' }))).toThrow(/CUSTODY_INTAKE_SIGNER_ADDRESS/);
  });
});

describe('intake config: the operator API (IntakeAdminService)', () => {
  const mtls = { CUSTODY_GRPC_TLS: 'mtls', CUSTODY_GRPC_TLS_CERT_FILE: file('SRV'), CUSTODY_GRPC_TLS_KEY_FILE: file('SRVKEY'), CUSTODY_GRPC_TLS_CLIENT_CA_FILE: file('CLIENTCA') };
  const operators = (value: unknown): string => {
    const path = join(dir, `operators-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, JSON.stringify(value));
    return path;
  };
  const alice = { operatorId: 'alice', keyId: 'alice-k1', publicKey: 'ab'.repeat(32), certificateSha256: ['cd'.repeat(32)] };

  it('is off unless CUSTODY_INTAKE_ADMIN_PORT is set', () => {
    expect(loadIntakeConfig(env(mtls)).admin).toBeUndefined();
  });

  it('needs mTLS, the operators CA and the operators file; reads them on its own port', () => {
    expect(() => loadIntakeConfig(env({ CUSTODY_INTAKE_ADMIN_PORT: '50052' }))).toThrow(/CUSTODY_INTAKE_ADMIN_PORT/);
    expect(() => loadIntakeConfig(env({ ...mtls, CUSTODY_INTAKE_ADMIN_PORT: '50052', CUSTODY_INTAKE_OPERATORS_FILE: operators([alice]) }))).toThrow(/CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE/);
    expect(() => loadIntakeConfig(env({ ...mtls, CUSTODY_INTAKE_ADMIN_PORT: '50052', CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE: file('OPCA') }))).toThrow(/CUSTODY_INTAKE_OPERATORS_FILE/);
    const c = loadIntakeConfig(env({ ...mtls, CUSTODY_INTAKE_ADMIN_PORT: '50052', CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE: file('OPCA'), CUSTODY_INTAKE_OPERATORS_FILE: operators([alice]) }));
    expect(c.admin).toMatchObject({ host: '127.0.0.1', port: 50052, maxKeyOverlapMs: 7 * 24 * 3_600_000, credentials: { kind: 'tls', requireClientCertificate: true } });
    expect(c.admin?.credentials.clientCa.toString()).toContain('OPCA');
    expect(c.admin?.operators).toEqual([{ ...alice, publicKey: Uint8Array.from(Buffer.from(alice.publicKey, 'hex')) }]);
  });

  it('refuses an operators file with a bad key or no certificate pin', () => {
    const base = { ...mtls, CUSTODY_INTAKE_ADMIN_PORT: '50052', CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE: file('OPCA') };
    expect(() => loadIntakeConfig(env({ ...base, CUSTODY_INTAKE_OPERATORS_FILE: operators([{ ...alice, publicKey: 'xyz' }]) }))).toThrow(/CUSTODY_INTAKE_OPERATORS_FILE/);
    expect(() => loadIntakeConfig(env({ ...base, CUSTODY_INTAKE_OPERATORS_FILE: operators([{ ...alice, certificateSha256: [] }]) }))).toThrow(/CUSTODY_INTAKE_OPERATORS_FILE/);
  });

  it('audit gate (admin actions recorded in audit first): no endpoint → refuse (fail closed); an endpoint → gRPC with mTLS files or plaintext to loopback; disabled only alone', () => {
    expect(loadIntakeConfig(env()).audit).toEqual({ mode: 'refuse', addressVariable: 'CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS' });
    expect(loadIntakeConfig(env({ CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_INTAKE_AUDIT_GRPC_TLS: 'insecure', CUSTODY_INTAKE_AUDIT_TIMEOUT: '2s' })).audit).toEqual({
      mode: 'grpc',
      client: { address: '127.0.0.1:50055', tls: undefined },
      timeoutMs: 2_000,
    });
    const files = { CUSTODY_INTAKE_AUDIT_GRPC_CA_FILE: '/tls/ca.crt', CUSTODY_INTAKE_AUDIT_GRPC_CERT_FILE: '/tls/tls.crt', CUSTODY_INTAKE_AUDIT_GRPC_KEY_FILE: '/tls/tls.key' };
    expect(loadIntakeConfig(env({ CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS: 'custody-audit.custody.svc:50051', ...files })).audit).toMatchObject({ mode: 'grpc', client: { tls: { caFile: '/tls/ca.crt' } }, timeoutMs: 3_000 });
    expect(() => loadIntakeConfig(env({ CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS: 'custody-audit.custody.svc:50051' }))).toThrow(/CUSTODY_INTAKE_AUDIT_GRPC_CA_FILE/);
    expect(loadIntakeConfig(env({ CUSTODY_AUDIT_GATE: 'disabled' })).audit).toEqual({ mode: 'disabled' });
    expect(() => loadIntakeConfig(env({ CUSTODY_AUDIT_GATE: 'disabled', CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_INTAKE_AUDIT_GRPC_TLS: 'insecure' }))).toThrow(/CUSTODY_AUDIT_GATE/);
  });
});
