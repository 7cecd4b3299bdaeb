import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { loadSignerConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'signer-config-'));
const operatorsFile = join(dir, 'operators.json');
const assetsFile = join(dir, 'assets.json');
writeFileSync(operatorsFile, JSON.stringify([{ operatorId: 'carol', roles: ['key_custodian'], keys: { k1: 'ab'.repeat(32) } }]));
writeFileSync(assetsFile, JSON.stringify([{ asset: 'ETH', chain: 'ethereum-sepolia', kind: 'evm', chainId: '11155111', maxFee: '10000000000000000', tierCaps: { hot: '1', warm: '2', cold: '3' } }]));
const MASTER = 'cd'.repeat(32);

const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  CUSTODY_DB_URL: 'postgres://signer@127.0.0.1:5432/signer',
  KAFKA_BROKERS: '127.0.0.1:9092',
  CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: `policy-1=${'ef'.repeat(32)}`,
  CUSTODY_SIGNER_OPERATORS_FILE: operatorsFile,
  CUSTODY_SIGNER_ASSETS_FILE: assetsFile,
  CUSTODY_SIGNER_MASTER_KEY: MASTER,
  ...extra,
});

describe('signer config', () => {
  it('parses keys, operators, asset profiles (bigint) and the local sealed custody', () => {
    const c = loadSignerConfig(env());
    expect(c.trustedPolicyKeys.get('policy-1')).toHaveLength(32);
    expect(c.operators.get('carol')?.keys.get('k1')).toHaveLength(32);
    expect(c.assets.get('ETH')).toMatchObject({ chainId: 11155111n, maxFee: 10n ** 16n, tierCaps: { hot: 1n, warm: 2n, cold: 3n } });
    expect(c.localSealed?.masterKey).toHaveLength(32);
    expect(c.pkcs11).toBeUndefined();
  });

  it('fails closed without any key custody, naming the variable', () => {
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_MASTER_KEY: undefined }))).toThrow(/CUSTODY_SIGNER_MASTER_KEY/);
  });

  it('refuses a malformed master key without echoing it, and a PKCS#11 module without its PIN', () => {
    const bad = 'zz'.repeat(32);
    let message = '';
    try {
      loadSignerConfig(env({ CUSTODY_SIGNER_MASTER_KEY: bad }));
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/CUSTODY_SIGNER_MASTER_KEY/);
    expect(message).not.toContain(bad);
    expect(() => loadSignerConfig(env({ PKCS11_MODULE: '/usr/lib/softhsm/libsofthsm2.so', PKCS11_TOKEN_LABEL: 't' }))).toThrow(/PKCS11_PIN/);
  });

  it('refuses bad policy keys and unreadable files', () => {
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: 'policy-1=abc' }))).toThrow(/CUSTODY_SIGNER_POLICY_PUBLIC_KEYS/);
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_ASSETS_FILE: join(dir, 'missing.json') }))).toThrow(/CUSTODY_SIGNER_ASSETS_FILE/);
    const badOps = join(dir, 'bad-operators.json');
    writeFileSync(badOps, JSON.stringify([{ operatorId: 'x', roles: [], keys: {} }]));
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_OPERATORS_FILE: badOps }))).toThrow(/CUSTODY_SIGNER_OPERATORS_FILE/);
  });

  it('enables the KeyAdminService on its own port only when asked, TLS from CUSTODY_GRPC_TLS (grpcServerTlsEnv)', () => {
    expect(loadSignerConfig(env()).adminGrpc).toBeUndefined();
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443' }))).toThrow(/CUSTODY_GRPC_TLS/);
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443', CUSTODY_GRPC_TLS: 'mtls' }))).toThrow(/CUSTODY_GRPC_TLS_CERT_FILE/);
    const c = loadSignerConfig(env({ CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443', CUSTODY_GRPC_TLS: 'insecure' }));
    expect(c.adminGrpc).toEqual({ host: '127.0.0.1', port: 7443, credentials: { kind: 'insecure' } });
    expect(c.grpc).toBeUndefined();
  });
});
