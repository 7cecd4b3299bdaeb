// The audit log against real PostgreSQL: privileges of the runtime role, single-writer
// appends under concurrency, checkpoints, and tampering by a database superuser.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { InProcessBus } from '@custody/event-bus';
import { LocalEd25519Signer, recordHash, startAudit, type AuditHandle } from '../../src/index.js';
import { runVerify } from '../../src/cli/verify.js';
import { createTestDatabase, operatorAction, quietLogger, type TestDatabase } from './support.js';

const signer = LocalEd25519Signer.generate('audit-k1');
let db: TestDatabase;
let bus: InProcessBus;
let audit: AuditHandle;

const pgError = async (p: Promise<unknown>): Promise<{ code: string; message: string }> => {
  try {
    await p;
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? '', message: err.message };
  }
  throw new Error('expected the statement to fail');
};

interface Row {
  sequence: string;
  prev_hash: Buffer;
  record_hash: Buffer;
  occurred_at: Date;
  recorded_at: Date;
  kind: string;
  actor: string;
  action: string;
  event_id: string;
  correlation_id: string;
  causation_id: string;
  producer: string;
  payload_digest: Buffer;
  payload: Buffer;
}

/** Superuser statements that bypass the append-only triggers (an attacker with DB superuser). */
const tamperSteps = async (steps: [string, unknown[]?][]): Promise<void> => {
  await db.admin('SET session_replication_role = replica');
  try {
    for (const [sql, params] of steps) await db.admin(sql, params ?? []);
  } finally {
    await db.admin('SET session_replication_role = origin');
  }
};

const trusted = `audit-k1:${Buffer.from(signer.publicKey).toString('hex')}`;
const cliEnv = () => ({ CUSTODY_DB_URL: db.appUrl, CUSTODY_AUDIT_DB_SCHEMA: db.schema, CUSTODY_AUDIT_TRUSTED_KEYS: trusted });

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  audit = await startAudit({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), signer, checkpointIntervalMs: 0 });
  // 40 records, a checkpoint at 20 and at 40.
  for (let i = 0; i < 20; i++) await audit.gate.record(operatorAction({ operatorId: `op-${i % 3}` }));
  await audit.checkpoint();
  for (let i = 0; i < 20; i++) await audit.gate.record(operatorAction({ operatorId: `op-${i % 3}` }));
  await audit.checkpoint();
});

afterAll(async () => {
  await audit?.stop();
  await bus?.close();
  await db?.drop();
});

describe('C-9.3.9.4-f append-only audit log: the runtime role has INSERT and SELECT only', () => {
  it('UPDATE, DELETE and TRUNCATE as the app role are refused with permission denied', async () => {
    for (const sql of [
      `UPDATE audit_record SET actor = 'someone-else' WHERE sequence = 1`,
      `DELETE FROM audit_record WHERE sequence = 1`,
      `TRUNCATE audit_record`,
      `UPDATE audit_checkpoint SET key_id = 'x'`,
      `DELETE FROM audit_checkpoint`,
      `INSERT INTO audit_chain (chain_id, last_sequence, last_hash) VALUES ('fork', 0, '\\x00')`,
    ]) {
      const err = await pgError(db.as(db.appUrl, sql));
      expect(err.code).toBe('42501');
      expect(err.message).toMatch(/permission denied/);
    }
    const count = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM audit_record`);
    expect(count[0]?.n).toBe('40');
  });

  it('the schema owner, who has the privileges, is stopped by the append-only triggers', async () => {
    for (const sql of [`UPDATE audit_record SET actor = 'x' WHERE sequence = 2`, `DELETE FROM audit_record WHERE sequence = 2`, `TRUNCATE audit_checkpoint`]) {
      const err = await pgError(db.as(db.ownerUrl, sql));
      expect(err.message).toMatch(/audit log is append-only/);
    }
  });

  it('the service refuses to start if its runtime role could rewrite the log (fail closed)', async () => {
    await db.admin(`GRANT UPDATE ON audit_record TO "${db.appRole}"`);
    try {
      await expect(startAudit({ bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), signer, checkpointIntervalMs: 0 })).rejects.toThrow(
        /UPDATE on audit_record/,
      );
    } finally {
      await db.admin(`REVOKE UPDATE ON audit_record FROM "${db.appRole}"`);
    }
  });
});

describe('single writer: concurrent appends never fork the chain', () => {
  it('200 concurrent appends get sequences 41..240 with no gap or fork, and the chain verifies', async () => {
    await Promise.all(Array.from({ length: 200 }, (_, i) => audit.gate.record(operatorAction({ operatorId: `op-c${i % 7}` }))));
    const rows = await db.admin<{ s: string }>(`SELECT sequence::text AS s FROM audit_record WHERE sequence > 40 ORDER BY sequence`);
    expect(rows.map((r) => r.s)).toEqual(Array.from({ length: 200 }, (_, i) => String(41 + i)));
    const report = await audit.verify();
    expect(report).toMatchObject({ ok: true, recordsChecked: 240, checkpointsChecked: 2 });
    await audit.checkpoint();
  });
});

describe('C-9.3.9.4-f tamper-evident log: a superuser edit is named by the verifier (function and CLI)', () => {
  const row = async (sequence: number): Promise<Row> => {
    const rows = await db.admin<Row>(`SELECT * FROM audit_record WHERE sequence = $1`, [sequence]);
    if (!rows[0]) throw new Error(`no record ${sequence}`);
    return rows[0];
  };
  const reinsert = (r: Row): [string, unknown[]] => [
    `INSERT INTO audit_record (sequence, prev_hash, record_hash, occurred_at, recorded_at, kind, actor, action, event_id, correlation_id, causation_id, producer, payload_digest, payload)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
    [r.sequence, r.prev_hash, r.record_hash, r.occurred_at, r.recorded_at, r.kind, r.actor, r.action, r.event_id, r.correlation_id, r.causation_id, r.producer, r.payload_digest, r.payload],
  ];

  it('the untouched chain verifies, through the CLI too', async () => {
    const outcome = await runVerify([], cliEnv());
    expect(outcome.exitCode).toBe(0);
    expect(outcome.output).toMatch(/intact: 240 records, 3 signed checkpoints/);
  });

  it('UPDATE of a payload -> record 17 named (PAYLOAD_DIGEST_MISMATCH); restored -> intact', async () => {
    const original = await row(17);
    await tamperSteps([[`UPDATE audit_record SET payload = convert_to('{"action":"nothing.happened"}', 'UTF8') WHERE sequence = 17`]]);
    const report = await audit.verify();
    expect(report.firstBreak).toMatchObject({ sequence: 17n, kind: 'PAYLOAD_DIGEST_MISMATCH' });
    const cli = await runVerify(['--json'], cliEnv());
    expect(cli.exitCode).toBe(1);
    expect(JSON.parse(cli.output)).toMatchObject({ ok: false, firstBreak: { sequence: '17', kind: 'PAYLOAD_DIGEST_MISMATCH' }, lastGoodSequence: '16' });
    await tamperSteps([[`UPDATE audit_record SET payload = $1 WHERE sequence = 17`, [original.payload]]]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('UPDATE of a field (actor) -> record 5 named (RECORD_HASH_MISMATCH)', async () => {
    const original = await row(5);
    await tamperSteps([[`UPDATE audit_record SET actor = 'op-mallory' WHERE sequence = 5`]]);
    expect((await audit.verify()).firstBreak).toMatchObject({ sequence: 5n, kind: 'RECORD_HASH_MISMATCH' });
    await tamperSteps([[`UPDATE audit_record SET actor = $1 WHERE sequence = 5`, [original.actor]]]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('DELETE of a row -> record 33 named as missing (CLI exit 1 names it)', async () => {
    const original = await row(33);
    await tamperSteps([[`DELETE FROM audit_record WHERE sequence = 33`]]);
    expect((await audit.verify()).firstBreak).toMatchObject({ sequence: 33n, kind: 'RECORD_MISSING' });
    const cli = await runVerify([], cliEnv());
    expect(cli.exitCode).toBe(1);
    expect(cli.output).toMatch(/BROKEN at record 33 \(RECORD_MISSING\)/);
    await tamperSteps([reinsert(original)]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('reordering two rows (swapped sequence numbers) -> record 8 named', async () => {
    const swap = (): Promise<void> =>
      tamperSteps([
        [`UPDATE audit_record SET sequence = 1000000 WHERE sequence = 8`],
        [`UPDATE audit_record SET sequence = 8 WHERE sequence = 9`],
        [`UPDATE audit_record SET sequence = 9 WHERE sequence = 1000000`],
      ]);
    await swap();
    expect((await audit.verify()).firstBreak).toMatchObject({ sequence: 8n, kind: 'RECORD_HASH_MISMATCH' });
    await swap();
    expect((await audit.verify()).ok).toBe(true);
  });

  it('a consistent rewrite (every later hash recomputed, head moved) is caught by the signed checkpoint at 40', async () => {
    const rows = await db.admin<Row>(`SELECT * FROM audit_record WHERE sequence >= 25 ORDER BY sequence`);
    const before = rows.map((r) => ({ ...r }));
    let prev = (await row(24)).record_hash;
    const steps: [string, unknown[]][] = [];
    for (const r of rows) {
      const content = {
        sequence: BigInt(r.sequence),
        prevHash: prev,
        occurredAt: r.occurred_at,
        recordedAt: r.recorded_at,
        kind: r.kind as 'event' | 'operator',
        actor: r.sequence === '25' ? 'op-mallory' : r.actor,
        action: r.action,
        eventId: r.event_id,
        correlationId: r.correlation_id,
        causationId: r.causation_id,
        producer: r.producer,
        payloadDigest: r.payload_digest,
      };
      const hash = Buffer.from(recordHash(content));
      steps.push([`UPDATE audit_record SET actor = $2, prev_hash = $3, record_hash = $4 WHERE sequence = $1`, [r.sequence, content.actor, prev, hash]]);
      prev = hash;
    }
    // unique(record_hash)/unique(prev_hash) would collide mid-way: clear them first.
    await tamperSteps([
      [`ALTER TABLE audit_record DROP CONSTRAINT audit_record_record_hash, DROP CONSTRAINT audit_record_prev_hash`],
      ...steps,
      [`UPDATE audit_chain SET last_hash = $1`, [prev]],
    ]);
    const report = await audit.verify();
    expect(report.firstBreak).toMatchObject({ sequence: 40n, kind: 'CHECKPOINT_MISMATCH' });
    expect(report.lastGoodSequence).toBe(39n);
    // put everything back
    await tamperSteps([
      ...before.map((r): [string, unknown[]] => [`UPDATE audit_record SET actor = $2, prev_hash = $3, record_hash = $4 WHERE sequence = $1`, [r.sequence, r.actor, r.prev_hash, r.record_hash]]),
      [`UPDATE audit_chain SET last_hash = $1`, [before[before.length - 1]?.record_hash]],
      [`ALTER TABLE audit_record ADD CONSTRAINT audit_record_record_hash UNIQUE (record_hash), ADD CONSTRAINT audit_record_prev_hash UNIQUE (prev_hash)`],
    ]);
    expect((await audit.verify()).ok).toBe(true);
  });

  it('a checkpoint verified with the wrong trusted key is refused by the CLI', async () => {
    const other = LocalEd25519Signer.generate('audit-k1');
    const cli = await runVerify([], { ...cliEnv(), CUSTODY_AUDIT_TRUSTED_KEYS: `audit-k1:${Buffer.from(other.publicKey).toString('hex')}` });
    expect(cli.exitCode).toBe(1);
    expect(cli.output).toMatch(/BROKEN at record 20 \(CHECKPOINT_BAD_SIGNATURE\)/);
  });
});
