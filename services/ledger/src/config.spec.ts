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

describe('ledger config: reconciliation targets', () => {
  const insecure = { ...base, CUSTODY_GRPC_TLS: 'insecure' };
  it('parses ASSET=chain@host:port per chain-adapter, defaults to none and 60 s', () => {
    expect(loadLedgerConfig(insecure).reconciliation).toMatchObject({ targets: [], intervalMs: 60_000 });
    const c = loadLedgerConfig({ ...insecure, CUSTODY_LEDGER_RECONCILE_TARGETS: 'ETH=ethereum@chain-adapter:50057, BTC=bitcoin@10.0.0.2:50058', CUSTODY_LEDGER_RECONCILE_INTERVAL: '30s' });
    expect(c.reconciliation.targets).toEqual([
      { asset: 'ETH', chain: 'ethereum', address: 'chain-adapter:50057' },
      { asset: 'BTC', chain: 'bitcoin', address: '10.0.0.2:50058' },
    ]);
    expect(c.reconciliation.intervalMs).toBe(30_000);
  });

  it('a malformed or duplicated target stops the start naming the variable', () => {
    for (const bad of ['ETH', 'ETH=ethereum', 'eth=ethereum@h:1', 'ETH=ethereum@h:1,ETH=ethereum@h:2']) {
      expect(() => loadLedgerConfig({ ...insecure, CUSTODY_LEDGER_RECONCILE_TARGETS: bad })).toThrow(/CUSTODY_LEDGER_RECONCILE_TARGETS/);
    }
  });

  it('fee assets per chain name: CUSTODY_LEDGER_FEE_ASSETS is parsed (empty by default), malformed values are refused', () => {
    const insecure = { ...base, CUSTODY_GRPC_TLS: 'insecure' };
    expect(loadLedgerConfig(insecure).feeAssets).toEqual({});
    expect(loadLedgerConfig({ ...insecure, CUSTODY_LEDGER_FEE_ASSETS: 'ethereum-mainnet=ETH, bitcoin-mainnet=BTC' }).feeAssets).toEqual({ 'ethereum-mainnet': 'ETH', 'bitcoin-mainnet': 'BTC' });
    for (const bad of ['ethereum-mainnet', 'ethereum-mainnet=eth', 'Ethereum=ETH', 'a=ETH,,b=BTC']) {
      expect(() => loadLedgerConfig({ ...insecure, CUSTODY_LEDGER_FEE_ASSETS: bad })).toThrow(/CUSTODY_LEDGER_FEE_ASSETS/);
    }
  });
});
