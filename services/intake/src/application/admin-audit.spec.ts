// Every operator admin action of intake (register, revoke, rotate key, schedule and cancel
// maintenance) is recorded through the audit gate BEFORE the store is touched, with the
// operator's evidence; a gate that does not record it → AUDIT_UNAVAILABLE and the store is
// never called. In-memory fakes of the ports (the real audit service: the root-level
// test/integration/admin-audit-gate.test.ts).
import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { OperatorActionRecord, OperatorAuditGate } from '@custody/platform';
import { AssetRegistry, DEFAULT_ASSETS } from '../domain/asset-registry.js';
import type { Integrator } from '../domain/integrator.js';
import type { MaintenanceWindow } from '../domain/maintenance.js';
import { ADMIN_AUDIT_ACTIONS, ADMIN_REQUEST_DIGEST_DOMAIN } from './admin-audit.js';
import { IntegratorAdmin } from './integrators.js';
import { MaintenanceUseCases } from './maintenance.js';
import type { OperatorActor } from './operator-auth.js';
import type { AdminRecord, IntegratorAdminStore, MaintenanceStore, NewIntegrator } from './ports.js';

const NOW = new Date('2026-11-24T10:00:00.000Z');
const clock = { now: () => NOW };
const registry = new AssetRegistry(DEFAULT_ASSETS);
const actor: OperatorActor = {
  operatorId: 'op-alice',
  certificateSha256: 'ab'.repeat(32),
  sourceAddress: '10.1.2.3',
  evidence: { keyId: 'op-alice-k1', algorithm: 'ed25519', signature: new Uint8Array(64).fill(9), signedPayload: new TextEncoder().encode('signed bytes') },
};
const pub = (): string => Buffer.from(ed25519.getPublicKey(ed25519.utils.randomSecretKey())).toString('hex');

/** Log of what happened, in order: "audit:<action>" and "store:<method>". */
function fakes(gateRecords: boolean) {
  const log: string[] = [];
  const recorded: OperatorActionRecord[] = [];
  const stored: AdminRecord[] = [];
  const integrators = new Map<string, Integrator>();
  const windows = new Map<string, MaintenanceWindow>();
  const gate: OperatorAuditGate = {
    record: (a) => {
      log.push(`audit:${a.action}`);
      recorded.push(a);
      return gateRecords ? Promise.resolve({ sequence: 1n, recordHash: new Uint8Array(32) }) : Promise.reject(new Error('audit down'));
    },
  };
  const store: IntegratorAdminStore = {
    findByClientId: (id) => Promise.resolve(integrators.get(id)),
    list: () => Promise.resolve([...integrators.values()]),
    register: (i: NewIntegrator, _now, record) => {
      log.push('store:register');
      if (record) stored.push(record);
      integrators.set(i.clientId, { clientId: i.clientId, status: 'active', scopes: i.scopes, allowedAssets: i.allowedAssets, ipAllowlist: i.ipAllowlist ?? [], rateLimit: i.rateLimit, keys: i.keys.map((k) => ({ ...k, revoked: false })), certificateFingerprints: i.certificateFingerprints ?? [] });
      return Promise.resolve();
    },
    revoke: (id, record) => {
      log.push('store:revoke');
      if (record) stored.push(record);
      const i = integrators.get(id);
      if (i) integrators.set(id, { ...i, status: 'revoked' });
      return Promise.resolve();
    },
    rotateKey: (id, key, _exp, _now, record) => {
      log.push('store:rotateKey');
      if (record) stored.push(record);
      const i = integrators.get(id);
      if (i) integrators.set(id, { ...i, keys: [...i.keys, { ...key, revoked: false }] });
      return Promise.resolve();
    },
  };
  const maintenanceStore: MaintenanceStore = {
    create: (w, _c, record) => {
      log.push('store:create');
      if (record) stored.push(record);
      windows.set(w.id, w);
      return Promise.resolve();
    },
    listCurrentAndUpcoming: () => Promise.resolve([...windows.values()]),
    listNotices: () => Promise.resolve([...windows.values()]),
    get: (id) => Promise.resolve(windows.get(id)),
    cancel: (id, at, by, _c, record) => {
      log.push('store:cancel');
      if (record) stored.push(record);
      const w = windows.get(id);
      if (w) windows.set(id, { ...w, cancelledAt: at, cancelledBy: by });
      return Promise.resolve(true);
    },
  };
  const admin = new IntegratorAdmin({ store, registry, clock, maxKeyOverlapMs: 86_400_000, audit: gate });
  const maintenance = new MaintenanceUseCases({ store: maintenanceStore, registry, clock, minNoticeMs: 3_600_000, audit: gate });
  return { log, recorded, stored, integrators, windows, admin, maintenance, store, maintenanceStore };
}

const registration = (clientId: string) => ({
  clientId,
  keyId: 'k1',
  publicKey: pub(),
  certificateSha256: 'cd'.repeat(32),
  allowedAssets: ['ETH'],
  scopes: ['read'],
  ratePerSecond: 10,
  burst: 10,
  ipAllowlist: [],
  customerAccounts: [],
});
const windowSpec = { chains: [], assets: ['BTC'], startsAt: new Date(NOW.getTime() + 7_200_000), endsAt: new Date(NOW.getTime() + 10_800_000), withdrawalsSuspended: true, depositsDelayed: false, description: 'node upgrade', announcedBy: 'ignored' };

describe('intake admin actions are recorded in audit before they are stored (fail closed)', () => {
  it('register, revoke, rotate, schedule and cancel: audit first, then the store; the record carries the operator evidence and the admin_action id', async () => {
    const f = fakes(true);
    await f.admin.register(actor, registration('client-a'), 'corr-1');
    await f.admin.rotateKey(actor, { clientId: 'client-a', newKeyId: 'k2', newPublicKey: pub(), overlapSeconds: 60 }, 'corr-2');
    await f.admin.revoke(actor, { clientId: 'client-a', reason: 'offboarded' }, 'corr-3');
    const w = await f.maintenance.schedule(windowSpec, 'corr-4', actor);
    await f.maintenance.cancel(actor, { maintenanceId: w.id, reason: 'postponed' }, 'corr-5');
    expect(f.log).toEqual([
      'audit:intake.integrator.register',
      'store:register',
      'audit:intake.integrator.rotate_key',
      'store:rotateKey',
      'audit:intake.integrator.revoke',
      'store:revoke',
      'audit:intake.maintenance.schedule',
      'store:create',
      'audit:intake.maintenance.cancel',
      'store:cancel',
    ]);
    expect(f.recorded.map((r) => r.target)).toEqual(['client-a', 'client-a', 'client-a', w.id, w.id]);
    expect(f.recorded.map((r) => r.requestId)).toEqual(f.stored.map((s) => s.id));
    expect(f.recorded.map((r) => r.correlationId)).toEqual(['corr-1', 'corr-2', 'corr-3', 'corr-4', 'corr-5']);
    const expectedDigest = createHash('sha256')
      .update(Buffer.concat([Buffer.from(`${ADMIN_REQUEST_DIGEST_DOMAIN}\0`), Buffer.from([0, 0, 0, 12]), Buffer.from('signed bytes'), Buffer.from([0, 0, 0, 64]), Buffer.alloc(64, 9)]))
      .digest();
    for (const r of f.recorded) {
      expect(r).toMatchObject({ operatorId: 'op-alice', deviceId: 'key:op-alice-k1', sourceIp: '10.1.2.3', approvalIds: [], occurredAt: NOW });
      expect(Buffer.from(r.requestDigest ?? [])).toEqual(expectedDigest);
    }
    expect(Object.keys(ADMIN_AUDIT_ACTIONS)).toHaveLength(5);
  });

  it('gate refuses → AUDIT_UNAVAILABLE for every action and the store is never written', async () => {
    const up = fakes(true);
    await up.admin.register(actor, registration('client-b'), 'c');
    const w = await up.maintenance.schedule(windowSpec, 'c', actor);
    // the same state behind a refusing gate
    const f = fakes(false);
    for (const [id, i] of up.integrators) f.integrators.set(id, i);
    for (const [id, x] of up.windows) f.windows.set(id, x);
    const refused = { code: 'AUDIT_UNAVAILABLE' };
    await expect(f.admin.register(actor, registration('client-c'), 'c')).rejects.toMatchObject(refused);
    await expect(f.admin.rotateKey(actor, { clientId: 'client-b', newKeyId: 'k2', newPublicKey: pub(), overlapSeconds: 0 }, 'c')).rejects.toMatchObject(refused);
    await expect(f.admin.revoke(actor, { clientId: 'client-b', reason: '' }, 'c')).rejects.toMatchObject(refused);
    await expect(f.maintenance.schedule(windowSpec, 'c', actor)).rejects.toMatchObject(refused);
    await expect(f.maintenance.cancel(actor, { maintenanceId: w.id, reason: '' }, 'c')).rejects.toMatchObject(refused);
    expect(f.log.filter((l) => l.startsWith('store:'))).toEqual([]);
    expect(f.integrators.get('client-b')?.status).toBe('active');
    expect(f.integrators.has('client-c')).toBe(false);
    expect(f.windows.get(w.id)?.cancelledAt).toBeUndefined();
  });

  it('bad input is refused before audit (nothing recorded); bootstrap maintenance without an operator is not an operator action', async () => {
    const f = fakes(true);
    await expect(f.admin.register(actor, { ...registration('client-d'), scopes: [] }, 'c')).rejects.toMatchObject({ code: 'SCOPES_REQUIRED' });
    await f.maintenance.schedule(windowSpec, 'c');
    expect(f.log).toEqual(['store:create']);
  });
});
