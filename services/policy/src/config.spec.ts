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
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054' }).ledger).toEqual({ address: 'ledger:50054', tls: undefined, callTimeoutMs: 2_000, holdWaitMs: 30_000 });
    expect(loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054', CUSTODY_POLICY_LEDGER_HOLD_WAIT: '1m' }).ledger?.holdWaitMs).toBe(60_000);
    expect(() => loadPolicyConfig({ ...env, CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: 'ledger:50054', CUSTODY_POLICY_LEDGER_TIMEOUT: 'soon' })).toThrow(/CUSTODY_POLICY_LEDGER_TIMEOUT/);
  });
});
