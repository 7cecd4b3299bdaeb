// The README's run command, as a newcomer runs it: `npm start` (here with --once so it
// exits after the walkthrough). Real PostgreSQL from node_modules, the in-process bus.
import { describe, it, expect } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../../..');

describe('npm start (embedded default)', () => {
  it('runs the walkthrough end to end: every effect once, the duplicate absorbed, the poison record dead-lettered', () => {
    const run = spawnSync('node', ['scripts/start.mjs', '--once'], {
      cwd: root,
      encoding: 'utf8',
      timeout: 180_000,
      // Any free ports: a developer's own `npm start` may hold the defaults.
      env: { ...process.env, CUSTODY_GRPC_PORT: '0', CUSTODY_METRICS_PORT: '0', CUSTODY_WALKTHROUGH_EVENTS: '120' },
    });
    expect(run.stderr).not.toMatch(/Error/);
    expect(run.status).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/withdrawal requests stored with their event \(one transaction\): 120\n/);
    expect(out).toMatch(/effects applied exactly once:\s+120\n/);
    expect(out).toMatch(/duplicate deliveries absorbed by the inbox:\s+1\n/);
    expect(out).toMatch(/dead-lettered \(undecodable record, partition moved on\):\s+1 — DECODE_FAILED/);
    // 120 requests of 1,000,000 + i*1,000 base units: 120e6 + 1000 * (119*120/2)
    expect(out).toMatch(new RegExp(`amount requested = amount applied \\(base units, bigint\\):\\s+${120_000_000n + 1_000n * 7_140n}\\n`));
    expect(out).toMatch(/gRPC\s+127\.0\.0\.1:\d+ \(health \+ reflection\)/);
  });
});
