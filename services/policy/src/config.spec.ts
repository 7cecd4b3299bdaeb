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
});
