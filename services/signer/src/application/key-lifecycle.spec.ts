// KeyLifecycle admin additions (unit tier, in-memory stores): ROLE_MISSING vs QUORUM_NOT_MET,
// backup/restore quorum floor and what the operators' signatures bind, restore refusing a
// key that is not the inventory's.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { x25519 } from '@noble/curves/ed25519.js';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../adapters/custody/local-sealed.js';
import { openShare, type Custodian } from '../domain/backup.js';
import type { KeyRecord } from '../domain/key.js';
import { ETH, MemoryStores, operators, ops, signTransition, type TestOperator } from '../../test/fixtures.js';
import { KeyLifecycle, backupRequest, generationRequest, restoreRequest, type BackupRequest, type QuorumRule } from './key-lifecycle.js';
import type { KeyActionRecord, KeyAdminStore } from './ports.js';

/** KeyAdminStore over MemoryStores' key map (request id unique, like the Postgres constraint). */
class MemoryAdminStore implements KeyAdminStore {
  readonly actions: KeyActionRecord[] = [];
  constructor(private readonly stores: MemoryStores) {}
  async listKeys(filter: { readonly walletId?: string } = {}): Promise<KeyRecord[]> {
    return [...this.stores.keys.values()].filter((k) => filter.walletId === undefined || k.walletId === filter.walletId);
  }
  async recordKeyAction(record: KeyActionRecord, change: (key: KeyRecord) => KeyRecord): Promise<KeyRecord> {
    const key = this.stores.keys.get(record.keyId);
    if (!key) throw Object.assign(new Error('no key'), { code: 'KEY_NOT_FOUND' });
    if (this.actions.some((a) => a.requestId === record.requestId)) throw Object.assign(new Error('replay'), { code: 'INVALID_TRANSITION' });
    const after = change(key);
    this.stores.keys.set(after.keyId, after);
    this.actions.push(record);
    return after;
  }
}

const clock = { now: () => new Date(Date.UTC(2026, 10, 24, 10, 0, 0)) };
const expiresAt = Math.floor(clock.now().getTime() / 1000) + 300;

async function world(quorum?: QuorumRule) {
  const stores = new MemoryStores();
  const admin = new MemoryAdminStore(stores);
  const local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-unit', store: new InMemorySealedBlobStore() });
  const lifecycle = new KeyLifecycle({ store: stores, adminStore: admin, custody: new Map([[local.kind, local]]), clock, operators, adminRoles: ['key_custodian', 'security_officer'], ...(quorum ? { quorum } : {}) });
  const newKey = async (): Promise<KeyRecord> => {
    const walletId = `w-${randomUUID().slice(0, 8)}`;
    const gen = { requestId: randomUUID(), keyId: `k-${walletId}`, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
    return lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  };
  return { stores, admin, lifecycle, newKey };
}

const custodians = Array.from({ length: 3 }, (_, i) => {
  const secretKey = x25519.utils.randomSecretKey();
  return { custodianId: `c${i + 1}`, secretKey, publicKey: x25519.getPublicKey(secretKey) };
});
const asCustodians = (): Custodian[] => custodians.map((c) => ({ custodianId: c.custodianId, publicKey: c.publicKey }));
const sign = (request: BackupRequest, signers: readonly TestOperator[]) => signers.map((op) => signTransition(backupRequest(request), op));

describe('KeyLifecycle quorum reasons', () => {
  it('signatures that fail only for their role → ROLE_MISSING; too few signatures → QUORUM_NOT_MET; neither changes the key', async () => {
    const w = await world();
    const key = await w.newKey();
    const suspend = { requestId: randomUUID(), keyId: key.keyId, transition: 'suspend' as const, expiresAt };
    await expect(w.lifecycle.transition(suspend, [signTransition(suspend, ops.alice)], 'x')).rejects.toMatchObject({ code: 'ROLE_MISSING' });
    await expect(w.lifecycle.transition(suspend, [], 'x')).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    expect(w.stores.keys.get(key.keyId)?.state).toBe('inactive');
  });
});

describe('KeyLifecycle generation refuses a wallet that has a key', () => {
  it('a second generation for the wallet → KEY_EXISTS_FOR_WALLET naming the wallet, before the quorum; a taken key id → KEY_ID_EXISTS; nothing stored', async () => {
    const w = await world();
    const key = await w.newKey();
    const gen = { requestId: randomUUID(), keyId: `${key.keyId}-2`, walletId: key.walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
    const err = await w.lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]).catch((e: unknown) => e as Error & { code: string });
    expect(err).toMatchObject({ code: 'KEY_EXISTS_FOR_WALLET' });
    expect((err as Error).message).toContain(key.walletId);
    // No signatures at all: still the precise reason (checked before the quorum), not QUORUM_NOT_MET.
    await expect(w.lifecycle.generate(gen, [])).rejects.toMatchObject({ code: 'KEY_EXISTS_FOR_WALLET' });
    const sameId = { ...gen, requestId: randomUUID(), keyId: key.keyId, walletId: `${key.walletId}-other` };
    await expect(w.lifecycle.generate(sameId, [signTransition(generationRequest(sameId), ops.carol), signTransition(generationRequest(sameId), ops.dave)])).rejects.toMatchObject({ code: 'KEY_ID_EXISTS' });
    expect([...w.stores.keys.values()].map((k) => k.keyId)).toEqual([key.keyId]);
  });
});

describe('KeyLifecycle backup and restore (unit)', () => {
  it('backup and restore need 2 operators even when configured for 1', async () => {
    const w = await world({ generate: 2, activate: 2, deactivate: 1, suspend: 1, resume: 2, retire: 2, destroy: 3, backup: 1, restore: 1 });
    const key = await w.newKey();
    const request = { requestId: randomUUID(), keyId: key.keyId, expiresAt, threshold: 2, custodians: asCustodians() };
    await expect(w.lifecycle.createBackupShares(request, sign(request, [ops.carol]))).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    const done = await w.lifecycle.createBackupShares(request, sign(request, [ops.carol, ops.dave]));
    expect(done.shares).toHaveLength(3);
    const opened = done.shares.map((s, i) => ({ custodianId: s.custodianId, index: s.index, share: openShare(s, (custodians[i] as { secretKey: Uint8Array }).secretKey) }));
    const restore = { requestId: randomUUID(), keyId: key.keyId, expiresAt, manifest: done.manifest, shares: opened };
    await expect(w.lifecycle.restoreFromShares(restore, [signTransition(restoreRequest(restore), ops.carol)])).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    expect(w.admin.actions.map((a) => a.action)).toEqual(['backup-created']);
  });

  it('the signatures bind every custodian public key: a swapped custodian key makes them not count', async () => {
    const w = await world();
    const key = await w.newKey();
    const request = { requestId: randomUUID(), keyId: key.keyId, expiresAt, threshold: 2, custodians: asCustodians() };
    const signatures = sign(request, [ops.carol, ops.dave]);
    const attacker = x25519.getPublicKey(x25519.utils.randomSecretKey());
    const swapped = { ...request, custodians: request.custodians.map((c, i) => (i === 0 ? { ...c, publicKey: attacker } : c)) };
    await expect(w.lifecycle.createBackupShares(swapped, signatures)).rejects.toMatchObject({ code: 'QUORUM_NOT_MET' });
    expect(w.admin.actions).toHaveLength(0);
  });

  it("restore refuses another key's backup (public key differs) and leaves the inventory untouched; its own backup restores", async () => {
    const w = await world();
    const a = await w.newKey();
    const b = await w.newKey();
    const backupOfB = { requestId: randomUUID(), keyId: b.keyId, expiresAt, threshold: 2, custodians: asCustodians() };
    const { manifest, shares } = await w.lifecycle.createBackupShares(backupOfB, sign(backupOfB, [ops.carol, ops.dave]));
    const opened = shares.slice(0, 2).map((s) => ({ custodianId: s.custodianId, index: s.index, share: openShare(s, (custodians.find((c) => c.custodianId === s.custodianId) as { secretKey: Uint8Array }).secretKey) }));
    const ontoA = { requestId: randomUUID(), keyId: a.keyId, expiresAt, manifest, shares: opened };
    const signed = (r: typeof ontoA) => [ops.carol, ops.dave].map((op) => signTransition(restoreRequest(r), op));
    await expect(w.lifecycle.restoreFromShares(ontoA, signed(ontoA))).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    expect(w.stores.keys.get(a.keyId)?.custodyRef).toBe(a.custodyRef);

    const ontoB = { ...ontoA, requestId: randomUUID(), keyId: b.keyId };
    const restored = await w.lifecycle.restoreFromShares(ontoB, signed(ontoB));
    expect(Buffer.from(restored.publicKey)).toEqual(Buffer.from(b.publicKey));
    expect(restored.custodyRef).not.toBe(b.custodyRef);
    expect(w.admin.actions.map((x) => x.action)).toEqual(['backup-created', 'restored']);
  });
});
