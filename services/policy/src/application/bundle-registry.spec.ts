import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { createHash } from 'node:crypto';
import { bundleActivationBytes, type AdminSignature, type Operator } from '../domain/approval.js';
import type { Decision } from '../domain/decision.js';
import { BundleRegistry, type BundleStore, type StoredBundle } from './bundle-registry.js';
import type { PolicyBundle, PolicyEvaluator } from './policy-evaluator.js';

const parse = (archive: Uint8Array): PolicyBundle => {
  const text = new TextDecoder().decode(archive);
  if (text.startsWith('bad')) throw Object.assign(new Error('not a bundle'), { code: 'POLICY_BUNDLE_INVALID' });
  return { digest: createHash('sha256').update(archive).digest('hex'), wasm: archive, data: {} };
};

class FakeStore implements BundleStore {
  active: StoredBundle | undefined;
  previous: StoredBundle | undefined;
  staged: { id: string; archive: Uint8Array; signatures: AdminSignature[] }[] = [];
  closed: { id: string; activated: boolean; digest: string; reason: string }[] = [];
  loadActive = () => Promise.resolve(this.active);
  loadPrevious = () => Promise.resolve(this.previous);
  saveActive(archive: Uint8Array, _digest: string, _by: readonly string[], signatures: readonly AdminSignature[]): Promise<void> {
    this.previous = this.active;
    this.active = { archive, bundle: parse(archive), signatures };
    return Promise.resolve();
  }
  nextStaged = () => Promise.resolve(this.staged[0]);
  closeStaged(id: string, outcome: { activated: boolean; digest: string; reason: string }): Promise<void> {
    this.staged = this.staged.filter((s) => s.id !== id);
    this.closed.push({ id, ...outcome });
    return Promise.resolve();
  }
}

const allow: Decision = { outcome: 'allow', reasons: [], approvals: { quorum: 0, roles: [], expiresInSeconds: 0 } };
const evaluator = (failFor?: string): PolicyEvaluator => ({
  evaluate: (bundle) => (bundle.digest === failFor ? Promise.reject(new Error('wasm abort')) : Promise.resolve({ decision: allow, bundleDigest: bundle.digest })),
});

const admins = ['admin-1', 'admin-2', 'admin-3'].map((id) => ({ id, secret: ed25519.utils.randomSecretKey() }));
const operators = new Map<string, Operator>(admins.map((a) => [a.id, { operatorId: a.id, roles: ['policy_admin'], keys: new Map([['k', ed25519.getPublicKey(a.secret)]]) }]));
const sign = (archive: Uint8Array, who: (typeof admins)[number]) => ({ adminId: who.id, keyId: 'k', signature: ed25519.sign(bundleActivationBytes(parse(archive).digest, who.id), who.secret) });
const bytes = (s: string) => new TextEncoder().encode(s);

function registry(store = new FakeStore(), ev = evaluator()) {
  return { store, reg: new BundleRegistry({ evaluator: ev, store, operators: { operators }, adminRole: 'policy_admin', parse, now: () => new Date(0) }) };
}

describe('C-9.3.2-a bundle registry: admin quorum, atomic swap, rollback, fail closed', () => {
  it('decides nothing before a bundle is active, and refuses to start without one', async () => {
    const { reg } = registry();
    expect(() => reg.current()).toThrow('no valid policy bundle is active');
    await expect(reg.start(undefined)).rejects.toMatchObject({ code: 'NO_ACTIVE_BUNDLE' });
    await expect(reg.start(bytes('bad bundle'))).rejects.toMatchObject({ code: 'POLICY_BUNDLE_INVALID' });
    expect(() => reg.current()).toThrow();
  });

  it('refuses a bundle whose canary evaluation crashes, at start and at activation', async () => {
    const v1 = bytes('v1');
    const { reg } = registry(new FakeStore(), evaluator(parse(v1).digest));
    await expect(reg.start(v1)).rejects.toThrow('wasm abort');
    const ok = registry(new FakeStore(), evaluator(parse(bytes('v2')).digest));
    await ok.reg.start(bytes('v0'));
    await expect(ok.reg.activate(bytes('v2'), [sign(bytes('v2'), admins[0]!), sign(bytes('v2'), admins[1]!)])).rejects.toThrow('wasm abort');
    expect(ok.reg.activeDigest).toBe(parse(bytes('v0')).digest);
  });

  it('activates only with two distinct admin signatures; keeps the previous; rolls back with a quorum', async () => {
    const { reg, store } = registry();
    await reg.start(bytes('v1'));
    const held = reg.current(); // a decision in flight holds this reference
    await expect(reg.activate(bytes('v2'), [sign(bytes('v2'), admins[0]!)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    await expect(reg.activate(bytes('v2'), [sign(bytes('v2'), admins[0]!), sign(bytes('v2'), admins[0]!)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    expect(reg.activeDigest).toBe(parse(bytes('v1')).digest);
    await reg.activate(bytes('v2'), [sign(bytes('v2'), admins[0]!), sign(bytes('v2'), admins[2]!)]);
    expect(reg.activeDigest).toBe(parse(bytes('v2')).digest);
    expect(reg.previousDigest).toBe(parse(bytes('v1')).digest);
    expect(held.digest).toBe(parse(bytes('v1')).digest);
    expect(store.active?.bundle.digest).toBe(parse(bytes('v2')).digest);
    await expect(reg.rollback([sign(bytes('v1'), admins[1]!)])).rejects.toMatchObject({ code: 'ADMIN_QUORUM_NOT_MET' });
    await reg.rollback([sign(bytes('v1'), admins[1]!), sign(bytes('v1'), admins[2]!)]);
    expect(reg.activeDigest).toBe(parse(bytes('v1')).digest);
  });

  it('restarts on the stored active bundle only if its admin quorum still verifies (or it is the bootstrap bundle)', async () => {
    const signed = new FakeStore();
    await signed.saveActive(bytes('stored'), '', [], [sign(bytes('stored'), admins[0]!), sign(bytes('stored'), admins[1]!)]);
    const a = registry(signed);
    await a.reg.start(bytes('bootstrap'));
    expect(a.reg.activeDigest).toBe(parse(bytes('stored')).digest);

    const bootstrapped = new FakeStore();
    await bootstrapped.saveActive(bytes('shipped'), '', ['bootstrap'], []);
    const b = registry(bootstrapped);
    await b.reg.start(bytes('shipped'));
    expect(b.reg.activeDigest).toBe(parse(bytes('shipped')).digest);

    // A row written into the database without a quorum does not install a policy.
    const forged = new FakeStore();
    await forged.saveActive(bytes('forged'), '', ['admin-1', 'admin-2'], [sign(bytes('forged'), admins[0]!)]);
    const c = registry(forged);
    await expect(c.reg.start(bytes('shipped'))).rejects.toMatchObject({ code: 'STORED_BUNDLE_UNVERIFIED' });
    expect(() => c.reg.current()).toThrow();
  });

  it('a staged bundle without a quorum is refused (the active one stays); with a quorum it is activated', async () => {
    const { reg, store } = registry();
    await reg.start(bytes('v1'));
    store.staged.push({ id: 'r1', archive: bytes('v2'), signatures: [sign(bytes('v2'), admins[0]!)] });
    await expect(reg.activateStaged()).resolves.toMatchObject({ id: 'r1', activated: false, digest: parse(bytes('v2')).digest });
    expect(reg.activeDigest).toBe(parse(bytes('v1')).digest);
    store.staged.push({ id: 'r2', archive: bytes('bad archive'), signatures: [] });
    await expect(reg.activateStaged()).resolves.toMatchObject({ id: 'r2', activated: false, digest: '' });
    store.staged.push({ id: 'r3', archive: bytes('v2'), signatures: [sign(bytes('v2'), admins[0]!), sign(bytes('v2'), admins[1]!)] });
    await expect(reg.activateStaged()).resolves.toMatchObject({ id: 'r3', activated: true });
    expect(reg.activeDigest).toBe(parse(bytes('v2')).digest);
    expect(store.closed.map((c) => [c.id, c.activated])).toEqual([['r1', false], ['r2', false], ['r3', true]]);
    await expect(reg.activateStaged()).resolves.toBeUndefined();
  });
});
