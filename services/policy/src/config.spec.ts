import { describe, expect, it } from '@jest/globals';
import { loadPolicyConfig } from './config.js';

const env = {
  CUSTODY_DB_URL: 'postgres://u:p@127.0.0.1:5432/custody',
  KAFKA_BROKERS: '127.0.0.1:9092',
  CUSTODY_GRPC_TLS: 'insecure',
  CUSTODY_POLICY_DECISION_KEY_ID: 'policy-2025-1',
  CUSTODY_POLICY_DECISION_KEY_FILE: '/run/secrets/policy-decision.key',
  CUSTODY_POLICY_OPERATORS_FILE: '/etc/custody/operators.json',
  CUSTODY_POLICY_FACTS_FILE: '/etc/custody/facts.json',
};

describe('policy config', () => {
  it('reads the environment once, with defaults', () => {
    const c = loadPolicyConfig(env);
    expect(c).toMatchObject({ decisionKey: { keyId: 'policy-2025-1', file: '/run/secrets/policy-decision.key' }, tokenTtlSeconds: 600, adminQuorum: 2, bundleFile: undefined, grpc: { port: 50053 } });
  });

  it('refuses to boot without the decision key, or with an admin quorum below 2', () => {
    const { CUSTODY_POLICY_DECISION_KEY_FILE: _omit, ...noKey } = env;
    expect(() => loadPolicyConfig(noKey)).toThrow(/CUSTODY_POLICY_DECISION_KEY_FILE/);
    expect(() => loadPolicyConfig({ ...env, CUSTODY_POLICY_ADMIN_QUORUM: '1' })).toThrow(/CUSTODY_POLICY_ADMIN_QUORUM/);
  });

  it('the ledger gRPC address is optional (no hold source: fail closed); with it, call deadline and hold wait (defaults 2 s / 30 s)', () => {
    expect(loadPolicyConfig(env).ledger).toBeUndefined();
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054' }).ledger).toEqual({ address: 'ledger:50054', tls: undefined, callTimeoutMs: 2_000, holdWaitMs: 30_000, hotWalletMonitorIntervalMs: 30_000 });
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054', CUSTODY_POLICY_HOT_WALLET_MONITOR_INTERVAL: '5m' }).ledger?.hotWalletMonitorIntervalMs).toBe(300_000);
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054', CUSTODY_POLICY_LEDGER_HOLD_WAIT: '1m' }).ledger?.holdWaitMs).toBe(60_000);
    expect(() => loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054', CUSTODY_POLICY_LEDGER_TIMEOUT: 'soon' })).toThrow(/CUSTODY_POLICY_LEDGER_TIMEOUT/);
  });

  it('audit gate: no endpoint → refuse every vote (fail closed); an endpoint → gRPC (mTLS files, or plaintext to loopback only) with a 3 s deadline; disabled only when asked, never together with an endpoint', () => {
    const mtls = { CUSTODY_POLICY_AUDIT_GRPC_CA_FILE: '/tls/ca.crt', CUSTODY_POLICY_AUDIT_GRPC_CERT_FILE: '/tls/tls.crt', CUSTODY_POLICY_AUDIT_GRPC_KEY_FILE: '/tls/tls.key' };
    expect(loadPolicyConfig(env).audit).toEqual({ mode: 'refuse', addressVariable: 'CUSTODY_POLICY_AUDIT_GRPC_ADDRESS' });
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: 'audit:50055', ...mtls }).audit).toEqual({
      mode: 'grpc',
      client: { address: 'audit:50055', tls: { caFile: '/tls/ca.crt', certFile: '/tls/tls.crt', keyFile: '/tls/tls.key' } },
      timeoutMs: 3_000,
    });
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: 'audit:50055', ...mtls, CUSTODY_POLICY_AUDIT_TIMEOUT: '500ms' }).audit).toMatchObject({ timeoutMs: 500 });
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_POLICY_AUDIT_GRPC_TLS: 'insecure' }).audit).toMatchObject({ mode: 'grpc', client: { tls: undefined } });
    expect(() => loadPolicyConfig({ ...env, CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: 'audit:50055' })).toThrow(/CUSTODY_POLICY_AUDIT_GRPC_CA_FILE/);
    expect(() => loadPolicyConfig({ ...env, CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: 'audit:50055', CUSTODY_POLICY_AUDIT_GRPC_TLS: 'insecure' })).toThrow(/CUSTODY_POLICY_AUDIT_GRPC_TLS/);
    expect(loadPolicyConfig({ ...env, CUSTODY_AUDIT_GATE: 'disabled' }).audit).toEqual({ mode: 'disabled' });
    expect(() => loadPolicyConfig({ ...env, CUSTODY_AUDIT_GATE: 'off' })).toThrow(/CUSTODY_AUDIT_GATE/);
    expect(() => loadPolicyConfig({ ...env, CUSTODY_AUDIT_GATE: 'disabled', CUSTODY_POLICY_AUDIT_GRPC_ADDRESS: 'audit:50055', ...mtls })).toThrow(/CUSTODY_AUDIT_GATE/);
  });
});
