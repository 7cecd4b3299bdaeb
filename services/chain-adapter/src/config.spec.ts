import { describe, expect, it } from '@jest/globals';
import { loadChainAdapterConfig } from './config.js';

const base = {
  CUSTODY_DB_URL: 'postgres://u:p@127.0.0.1:5432/db',
  KAFKA_BROKERS: '127.0.0.1:9092',
  CUSTODY_CHAIN_ID: '31337',
  CUSTODY_CHAIN_GENESIS_HASH: `0x${'ab'.repeat(32)}`,
  CUSTODY_GRPC_TLS: 'insecure',
  CUSTODY_CHAIN_CONFIRMATIONS: '3',
};

describe('config: confirmation tiers, breaker and admin operators', () => {
  it('parses ascending tiers (bigint base units), the breaker and operators', () => {
    const c = loadChainAdapterConfig({
      ...base,
      CUSTODY_CHAIN_CONFIRMATION_TIERS: '1000000000000000000:6, 100000000000000000000000:12',
      CUSTODY_CHAIN_PAUSE_REORG_DEPTH: '4',
      CUSTODY_CHAIN_PAUSED_DEPTH_FACTOR: '3',
      CUSTODY_CHAIN_ADMIN_OPERATORS: `alice:${'11'.repeat(32)}:${'AA'.repeat(32)}+${'bb'.repeat(32)}`,
    });
    expect(c.profile.depthTiers).toEqual([{ above: 10n ** 18n, confirmations: 6 }, { above: 10n ** 23n, confirmations: 12 }]);
    expect(c.breaker).toEqual({ pauseReorgDepth: 4, depthFactor: 3 });
    expect(c.adminOperators).toEqual([{ operatorId: 'alice', publicKey: Buffer.from('11'.repeat(32), 'hex'), certificateSha256: ['aa'.repeat(32), 'bb'.repeat(32)] }]);
    const d = loadChainAdapterConfig(base);
    expect([d.profile.depthTiers, d.breaker, d.adminOperators]).toEqual([[], { pauseReorgDepth: 0, depthFactor: 2 }, []]);
  });

  it.each([
    ['a tier not above the base depth', { CUSTODY_CHAIN_CONFIRMATION_TIERS: '1000:3' }, 'CUSTODY_CHAIN_CONFIRMATION_TIERS'],
    ['descending tiers', { CUSTODY_CHAIN_CONFIRMATION_TIERS: '1000:9,2000:8' }, 'CUSTODY_CHAIN_CONFIRMATION_TIERS'],
    ['a non-integer amount', { CUSTODY_CHAIN_CONFIRMATION_TIERS: '1.5:9' }, 'CUSTODY_CHAIN_CONFIRMATION_TIERS'],
    ['a zero depth factor', { CUSTODY_CHAIN_PAUSED_DEPTH_FACTOR: '0' }, 'CUSTODY_CHAIN_PAUSED_DEPTH_FACTOR'],
    ['a short operator key', { CUSTODY_CHAIN_ADMIN_OPERATORS: `alice:1234:${'aa'.repeat(32)}` }, 'CUSTODY_CHAIN_ADMIN_OPERATORS'],
    ['a duplicate operator', { CUSTODY_CHAIN_ADMIN_OPERATORS: `a:${'11'.repeat(32)}:${'aa'.repeat(32)},a:${'22'.repeat(32)}:${'bb'.repeat(32)}` }, 'CUSTODY_CHAIN_ADMIN_OPERATORS'],
  ])('refuses %s at boot', (_name, env, variable) => {
    expect(() => loadChainAdapterConfig({ ...base, ...env })).toThrow(variable);
  });
});

describe('config: operator audit gate (ChainAdminService changes recorded in audit first)', () => {
  it('no address: refuse mode (the service starts, every admin change is refused)', () => {
    expect(loadChainAdapterConfig(base).audit).toEqual({ mode: 'refuse', addressVariable: 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_ADDRESS' });
  });

  it('an address: grpc mode with its deadline; CUSTODY_AUDIT_GATE=disabled alone: disabled (dev)', () => {
    const c = loadChainAdapterConfig({ ...base, CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_ADDRESS: '127.0.0.1:50070', CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_TLS: 'insecure', CUSTODY_CHAIN_ADAPTER_AUDIT_TIMEOUT: '2s' });
    expect(c.audit).toMatchObject({ mode: 'grpc', timeoutMs: 2_000, client: { address: '127.0.0.1:50070' } });
    expect(loadChainAdapterConfig({ ...base, CUSTODY_AUDIT_GATE: 'disabled' }).audit).toEqual({ mode: 'disabled' });
  });

  it.each([
    ['the gate disabled together with an address', { CUSTODY_AUDIT_GATE: 'disabled', CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_ADDRESS: '127.0.0.1:50070', CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_TLS: 'insecure' }, 'CUSTODY_AUDIT_GATE'],
    ['an unknown gate mode', { CUSTODY_AUDIT_GATE: 'off' }, 'CUSTODY_AUDIT_GATE'],
    ['plaintext to a non-loopback audit', { CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_ADDRESS: 'audit.custody.svc:50070', CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_TLS: 'insecure' }, 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC'],
  ])('refuses %s at boot', (_name, env, variable) => {
    expect(() => loadChainAdapterConfig({ ...base, ...env })).toThrow(variable);
  });
});

describe('config: Bitcoin profile (wired only when CUSTODY_BTC_CHAIN_NAME is set)', () => {
  it('absent by default; parsed with bigint fee rate and cap when the chain name is set', () => {
    expect(loadChainAdapterConfig(base).bitcoin).toBeUndefined();
    const c = loadChainAdapterConfig({ ...base, CUSTODY_BTC_CHAIN_NAME: 'bitcoin-regtest', CUSTODY_BTC_NETWORK: 'regtest', CUSTODY_BTC_FEE_RATE_SAT_PER_VB: '3', CUSTODY_BTC_MAX_FEE_SAT: '20000' });
    expect(c.bitcoin).toEqual({ asset: 'BTC', chain: 'bitcoin-regtest', network: 'regtest', feeRateSatPerVb: 3n, maxFeeSat: 20_000n, confirmations: 6 });
  });

  it.each([
    ['a fractional fee rate', { CUSTODY_BTC_FEE_RATE_SAT_PER_VB: '1.5' }, 'CUSTODY_BTC_FEE_RATE_SAT_PER_VB'],
    ['a zero fee cap', { CUSTODY_BTC_MAX_FEE_SAT: '0' }, 'CUSTODY_BTC_MAX_FEE_SAT'],
    ['an unknown network', { CUSTODY_BTC_NETWORK: 'signet' }, 'CUSTODY_BTC_NETWORK'],
  ])('refuses %s at boot', (_name, env, variable) => {
    expect(() => loadChainAdapterConfig({ ...base, CUSTODY_BTC_CHAIN_NAME: 'bitcoin-regtest', ...env })).toThrow(variable);
  });
});
