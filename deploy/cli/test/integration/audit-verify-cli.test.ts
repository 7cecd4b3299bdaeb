// The BUILT `custody audit verify` runs the audit service's own verifier (services/audit
// dist/cli/verify.js, runVerify) on a REAL audit database (migrations as in production, read
// through the app role): an intact chain → 0, a record whose payload was changed behind the
// triggers → 1 naming the record, a database that cannot be reached → 3, settings it refuses → 2.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
// eslint-disable-next-line @nx/enforce-module-boundaries
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, GENESIS_HASH, recordHash } from '@custody/audit';
import { createTestDatabase, type TestDatabase } from '@custody/testing';
import { cli, root } from './support.js';

const run = promisify(execFile);

let db: TestDatabase;
function env(): NodeJS.ProcessEnv {
  const { CUSTODY_AUDIT_TRUSTED_KEYS: _none, ...rest } = process.env;
  return { ...rest, CUSTODY_DB_URL: db.appUrl, CUSTODY_AUDIT_DB_SCHEMA: db.schema };
}
const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** Appends operator records 1..n to the chain as the audit service would (hashes per docs/audit.md). */
async function appendRecords(n: number): Promise<void> {
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const payload = new TextEncoder().encode(JSON.stringify({ action: 'policy.approval.approve', n: i }));
    const at = new Date(Date.UTC(2025, 5, 2, 10, 0, i));
    const content = { sequence: BigInt(i), prevHash: prev, occurredAt: at, recordedAt: at, kind: 'operator' as const, actor: 'op-alice', action: 'policy.approval.approve', eventId: `ev-${i}`, correlationId: `corr-${i}`, causationId: '', producer: 'audit', payloadDigest: sha256(payload) };
    const hash = recordHash(content);
    await db.admin(
      `INSERT INTO audit_record (sequence, prev_hash, record_hash, occurred_at, recorded_at, kind, actor, action, event_id, correlation_id, causation_id, producer, payload_digest, payload)
       VALUES ($1, $2, $3, $4, $4, 'operator', 'op-alice', 'policy.approval.approve', $5, $6, '', 'audit', $7, $8)`,
      [i, Buffer.from(prev), Buffer.from(hash), at, `ev-${i}`, `corr-${i}`, Buffer.from(content.payloadDigest), Buffer.from(payload)],
    );
    prev = hash;
  }
  await db.admin(`UPDATE audit_chain SET last_sequence = $1, last_hash = $2`, [n, Buffer.from(prev)]);
}

beforeAll(async () => {
  const [, database] = await Promise.all([run('bash', [join(root, 'scripts/build.sh'), 'deploy/cli'], { cwd: root }), createTestDatabase({ service: 'audit', entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS })]);
  db = database;
}, 180_000);

afterAll(async () => {
  await db?.drop();
}, 60_000);

describe('custody audit verify (built CLI) on a real audit database', () => {
  it('an intact chain → exit 0 with the verifier report; progress on stderr', async () => {
    await appendRecords(3);
    const r = await cli(['audit', 'verify', '--json'], env());
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining(`verifying the audit chain (schema ${db.schema}`) });
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, recordsChecked: 3, lastGoodSequence: '3' });
  });

  it('a payload changed behind the triggers → exit 1 naming the record', async () => {
    await db.admin(`SET session_replication_role = replica; UPDATE audit_record SET payload = convert_to('{"forged":true}', 'UTF8') WHERE sequence = 2; SET session_replication_role = DEFAULT`);
    const r = await cli(['audit', 'verify'], env());
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 1, stderr: expect.any(String) });
    expect(r.stdout).toContain('audit chain BROKEN at record 2 (PAYLOAD_DIGEST_MISMATCH)');
    const j = await cli(['audit', 'verify', '--json'], env());
    expect(j.code).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, firstBreak: { sequence: '2', kind: 'PAYLOAD_DIGEST_MISMATCH' } });
  });

  it('the database cannot be reached → exit 3; no CUSTODY_DB_URL → exit 2', async () => {
    const down = await cli(['audit', 'verify', '--json'], { ...env(), CUSTODY_DB_URL: 'postgres://nobody:x@127.0.0.1:1/none' });
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stdout)).toMatchObject({ ok: false, exitCode: 3, reason: 'CANNOT_VERIFY' });
    const { CUSTODY_DB_URL: _omit, ...noUrl } = env();
    const usage = await cli(['audit', 'verify'], noUrl);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('CUSTODY_DB_URL');
    // A setting the verifier refuses is a usage error too.
    const badKeys = await cli(['audit', 'verify'], { ...env(), CUSTODY_AUDIT_TRUSTED_KEYS: 'not-a-key' });
    expect(badKeys.code).toBe(2);
    expect(badKeys.stderr).toContain('cannot verify');
  });
});
