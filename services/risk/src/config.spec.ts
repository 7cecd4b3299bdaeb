// The operator audit gate settings risk reads (CustomerProfileService upserts are audited first).
import { describe, expect, it } from '@jest/globals';
import { loadRiskConfig } from './config.js';

const BASE = {
  CUSTODY_PG_ADMIN_URL: 'postgres://admin:pw@127.0.0.1:5432/custody',
  CUSTODY_RISK_DB_OWNER_PASSWORD: 'owner-password-1',
  CUSTODY_RISK_DB_APP_PASSWORD: 'app-password-12',
  KAFKA_BROKERS: '127.0.0.1:9092',
  CUSTODY_TLS_CERT_FILE: '/tls/tls.crt',
  CUSTODY_TLS_KEY_FILE: '/tls/tls.key',
  CUSTODY_TLS_CLIENT_CA_FILE: '/tls/ca.crt',
};

describe('risk config: operator audit gate', () => {
  it('no audit address: every upsert is refused (fail closed)', () => {
    expect(loadRiskConfig({ ...BASE }).audit).toEqual({ mode: 'refuse', addressVariable: 'CUSTODY_RISK_AUDIT_GRPC_ADDRESS' });
  });

  it('an address: the gRPC gate with its deadline (default 3 s)', () => {
    const audit = loadRiskConfig({ ...BASE, CUSTODY_RISK_AUDIT_GRPC_ADDRESS: '127.0.0.1:50051', CUSTODY_RISK_AUDIT_GRPC_TLS: 'insecure', CUSTODY_RISK_AUDIT_TIMEOUT: '2s' }).audit;
    expect(audit).toMatchObject({ mode: 'grpc', client: { address: '127.0.0.1:50051' }, timeoutMs: 2_000 });
  });

  it('plaintext to a non-loopback audit address is refused; disabled together with an address is an error', () => {
    expect(() => loadRiskConfig({ ...BASE, CUSTODY_RISK_AUDIT_GRPC_ADDRESS: 'audit.custody.svc:50051', CUSTODY_RISK_AUDIT_GRPC_TLS: 'insecure' })).toThrow(/CUSTODY_RISK_AUDIT_GRPC/);
    expect(() => loadRiskConfig({ ...BASE, CUSTODY_RISK_AUDIT_GRPC_ADDRESS: '127.0.0.1:50051', CUSTODY_RISK_AUDIT_GRPC_TLS: 'insecure', CUSTODY_AUDIT_GATE: 'disabled' })).toThrow(/CUSTODY_AUDIT_GATE/);
    expect(loadRiskConfig({ ...BASE, CUSTODY_AUDIT_GATE: 'disabled' }).audit).toEqual({ mode: 'disabled' });
  });
});
