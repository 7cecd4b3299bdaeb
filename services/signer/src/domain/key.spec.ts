import { describe, expect, it } from '@jest/globals';
import { applyAdminTransition, autoDeactivation, effectiveState, MAX_ACTIVATION_SECONDS, spendSignature, wrapGenerated, type AdminTransition, type KeyRecord, type KeyState } from './key.js';

const t0 = new Date('2026-11-24T10:00:00Z');
const base: KeyRecord = {
  keyId: 'k1',
  walletId: 'w1',
  chain: 'ethereum-sepolia',
  algorithm: 'secp256k1',
  purpose: 'signature',
  tier: 'warm',
  custody: 'pkcs11',
  custodyRef: 'hk_x',
  publicKey: new Uint8Array(33),
  address: '0x',
  state: 'inactive',
  activeUntil: undefined,
  signaturesLeft: undefined,
  updatedAt: t0,
};
const at = (s: KeyState): KeyRecord => ({ ...base, state: s, ...(s === 'active' ? { activeUntil: new Date(t0.getTime() + 60_000) } : {}) });
const ctx = { actor: 'carol,dave', reason: 'test', now: t0, activation: { ttlSeconds: 60 } };

describe('C-5.4.2-b key state machine: GENERATED → INACTIVE ⇄ ACTIVE → SUSPENDED → RETIRED → DESTROYED', () => {
  const legal: Array<[KeyState, AdminTransition, KeyState]> = [
    ['inactive', 'activate', 'active'],
    ['active', 'deactivate', 'inactive'],
    ['inactive', 'suspend', 'suspended'],
    ['active', 'suspend', 'suspended'],
    ['suspended', 'resume', 'inactive'],
    ['suspended', 'retire', 'retired'],
    ['retired', 'destroy', 'destroyed'],
  ];
  it.each(legal)('%s --%s--> %s, with a transition event naming the actor', (from, transition, to) => {
    const r = applyAdminTransition(at(from), transition, ctx);
    expect(r.key.state).toBe(to);
    expect(r.event).toMatchObject({ keyId: 'k1', from, to, actor: 'carol,dave' });
  });

  const states: KeyState[] = ['generated', 'inactive', 'active', 'suspended', 'retired', 'destroyed'];
  const transitions: AdminTransition[] = ['activate', 'deactivate', 'suspend', 'resume', 'retire', 'destroy'];
  it('every other (state, transition) pair is refused with INVALID_TRANSITION', () => {
    let refused = 0;
    for (const s of states) {
      for (const t of transitions) {
        if (legal.some(([f, tt]) => f === s && tt === t)) continue;
        expect(() => applyAdminTransition(at(s), t, ctx)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
        refused++;
      }
    }
    expect(refused).toBe(states.length * transitions.length - legal.length);
  });

  it('C-5.4.4-a a key is never destroyed straight from active, inactive or suspended (suspend, never delete)', () => {
    for (const s of ['active', 'inactive', 'suspended'] as const) expect(() => applyAdminTransition(at(s), 'destroy', ctx)).toThrow(/cannot destroy/);
  });

  it('generation is followed by the wrap step to INACTIVE (never straight to ACTIVE)', () => {
    const r = wrapGenerated({ ...base, state: 'generated' }, 'ceremony', t0);
    expect(r.key.state).toBe('inactive');
    expect(() => wrapGenerated(base, 'x', t0)).toThrow(expect.objectContaining({ code: 'INVALID_TRANSITION' }));
  });

  it('activation is always time-boxed, within the tier maximum', () => {
    expect(() => applyAdminTransition(base, 'activate', { ...ctx, activation: { ttlSeconds: 0 } })).toThrow(/positive ttlSeconds/);
    expect(() => applyAdminTransition(base, 'activate', { ...ctx, activation: { ttlSeconds: MAX_ACTIVATION_SECONDS.warm + 1 } })).toThrow(/at most 3600/);
    expect(() => applyAdminTransition({ ...base, tier: 'cold' }, 'activate', { ...ctx, activation: { ttlSeconds: 901 } })).toThrow(/at most 900/);
    expect(() => applyAdminTransition(base, 'activate', { ...ctx, activation: { ttlSeconds: 60, maxSignatures: 0 } })).toThrow(/maxSignatures/);
  });

  it('an active key is effectively INACTIVE once its window ends or its budget is spent (auto-deactivation)', () => {
    const active = applyAdminTransition(base, 'activate', { ...ctx, activation: { ttlSeconds: 60, maxSignatures: 2 } }).key;
    expect(effectiveState(active, new Date(t0.getTime() + 59_999))).toBe('active');
    expect(effectiveState(active, new Date(t0.getTime() + 60_000))).toBe('inactive');
    const once = spendSignature(active, t0);
    expect(effectiveState(once, t0)).toBe('active');
    const twice = spendSignature(once, t0);
    expect(effectiveState(twice, t0)).toBe('inactive');
    expect(autoDeactivation(twice, t0)?.event).toMatchObject({ transition: 'deactivated', reason: 'signature budget spent', actor: 'signer' });
    expect(autoDeactivation(once, t0)).toBeUndefined();
    // a reactivation is a fresh box: activate from the effective INACTIVE state works
    expect(applyAdminTransition(twice, 'activate', ctx).key.state).toBe('active');
  });
});
