// The operator-action audit gate without I/O: configuration (fail closed), the refusing gate
// and the request digest. The gRPC client: test/integration/operator-audit-gate.test.ts.
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { defineConfig } from './config.js';
import {
  AuditUnavailableError,
  operatorAuditEnv,
  operatorAuditGateFor,
  operatorAuditSettings,
  operatorRequestDigest,
  refusingOperatorAuditGate,
  type OperatorActionRecord,
  type OperatorAuditSettings,
} from './operator-audit-gate.js';

const NAMES = {
  address: 'CUSTODY_TEST_AUDIT_GRPC_ADDRESS',
  tls: 'CUSTODY_TEST_AUDIT_GRPC_TLS',
  caFile: 'CUSTODY_TEST_AUDIT_GRPC_CA_FILE',
  certFile: 'CUSTODY_TEST_AUDIT_GRPC_CERT_FILE',
  keyFile: 'CUSTODY_TEST_AUDIT_GRPC_KEY_FILE',
  timeout: 'CUSTODY_TEST_AUDIT_TIMEOUT',
  gate: 'CUSTODY_AUDIT_GATE',
} as const;
const load = (env: Record<string, string>): OperatorAuditSettings => operatorAuditSettings(defineConfig(operatorAuditEnv(NAMES), env), NAMES);
const loadError = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a config error');
};

const action: OperatorActionRecord = {
  operatorId: 'op-alice',
  action: 'intake.integrator.register',
  target: 'client-acme',
  deviceId: 'key:op-alice-k1',
  sourceIp: '127.0.0.1',
  requestId: 'req-1',
  approvalIds: ['op-bob'],
  correlationId: 'corr-1',
  occurredAt: new Date('2026-11-24T10:00:00.000Z'),
  requestDigest: new Uint8Array(32).fill(0xab),
};

describe('operatorAuditEnv / operatorAuditSettings: fail closed', () => {
  it('no address: every admin action refused (mode refuse, naming the variable)', () => {
    expect(load({})).toEqual({ mode: 'refuse', addressVariable: 'CUSTODY_TEST_AUDIT_GRPC_ADDRESS' });
  });

  it('CUSTODY_AUDIT_GATE=disabled without an address: unaudited (dev only)', () => {
    expect(load({ CUSTODY_AUDIT_GATE: 'disabled' })).toEqual({ mode: 'disabled' });
  });

  it('an address with mtls files: the gRPC gate, default deadline 3 s, or the configured one', () => {
    const files = { CUSTODY_TEST_AUDIT_GRPC_CA_FILE: '/ca.crt', CUSTODY_TEST_AUDIT_GRPC_CERT_FILE: '/tls.crt', CUSTODY_TEST_AUDIT_GRPC_KEY_FILE: '/tls.key' };
    expect(load({ CUSTODY_TEST_AUDIT_GRPC_ADDRESS: 'audit.custody.svc:50051', ...files })).toEqual({
      mode: 'grpc',
      client: { address: 'audit.custody.svc:50051', tls: { caFile: '/ca.crt', certFile: '/tls.crt', keyFile: '/tls.key' } },
      timeoutMs: 3_000,
    });
    expect(load({ CUSTODY_TEST_AUDIT_GRPC_ADDRESS: 'audit.custody.svc:50051', ...files, CUSTODY_TEST_AUDIT_TIMEOUT: '500ms' })).toMatchObject({ timeoutMs: 500 });
  });

  it('plaintext only to loopback, and only when chosen', () => {
    expect(load({ CUSTODY_TEST_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_TEST_AUDIT_GRPC_TLS: 'insecure' })).toEqual({ mode: 'grpc', client: { address: '127.0.0.1:50055', tls: undefined }, timeoutMs: 3_000 });
    expect(loadError({ CUSTODY_TEST_AUDIT_GRPC_ADDRESS: 'audit:50055', CUSTODY_TEST_AUDIT_GRPC_TLS: 'insecure' })).toMatch(/CUSTODY_TEST_AUDIT_GRPC_TLS/);
    expect(loadError({ CUSTODY_TEST_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055' })).toMatch(/CUSTODY_TEST_AUDIT_GRPC_CA_FILE/);
  });

  it('refuses a disabled gate together with an address, an unknown gate value and a bad deadline', () => {
    expect(loadError({ CUSTODY_AUDIT_GATE: 'disabled', CUSTODY_TEST_AUDIT_GRPC_ADDRESS: '127.0.0.1:50055', CUSTODY_TEST_AUDIT_GRPC_TLS: 'insecure' })).toMatch(/CUSTODY_AUDIT_GATE/);
    expect(loadError({ CUSTODY_AUDIT_GATE: 'off' })).toMatch(/CUSTODY_AUDIT_GATE/);
    expect(loadError({ CUSTODY_TEST_AUDIT_TIMEOUT: 'soon' })).toMatch(/CUSTODY_TEST_AUDIT_TIMEOUT/);
  });

  it('operatorAuditGateFor: refuse → a gate that refuses AUDIT_UNAVAILABLE; disabled → no gate', async () => {
    const gate = operatorAuditGateFor({ mode: 'refuse', addressVariable: 'CUSTODY_TEST_AUDIT_GRPC_ADDRESS' });
    await expect(gate?.record(action)).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(operatorAuditGateFor({ mode: 'disabled' })).toBeUndefined();
    await expect(refusingOperatorAuditGate('X').record(action)).rejects.toBeInstanceOf(AuditUnavailableError);
  });
});

describe('operatorRequestDigest', () => {
  it('is SHA-256 over the domain and length-prefixed parts (no ambiguity between splits)', () => {
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('d\0'), Buffer.from([0, 0, 0, 2]), Buffer.from('ab'), Buffer.from([0, 0, 0, 1]), Buffer.from([7])]))
      .digest();
    expect(Buffer.from(operatorRequestDigest('d', ['ab', new Uint8Array([7])]))).toEqual(expected);
    expect(operatorRequestDigest('d', ['ab', 'c'])).not.toEqual(operatorRequestDigest('d', ['a', 'bc']));
    expect(operatorRequestDigest('d', ['x'])).toHaveLength(32);
  });
});
