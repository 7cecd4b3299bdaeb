import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { HDKey } from '@scure/bip32';
import { loadSignerConfig } from './config.js';

const dir = mkdtempSync(join(tmpdir(), 'signer-deposit-config-'));
const write = (name: string, value: unknown): string => {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(value));
  return path;
};
const account = HDKey.fromMasterSeed(new Uint8Array(16).fill(1)).derive("m/44'/60'/0'");
const env = (extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv => ({
  CUSTODY_DB_URL: 'postgres://signer@127.0.0.1:5432/signer',
  KAFKA_BROKERS: '127.0.0.1:9092',
  CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: `policy-1=${'ef'.repeat(32)}`,
  CUSTODY_SIGNER_OPERATORS_FILE: write('operators.json', [{ operatorId: 'carol', roles: ['key_custodian'], keys: { k1: 'ab'.repeat(32) } }]),
  CUSTODY_SIGNER_ASSETS_FILE: write('assets.json', []),
  CUSTODY_SIGNER_MASTER_KEY: 'cd'.repeat(32),
  CUSTODY_GRPC_TLS: 'insecure',
  ...extra,
});

describe('signer config: gRPC server and deposit xpubs', () => {
  it('has no gRPC server and no deposit xpubs unless configured', () => {
    const c = loadSignerConfig(env());
    expect(c.grpc).toBeUndefined();
    expect(c.depositXpubs.size).toBe(0);
  });

  it('defaults to 127.0.0.1 and requires the mTLS files unless insecure is chosen explicitly', () => {
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_GRPC_PORT: '50061' }))).toThrow(/CUSTODY_SIGNER_GRPC_TLS_CERT_FILE/);
    const c = loadSignerConfig(env({ CUSTODY_SIGNER_GRPC_PORT: '50061', CUSTODY_SIGNER_GRPC_TLS: 'insecure' }));
    expect(c.grpc).toMatchObject({ host: '127.0.0.1', port: 50061, credentials: { kind: 'insecure' } });
  });

  it('with mTLS requires the caller allow-list (CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS) and refuses malformed entries', () => {
    const pemFile = (name: string): string => {
      const path = join(dir, name);
      writeFileSync(path, `-----BEGIN ${name}-----\n`);
      return path;
    };
    const mtls = { CUSTODY_SIGNER_GRPC_PORT: '50061', CUSTODY_SIGNER_GRPC_TLS_CERT_FILE: pemFile('CRT'), CUSTODY_SIGNER_GRPC_TLS_KEY_FILE: pemFile('KEY'), CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE: pemFile('CA') };
    expect(() => loadSignerConfig(env(mtls))).toThrow(/CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS/);
    expect(() => loadSignerConfig(env({ ...mtls, CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS: 'intake' }))).toThrow(/CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS/);
    const c = loadSignerConfig(env({ ...mtls, CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS: `dns:intake.custody.svc,sha256:${'ab'.repeat(32)}` }));
    expect(c.grpc).toMatchObject({ allowedCallers: ['dns:intake.custody.svc', `sha256:${'ab'.repeat(32)}`], credentials: { kind: 'tls', requireClientCertificate: true } });
  });

  it('reads account xpubs per asset and refuses an xprv', () => {
    const ok = loadSignerConfig(env({ CUSTODY_SIGNER_DEPOSIT_XPUBS_FILE: write('xpubs.json', [{ asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: account.publicExtendedKey }]) }));
    expect(ok.depositXpubs.get('ETH')).toEqual({ asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: account.publicExtendedKey, account: 0 });
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_DEPOSIT_XPUBS_FILE: write('xprv.json', [{ asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: account.privateExtendedKey }]) }))).toThrow(
      /CUSTODY_SIGNER_DEPOSIT_XPUBS_FILE/,
    );
  });
});
