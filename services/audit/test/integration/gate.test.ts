// AuditGate against real PostgreSQL: operator actions are recorded with every field an
// investigator needs, and refused when the audit log cannot be written (fail closed).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessBus } from '@custody/event-bus';
import { AuditUnavailableError, LocalEd25519Signer, runAudited, startAudit, type AuditHandle } from '../../src/index.js';
import { createTestDatabase, operatorAction, quietLogger, type TestDatabase } from './support.js';

let db: TestDatabase;
let bus: InProcessBus;
let audit: AuditHandle;

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  audit = await startAudit({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), signer: LocalEd25519Signer.generate('audit-k1'), checkpointIntervalMs: 0 });
});

afterAll(async () => {
  await audit?.stop();
  await bus?.close();
  await db?.drop();
});

describe('C-9.3.6.2-d operator audit trail: an admin action is recorded with identity, device, source IP, time and request/approval ids', () => {
  it('the record and its hashed payload carry every field', async () => {
    const action = operatorAction({ operatorId: 'op-carol', deviceId: 'bastion-2', sourceIp: '2001:db8::7', approvalIds: ['ap-9', 'ap-10'] });
    const receipt = await runAudited(audit.gate, action, async (r) => r);
    const rows = await db.admin<{ kind: string; actor: string; action: string; causation_id: string; correlation_id: string; occurred_at: Date; payload: Buffer }>(
      `SELECT kind, actor, action, causation_id, correlation_id, occurred_at, payload FROM audit_record WHERE sequence = $1`,
      [receipt.sequence.toString()],
    );
    const row = rows[0];
    expect(row).toMatchObject({ kind: 'operator', actor: 'op-carol', action: 'policy.bundle.activate', causation_id: action.requestId, correlation_id: action.correlationId });
    expect(row?.occurred_at.toISOString()).toBe(action.occurredAt.toISOString());
    expect(JSON.parse(row?.payload.toString('utf8') ?? '{}')).toEqual({
      action: 'policy.bundle.activate',
      approval_ids: ['ap-9', 'ap-10'],
      correlation_id: action.correlationId,
      device_id: 'bastion-2',
      occurred_at: action.occurredAt.toISOString(),
      operator_id: 'op-carol',
      request_id: action.requestId,
      source_ip: '2001:db8::7',
      target: 'sha256:0f0f',
    });
    expect((await audit.verify()).ok).toBe(true);
  });

  it('an action missing its device or source IP is refused and nothing is stored or performed', async () => {
    let performed = 0;
    const before = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM audit_record`);
    await expect(runAudited(audit.gate, operatorAction({ deviceId: '' }), async () => performed++)).rejects.toMatchObject({ code: 'OPERATOR_ACTION_INVALID', field: 'device_id' });
    await expect(runAudited(audit.gate, operatorAction({ sourceIp: 'somewhere' }), async () => performed++)).rejects.toMatchObject({ code: 'OPERATOR_ACTION_INVALID', field: 'source_ip' });
    expect(performed).toBe(0);
    expect(await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM audit_record`)).toEqual(before);
  });
});

describe('fail closed: if the audit log cannot be written, operator administrative actions are refused', () => {
  it('with INSERT revoked from the runtime role the action is refused (AUDIT_UNAVAILABLE) and never performed; restored -> allowed', async () => {
    let performed = 0;
    await db.admin(`REVOKE INSERT ON audit_record FROM "${db.appRole}"`);
    try {
      const err = await runAudited(audit.gate, operatorAction(), async () => performed++).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuditUnavailableError);
      expect(err).toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
      expect(performed).toBe(0);
    } finally {
      await db.admin(`GRANT INSERT ON audit_record TO "${db.appRole}"`);
    }
    await runAudited(audit.gate, operatorAction(), async () => performed++);
    expect(performed).toBe(1);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('with the database refusing writes (default_transaction_read_only for the role, new sessions) the action is refused', async () => {
    let performed = 0;
    await db.admin(`ALTER ROLE "${db.appRole}" SET default_transaction_read_only = on`);
    // Existing pooled sessions keep their settings: terminate them so the pool reconnects.
    await db.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [db.appRole]);
    try {
      // The first attempts may meet a terminated pooled session; within a few the pool
      // reconnects and the database itself refuses the write.
      const causes: string[] = [];
      for (let attempt = 0; attempt < 5 && !causes.some((c) => /read-only transaction/.test(c)); attempt++) {
        const err = await runAudited(audit.gate, operatorAction(), async () => performed++).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(AuditUnavailableError);
        causes.push(String((err as Error).cause));
      }
      expect(causes.some((c) => /read-only transaction/.test(c))).toBe(true);
      expect(performed).toBe(0);
    } finally {
      await db.admin(`ALTER ROLE "${db.appRole}" RESET default_transaction_read_only`);
      await db.admin(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [db.appRole]);
    }
    // The pool recovers once the database is writable again (bounded retries: dead sessions are replaced).
    for (let attempt = 0; attempt < 5 && performed === 0; attempt++) {
      await runAudited(audit.gate, operatorAction(), async () => performed++).catch(() => undefined);
    }
    expect(performed).toBe(1);
    expect((await audit.verify()).ok).toBe(true);
  });
});
