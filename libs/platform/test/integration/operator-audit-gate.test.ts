// The platform's operator-action audit gate client (createOperatorAuditGate) against a
// stand-in AuditService on 127.0.0.1: the fields sent, a receipt only from a committed record,
// refused (AuditUnavailableError, AUDIT_UNAVAILABLE) on an error status, a malformed receipt,
// the deadline and nothing listening. The real audit service is exercised by the root-level
// tests test/integration/{policy,admin}-audit-gate.test.ts (a lib cannot import a service).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Server, ServerCredentials, credentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { AuditServiceService, type RecordOperatorActionRequest, type RecordOperatorActionResponse } from '@custody/contracts';
import { AuditUnavailableError, createOperatorAuditGate, recordOperatorAction, type OperatorActionRecord } from '../../src/operator-audit-gate.js';

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
