import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { HDKey } from '@scure/bip32';
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
  CUSTODY_GRPC_TLS: 'insecure',
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
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443', CUSTODY_GRPC_TLS: undefined }))).toThrow(/CUSTODY_GRPC_TLS/);
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443', CUSTODY_GRPC_TLS: 'mtls' }))).toThrow(/CUSTODY_GRPC_TLS_CERT_FILE/);
    const c = loadSignerConfig(env({ CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443', CUSTODY_GRPC_TLS: 'insecure' }));
    expect(c.adminGrpc).toEqual({ host: '127.0.0.1', port: 7443, credentials: { kind: 'insecure' } });
    expect(c.grpc).toBeUndefined();
  });

  it('always serves gRPC health on CUSTODY_GRPC_HOST:CUSTODY_GRPC_PORT with the platform TLS settings, which are required', () => {
    expect(() => loadSignerConfig(env({ CUSTODY_GRPC_TLS: undefined }))).toThrow(/CUSTODY_GRPC_TLS/);
    expect(() => loadSignerConfig(env({ CUSTODY_GRPC_TLS: 'mtls' }))).toThrow(/CUSTODY_GRPC_TLS_CERT_FILE/);
    expect(loadSignerConfig(env()).healthGrpc).toEqual({ host: '127.0.0.1', port: 50058, credentials: { kind: 'insecure' } });
    const pem = join(dir, 'fake.pem');
    writeFileSync(pem, 'not really a certificate');
    const c = loadSignerConfig(env({ CUSTODY_GRPC_HOST: '10.1.2.3', CUSTODY_GRPC_PORT: '50051', CUSTODY_GRPC_TLS: 'mtls', CUSTODY_GRPC_TLS_CERT_FILE: pem, CUSTODY_GRPC_TLS_KEY_FILE: pem, CUSTODY_GRPC_TLS_CLIENT_CA_FILE: pem }));
    expect(c.healthGrpc).toMatchObject({ host: '10.1.2.3', port: 50051, credentials: { kind: 'tls', requireClientCertificate: true } });
  });

  it('refuses a health port shared with the DepositAddressService or KeyAdminService port', () => {
    expect(() => loadSignerConfig(env({ CUSTODY_GRPC_PORT: '7443', CUSTODY_SIGNER_ADMIN_GRPC_PORT: '7443' }))).toThrow(/CUSTODY_GRPC_PORT/);
    expect(() => loadSignerConfig(env({ CUSTODY_GRPC_PORT: '7444', CUSTODY_SIGNER_GRPC_PORT: '7444', CUSTODY_SIGNER_GRPC_TLS: 'insecure' }))).toThrow(/CUSTODY_GRPC_PORT/);
  });

  it('audit gate (key admin changes recorded in audit first): no endpoint → refuse (fail closed); an endpoint → gRPC (mTLS files or plaintext to loopback); disabled only alone', () => {
    expect(loadSignerConfig(env()).audit).toEqual({ mode: 'refuse', addressVariable: 'CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS' });
    expect(loadSignerConfig(env({ CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_SIGNER_AUDIT_GRPC_TLS: 'insecure' })).audit).toEqual({ mode: 'grpc', client: { address: '127.0.0.1:50055', tls: undefined }, timeoutMs: 3_000 });
    const files = { CUSTODY_SIGNER_AUDIT_GRPC_CA_FILE: '/tls/ca.crt', CUSTODY_SIGNER_AUDIT_GRPC_CERT_FILE: '/tls/tls.crt', CUSTODY_SIGNER_AUDIT_GRPC_KEY_FILE: '/tls/tls.key' };
    expect(loadSignerConfig(env({ CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS: 'custody-audit.custody.svc:50051', ...files, CUSTODY_SIGNER_AUDIT_TIMEOUT: '1s' })).audit).toMatchObject({ mode: 'grpc', client: { tls: { keyFile: '/tls/tls.key' } }, timeoutMs: 1_000 });
    expect(() => loadSignerConfig(env({ CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS: 'custody-audit.custody.svc:50051' }))).toThrow(/CUSTODY_SIGNER_AUDIT_GRPC_CA_FILE/);
    expect(loadSignerConfig(env({ CUSTODY_AUDIT_GATE: 'disabled' })).audit).toEqual({ mode: 'disabled' });
    expect(() => loadSignerConfig(env({ CUSTODY_AUDIT_GATE: 'disabled', CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_SIGNER_AUDIT_GRPC_TLS: 'insecure' }))).toThrow(/CUSTODY_AUDIT_GATE/);
  });
});

describe('signer config: CUSTODY_SIGNER_ASSETS_FILE (evm | bitcoin, the parser shared with the offline device)', () => {
  const eth = { asset: 'ETH', chain: 'ethereum-sepolia', kind: 'evm', chainId: '11155111', maxFee: '10000000000000000', tierCaps: { hot: '1', warm: '2', cold: '3' } };
  const changeXpub = HDKey.fromMasterSeed(new Uint8Array(32).fill(7)).derive("m/84'/0'/0'").publicExtendedKey;
  const btc = { asset: 'BTC', chain: 'bitcoin-mainnet', kind: 'bitcoin', network: 'mainnet', maxFee: '50000', tierCaps: { hot: '100000000', warm: '1000000000', cold: '2100000000000000' }, changeXpub };
  let n = 0;
  const withAssets = (assets: unknown) => {
    const file = join(dir, `assets-${++n}.json`);
    writeFileSync(file, JSON.stringify(assets));
    return env({ CUSTODY_SIGNER_ASSETS_FILE: file });
  };
  const failure = (assets: unknown): string => {
    try {
      loadSignerConfig(withAssets(assets));
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('parses an evm and a bitcoin profile side by side, amounts as bigint', () => {
    const c = loadSignerConfig(withAssets([eth, btc, { ...btc, asset: 'tBTC', chain: 'bitcoin-regtest', network: 'regtest', changeXpub: undefined }]));
    expect(c.assets.get('ETH')).toEqual({ asset: 'ETH', chain: 'ethereum-sepolia', kind: 'evm', chainId: 11155111n, maxFee: 10n ** 16n, tierCaps: { hot: 1n, warm: 2n, cold: 3n } });
    expect(c.assets.get('BTC')).toEqual({ asset: 'BTC', chain: 'bitcoin-mainnet', kind: 'bitcoin', network: 'mainnet', maxFee: 50_000n, tierCaps: { hot: 10n ** 8n, warm: 10n ** 9n, cold: 21n * 10n ** 14n }, changeXpub });
    expect(c.assets.get('tBTC')).toEqual({ asset: 'tBTC', chain: 'bitcoin-regtest', kind: 'bitcoin', network: 'regtest', maxFee: 50_000n, tierCaps: { hot: 10n ** 8n, warm: 10n ** 9n, cold: 21n * 10n ** 14n } });
  });

  it('refuses a bad network, naming the variable and the field', () => {
    const message = failure([eth, { ...btc, network: 'bitcoin' }]);
    expect(message).toMatch(/CUSTODY_SIGNER_ASSETS_FILE/);
    expect(message).toMatch(/1\.network: must be one of mainnet, testnet, regtest/);
  });

  it('refuses a float, a JSON number, a negative, an exponent or a zero fee cap, naming the field', () => {
    expect(failure([{ ...btc, maxFee: '0.5' }])).toMatch(/0\.maxFee: must be a positive integer decimal string/);
    expect(failure([{ ...btc, maxFee: '0' }])).toMatch(/0\.maxFee: must be a positive integer decimal string/);
    expect(failure([{ ...eth, tierCaps: { ...eth.tierCaps, warm: 2.5 } }])).toMatch(/0\.tierCaps\.warm: must be an integer decimal string/);
    expect(failure([{ ...eth, tierCaps: { ...eth.tierCaps, hot: '-1' } }])).toMatch(/0\.tierCaps\.hot: must be an integer decimal string/);
    expect(failure([{ ...eth, tierCaps: { ...eth.tierCaps, cold: '1e21' } }])).toMatch(/0\.tierCaps\.cold: must be an integer decimal string/);
    expect(failure([{ ...eth, chainId: '0' }])).toMatch(/0\.chainId: must be a positive EIP-155 chain id/);
  });

  it('refuses an unknown kind, a field of the other kind, a private extended key and a duplicate asset, naming the field', () => {
    expect(failure([{ ...eth, kind: 'solana' }])).toMatch(/CUSTODY_SIGNER_ASSETS_FILE.*0\.kind: kind must be "evm" or "bitcoin"/);
    expect(failure([{ ...btc, chainId: '1' }])).toMatch(/0: Unrecognized key: "chainId"/);
    const xprv = HDKey.fromMasterSeed(new Uint8Array(32).fill(7)).derive("m/84'/0'/0'").privateExtendedKey;
    const message = failure([{ ...btc, changeXpub: xprv }]);
    expect(message).toMatch(/0\.changeXpub: must be an extended PUBLIC key/);
    expect(message).not.toContain(xprv);
    expect(failure([eth, { ...btc, asset: 'ETH' }])).toMatch(/1\.asset: duplicate asset ETH/);
  });
});
