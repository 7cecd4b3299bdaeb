// AuditService/RecordOperatorAction and its client (createOperatorActionGate) over real gRPC
// and PostgreSQL: a receipt only after the record committed; audit unwritable, unreachable,
// slower than the deadline or refusing → AuditUnavailableError and the action never runs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import { AuditServiceService } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { AuditUnavailableError, LocalEd25519Signer, createOperatorActionGate, runAudited, startAudit, type AuditHandle, type OperatorActionGate } from '../../src/index.js';
import { createTestDatabase, operatorAction, quietLogger, type TestDatabase } from './support.js';

let db: TestDatabase;
let bus: InProcessBus;
let audit: AuditHandle | undefined;
let gate: OperatorActionGate;

const refusal = async (p: Promise<unknown>): Promise<{ code: string; causeCode: number | undefined }> => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AuditUnavailableError);
  return { code: (err as AuditUnavailableError).code, causeCode: ((err as Error).cause as { code?: number } | undefined)?.code };
};

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  audit = await startAudit({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    signer: LocalEd25519Signer.generate('audit-k1'),
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    checkpointIntervalMs: 0,
  });
  gate = createOperatorActionGate({ address: `127.0.0.1:${audit.grpcPort}`, deadlineMs: 5_000 });
});

afterAll(async () => {
  gate?.close();
  await audit?.stop();
  await bus?.close();
  await db?.drop();
});

describe('C-9.3.9.4 fail closed over gRPC: an operator action is recorded by AuditService before it is performed, refused when audit cannot record it', () => {
  it('records over gRPC: the receipt names the committed record, whose payload holds the request digest; then the action runs', async () => {
    const action = operatorAction({ operatorId: 'op-dora', action: 'policy.approval.approve', target: 'decision-1', requestDigest: new Uint8Array(32).fill(0xa5) });
    const result = await runAudited(gate, action, async (receipt) => receipt);
    const rows = await db.admin<{ record_hash: Buffer; actor: string; action: string; correlation_id: string; payload: Buffer }>(
      `SELECT record_hash, actor, action, correlation_id, payload FROM audit_record WHERE sequence = $1`,
      [result.sequence.toString()],
    );
    expect(rows[0]).toMatchObject({ actor: 'op-dora', action: 'policy.approval.approve', correlation_id: action.correlationId });
    expect(Buffer.from(result.recordHash).toString('hex')).toBe(rows[0]?.record_hash.toString('hex'));
    expect(JSON.parse(rows[0]?.payload.toString('utf8') ?? '{}')).toMatchObject({ target: 'decision-1', request_digest: 'a5'.repeat(32), device_id: action.deviceId, source_ip: action.sourceIp });
    expect((await audit?.verify())?.ok).toBe(true);
  });

  it('an invalid action (no device) is refused by audit (INVALID_ARGUMENT) → the gate refuses, nothing is stored or performed', async () => {
    let performed = 0;
    const before = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM audit_record`);
    expect(await refusal(runAudited(gate, operatorAction({ deviceId: '' }), async () => performed++))).toEqual({ code: 'AUDIT_UNAVAILABLE', causeCode: status.INVALID_ARGUMENT });
    expect(performed).toBe(0);
    expect(await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM audit_record`)).toEqual(before);
  });

  it('audit database role lost INSERT → UNAVAILABLE from audit, the gate refuses, nothing performed; restored → recorded again', async () => {
    let performed = 0;
    await db.admin(`REVOKE INSERT ON audit_record FROM "${db.appRole}"`);
    try {
      expect(await refusal(runAudited(gate, operatorAction(), async () => performed++))).toEqual({ code: 'AUDIT_UNAVAILABLE', causeCode: status.UNAVAILABLE });
      expect(performed).toBe(0);
    } finally {
      await db.admin(`GRANT INSERT ON audit_record TO "${db.appRole}"`);
    }
    await runAudited(gate, operatorAction(), async () => performed++);
    expect(performed).toBe(1);
  });

  it('audit slower than the deadline (a server that never answers) → DEADLINE_EXCEEDED, refused, nothing performed', async () => {
    const silent = new Server();
    silent.addService(AuditServiceService, { recordOperatorAction: () => undefined });
    const port = await new Promise<number>((resolve, reject) => silent.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))));
    const slowGate = createOperatorActionGate({ address: `127.0.0.1:${port}`, deadlineMs: 300 });
    let performed = 0;
    try {
      expect(await refusal(runAudited(slowGate, operatorAction(), async () => performed++))).toEqual({ code: 'AUDIT_UNAVAILABLE', causeCode: status.DEADLINE_EXCEEDED });
      expect(performed).toBe(0);
    } finally {
      slowGate.close();
      silent.forceShutdown();
    }
  });

  it('audit server stopped → UNAVAILABLE, refused, nothing performed', async () => {
    await audit?.stop();
    audit = undefined;
    let performed = 0;
    expect(await refusal(runAudited(gate, operatorAction(), async () => performed++))).toEqual({ code: 'AUDIT_UNAVAILABLE', causeCode: status.UNAVAILABLE });
    expect(performed).toBe(0);
  });
});
