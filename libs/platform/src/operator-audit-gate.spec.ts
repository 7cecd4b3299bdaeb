// The operator-action audit gate: configuration (fail closed) and the gRPC client against a
// stand-in AuditService on 127.0.0.1 (the real audit service is exercised by the root-level
// integration tests, test/integration/*-audit-gate.test.ts; a lib cannot import a service).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { Server, ServerCredentials, credentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AuditServiceService, type RecordOperatorActionRequest, type RecordOperatorActionResponse } from '@custody/contracts';
import { defineConfig } from './config.js';
import {
  AuditUnavailableError,
  createOperatorAuditGate,
  operatorAuditEnv,
  operatorAuditGateFor,
  operatorAuditSettings,
  operatorRequestDigest,
  recordOperatorAction,
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

describe('createOperatorAuditGate against an AuditService on 127.0.0.1', () => {
  type Answer = (req: RecordOperatorActionRequest, cb: sendUnaryData<RecordOperatorActionResponse>) => void;
  let answer: Answer = () => undefined;
  const received: { req: RecordOperatorActionRequest; correlation: unknown }[] = [];
  const server = new Server();
  let port = 0;

  beforeAll(async () => {
    server.addService(AuditServiceService, {
      recordOperatorAction: (call: ServerUnaryCall<RecordOperatorActionRequest, RecordOperatorActionResponse>, cb: sendUnaryData<RecordOperatorActionResponse>) => {
        received.push({ req: call.request, correlation: call.metadata.get('x-correlation-id')[0] });
        answer(call.request, cb);
      },
    });
    port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
  });
  afterAll(() => {
    server.forceShutdown();
  });

  const gate = (timeoutMs = 5_000) => createOperatorAuditGate({ address: `127.0.0.1:${port}`, credentials: credentials.createInsecure(), timeoutMs });

  it('sends every field and resolves with the receipt only when audit committed', async () => {
    answer = (_req, cb) => cb(null, { sequence: '42', recordHash: Buffer.alloc(32, 1) } as RecordOperatorActionResponse);
    const g = gate();
    try {
      const receipt = await recordOperatorAction(g, action);
      expect(receipt).toEqual({ sequence: 42n, recordHash: new Uint8Array(32).fill(1) });
      const last = received[received.length - 1];
      expect(last?.correlation).toBe('corr-1');
      expect(last?.req).toMatchObject({
        actor: 'op-alice',
        action: 'intake.integrator.register',
        target: 'client-acme',
        deviceId: 'key:op-alice-k1',
        sourceIp: '127.0.0.1',
        requestId: 'req-1',
        approvalIds: ['op-bob'],
        correlationId: 'corr-1',
        occurredAt: { seconds: String(Date.parse('2026-11-24T10:00:00Z') / 1000), nanos: 0 },
      });
      expect(Buffer.from(last?.req.requestDigest ?? [])).toEqual(Buffer.alloc(32, 0xab));
    } finally {
      g.close();
    }
  });

  it.each<[string, Answer]>([
    ['audit refuses (UNAVAILABLE)', (_r, cb) => cb({ code: status.UNAVAILABLE, details: 'log cannot be written' })],
    ['audit answers without a sequence', (_r, cb) => cb(null, { sequence: '0', recordHash: Buffer.alloc(32) } as RecordOperatorActionResponse)],
    ['audit answers a short record hash', (_r, cb) => cb(null, { sequence: '7', recordHash: Buffer.alloc(31) } as RecordOperatorActionResponse)],
  ])('%s → AuditUnavailableError (AUDIT_UNAVAILABLE)', async (_what, a) => {
    answer = a;
    const g = gate();
    try {
      await expect(recordOperatorAction(g, action)).rejects.toMatchObject({ name: 'AuditUnavailableError', code: 'AUDIT_UNAVAILABLE' });
    } finally {
      g.close();
    }
  });

  it('audit that never answers → refused at the deadline', async () => {
    answer = () => undefined;
    const g = gate(200);
    try {
      await expect(recordOperatorAction(g, action)).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    } finally {
      g.close();
    }
  });

  it('nothing listening → refused', async () => {
    const closed = new Server();
    const free = await new Promise<number>((resolve, reject) => closed.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    closed.forceShutdown();
    const g = createOperatorAuditGate({ address: `127.0.0.1:${free}`, credentials: credentials.createInsecure(), timeoutMs: 2_000 });
    try {
      await expect(recordOperatorAction(g, action)).rejects.toBeInstanceOf(AuditUnavailableError);
    } finally {
      g.close();
    }
  });

  it('a non-positive deadline is a programming error', () => {
    expect(() => createOperatorAuditGate({ address: '127.0.0.1:1', credentials: credentials.createInsecure(), timeoutMs: 0 })).toThrow(/timeoutMs/);
  });
});
