/**
 * Admin key lifecycle under an operator quorum (C-5.4.2-a/b, C-5.4.4-a/b): generation
 * ceremony, activate (time-/count-boxed), deactivate, suspend, resume, retire, destroy.
 * Each request is signed by operators (Ed25519 over `keyTransitionSigningBytes`); the
 * signer counts distinct registered operators in an accepted role, requires the configured
 * quorum for that transition, refuses expired or replayed requests (request id UNIQUE), and
 * applies the transition under the key row lock with its key.lifecycle event.
 */
import { hex } from '@scure/base';
import { SignerError } from '../domain/errors.js';
import { createBackup, restoreBackup, type BackupManifest, type Custodian, type EncryptedShare } from '../domain/backup.js';
import { equalBytes, wipe } from '../domain/crypto/bytes.js';
import { ed25519GetPublicKey } from '../domain/crypto/ed25519.js';
import { publicKeyToAddress } from '../domain/crypto/evm.js';
import { getPublicKey } from '../domain/crypto/secp256k1.js';
import { applyAdminTransition, wrapGenerated, type AdminTransition, type CustodyKind, type KeyAlgorithm, type KeyRecord, type KeyTier } from '../domain/key.js';
import { countTransitionSignatures, type KeyTransitionRequest, type Operator, type OperatorSignature } from '../domain/operators.js';
import { isBackupCapable, type KeyCustody } from './key-custody.js';
import type { Clock, KeyAdminStore, KeyStore } from './ports.js';

export type AdminAction = AdminTransition | 'generate' | 'backup' | 'restore';

/** Quorum per action; backup and restore default to 2 and can never be set below 2 (C-9.3.7.3-c). */
export type QuorumRule = Readonly<Record<AdminTransition | 'generate', number>> & Readonly<Partial<Record<'backup' | 'restore', number>>>;

/** Defaults: one person may pull the emergency brake (C-5.4.4-b); everything else needs two or more. */
export const DEFAULT_ADMIN_QUORUM: QuorumRule = { generate: 2, activate: 2, deactivate: 1, suspend: 1, resume: 2, retire: 2, destroy: 3, backup: 2, restore: 2 };

/** Handles secret material: a single person may never do it, whatever the configuration says. */
const SECRET_ACTION_MINIMUM = 2;

export interface KeyLifecycleDeps {
  readonly store: KeyStore;
  readonly custody: ReadonlyMap<string, KeyCustody>;
  readonly clock: Clock;
  readonly operators: ReadonlyMap<string, Operator>;
  /** Roles whose members may sign admin key requests. */
  readonly adminRoles: readonly string[];
  readonly quorum?: QuorumRule;
  /** Inventory listing and backup/restore records (the admin API); absent = those operations refuse. */
  readonly adminStore?: KeyAdminStore;
}

export interface BackupRequest {
  /** Also the backup id. */
  readonly requestId: string;
  readonly keyId: string;
  readonly expiresAt: number;
  readonly threshold: number;
  readonly custodians: readonly Custodian[];
}

export interface RestoreRequest {
  readonly requestId: string;
  readonly keyId: string;
  readonly expiresAt: number;
  readonly manifest: BackupManifest;
  /** Shares opened by their custodians (`openShare`): plaintext Shamir shares, zeroed by the caller. */
  readonly shares: readonly { readonly custodianId: string; readonly index: number; readonly share: Uint8Array }[];
}

/** What operators sign for a backup: transition "backup", the threshold and every custodian's public key bound in the key id. */
export function backupRequest(r: BackupRequest): KeyTransitionRequest {
  const custodians = r.custodians.map((c) => `${c.custodianId}=${hex.encode(c.publicKey)}`).join(',');
  return { requestId: r.requestId, keyId: `${r.keyId}|${r.threshold}|${custodians}`, transition: 'backup', expiresAt: r.expiresAt };
}

/** What operators sign for a restore: transition "restore", the backup id, threshold and fingerprint bound in the key id. */
export function restoreRequest(r: Omit<RestoreRequest, 'shares'>): KeyTransitionRequest {
  return { requestId: r.requestId, keyId: `${r.keyId}|${r.manifest.backupId}|${r.manifest.threshold}|${r.manifest.fingerprint}`, transition: 'restore', expiresAt: r.expiresAt };
}

function publicKeyOfSecret(algorithm: KeyAlgorithm, secret: Uint8Array): Uint8Array {
  try {
    return algorithm === 'secp256k1' ? getPublicKey(secret, { compressed: true }) : ed25519GetPublicKey(secret);
  } catch (cause) {
    throw new SignerError('BACKUP_INVALID', 'the shares do not reconstruct a valid key', { cause });
  }
}

export interface GenerateKeyRequest extends Omit<KeyTransitionRequest, 'transition'> {
  readonly walletId: string;
  readonly chain: string;
  readonly algorithm: KeyAlgorithm;
  readonly tier: KeyTier;
  readonly custody: CustodyKind;
}

/** What operators sign for a generation: the request with transition "generate" and the wallet facts in the key id. */
export function generationRequest(r: GenerateKeyRequest): KeyTransitionRequest {
  return { requestId: r.requestId, keyId: `${r.keyId}|${r.walletId}|${r.chain}|${r.algorithm}|${r.tier}|${r.custody}`, transition: 'generate', expiresAt: r.expiresAt };
}

export class KeyLifecycle {
  constructor(private readonly deps: KeyLifecycleDeps) {}

  #quorum(transition: AdminAction, request: KeyTransitionRequest, signatures: readonly OperatorSignature[]): { required: number; approvals: OperatorSignature[] } {
    const now = Math.floor(this.deps.clock.now().getTime() / 1000);
    if (now >= request.expiresAt) throw new SignerError('QUORUM_NOT_MET', `admin request ${request.requestId} expired`);
    const rule = this.deps.quorum ?? DEFAULT_ADMIN_QUORUM;
    const required =
      transition === 'backup' || transition === 'restore'
        ? Math.max(SECRET_ACTION_MINIMUM, rule[transition] ?? DEFAULT_ADMIN_QUORUM[transition] ?? SECRET_ACTION_MINIMUM)
        : rule[transition];
    const count = countTransitionSignatures(request, signatures, this.deps.operators, this.deps.adminRoles);
    if (count.operators.length < required) {
      // Operators whose only failing was their role: the quorum would be met if they held an accepted role.
      const roleOnly = new Set(
        count.problems
          .filter((p) => p.problem === 'ROLE_NOT_HELD' || p.problem === 'ROLE_NOT_ACCEPTED')
          .map((p) => signatures[p.index]?.operatorId)
          .filter((id): id is string => id !== undefined && !count.operators.includes(id)),
      );
      const problems = [...new Set(count.problems.map((p) => p.problem))].sort().join(', ');
      const detail = `${transition} needs ${required} operator signatures, ${count.operators.length} count${problems ? ` (not counted: ${problems})` : ''}`;
      if (roleOnly.size > 0 && count.operators.length + roleOnly.size >= required) throw new SignerError('ROLE_MISSING', detail);
      throw new SignerError('QUORUM_NOT_MET', detail);
    }
    const approvals = signatures.filter((s, i) => count.operators.includes(s.operatorId) && !count.problems.some((p) => p.index === i));
    return { required, approvals };
  }

  /**
   * A generation can apply only to a wallet without a key (signer_key.wallet_id is UNIQUE:
   * rotation = a new wallet + sweep) and a key id not taken: KEY_EXISTS_FOR_WALLET /
   * KEY_ID_EXISTS otherwise. Checked before the quorum and custody work; the store refuses the
   * same with the same codes when two generations race.
   */
  async assertCanGenerate(request: { readonly keyId: string; readonly walletId: string }): Promise<void> {
    const existing = this.deps.adminStore ? (await this.deps.adminStore.listKeys({ walletId: request.walletId })).find((k) => k.walletId === request.walletId) : undefined;
    if (existing) throw new SignerError('KEY_EXISTS_FOR_WALLET', `wallet ${request.walletId} already has key ${existing.keyId} (one key per wallet: rotation is a new wallet and a sweep)`);
    if (await this.deps.store.getKey(request.keyId)) throw new SignerError('KEY_ID_EXISTS', `key id ${request.keyId} is already taken`);
  }

  /** The generation ceremony: quorum, key generated inside the custody, wrapped → INACTIVE. */
  async generate(request: GenerateKeyRequest, signatures: readonly OperatorSignature[]): Promise<KeyRecord> {
    await this.assertCanGenerate(request);
    const quorum = this.#quorum('generate', generationRequest(request), signatures);
    const custody = this.deps.custody.get(request.custody);
    if (!custody) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', `no ${request.custody} custody is configured`);
    const generated = await custody.generateKey(request.algorithm, `${request.walletId}/${request.keyId}`.slice(0, 64));
    const now = this.deps.clock.now();
    const address = request.algorithm === 'secp256k1' ? `0x${hex.encode(publicKeyToAddress(generated.publicKey))}` : '';
    const key: KeyRecord = {
      keyId: request.keyId,
      walletId: request.walletId,
      chain: request.chain,
      algorithm: request.algorithm,
      purpose: 'signature',
      tier: request.tier,
      custody: request.custody,
      custodyRef: generated.ref,
      publicKey: generated.publicKey,
      address,
      state: 'generated',
      activeUntil: undefined,
      signaturesLeft: undefined,
      updatedAt: now,
    };
    const actor = quorum.approvals.map((a) => a.operatorId).join(',');
    const wrapped = wrapGenerated(key, actor, now);
    await this.deps.store.insertKey(wrapped.key, [
      { event: { keyId: key.keyId, transition: 'generated', from: undefined, to: 'generated', actor, reason: `generated in ${request.custody}`, at: now }, requestId: request.requestId, quorum },
      { event: wrapped.event, requestId: undefined },
    ]);
    return wrapped.key;
  }

  /** An admin transition on an existing key. */
  async transition(request: KeyTransitionRequest & { transition: AdminTransition }, signatures: readonly OperatorSignature[], reason: string): Promise<KeyRecord> {
    const quorum = this.#quorum(request.transition, request, signatures);
    const actor = quorum.approvals.map((a) => a.operatorId).join(',');
    const after = await this.deps.store.transition(request.keyId, (key) => {
      const applied = applyAdminTransition(key, request.transition, {
        actor,
        reason,
        now: this.deps.clock.now(),
        ...(request.transition === 'activate' ? { activation: { ttlSeconds: request.ttlSeconds ?? 0, ...(request.maxSignatures ? { maxSignatures: request.maxSignatures } : {}) } } : {}),
      });
      return { key: applied.key, record: { event: applied.event, requestId: request.requestId, quorum } };
    });
    if (request.transition === 'destroy') {
      const custody = this.deps.custody.get(after.custody);
      if (!custody) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', `no ${after.custody} custody is configured`);
      await custody.destroyKey(after.custodyRef);
    }
    return after;
  }
  /** The inventory (public facts; the caller maps them, no secret is in a KeyRecord besides the opaque custody ref). */
  async listKeys(filter: { readonly walletId?: string; readonly chain?: string } = {}): Promise<KeyRecord[]> {
    return this.#adminStore().listKeys(filter);
  }

  async getKey(keyId: string): Promise<KeyRecord> {
    const key = await this.deps.store.getKey(keyId);
    if (!key) throw new SignerError('KEY_NOT_FOUND', `no key ${keyId} in the inventory`);
    return key;
  }

  /**
   * Backup (C-9.3.7.3-a/b) under a quorum: the key is split M-of-N with Shamir and each
   * share encrypted to one custodian; only custodies with extractable software keys
   * (local sealed) support it. The action is recorded (request id UNIQUE) before the
   * shares are returned; a replay returns nothing.
   */
  async createBackupShares(request: BackupRequest, signatures: readonly OperatorSignature[]): Promise<{ key: KeyRecord; manifest: BackupManifest; shares: EncryptedShare[] }> {
    const quorum = this.#quorum('backup', backupRequest(request), signatures);
    const store = this.#adminStore();
    const key = await this.getKey(request.keyId);
    if (key.state === 'destroyed') throw new SignerError('INVALID_TRANSITION', `key ${key.keyId} is destroyed`);
    const custody = this.deps.custody.get(key.custody);
    if (!custody) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', `no ${key.custody} custody is configured`);
    if (!isBackupCapable(custody)) throw new SignerError('BACKUP_NOT_SUPPORTED', `keys in ${key.custody} custody are not extractable: back them up by HSM cloning`);
    const backup = await custody.withKeyMaterial(key.custodyRef, key.algorithm, (secret) => createBackup(request.requestId, secret, request.threshold, request.custodians));
    const actor = quorum.approvals.map((a) => a.operatorId).join(',');
    const recorded = await store.recordKeyAction(
      {
        keyId: key.keyId,
        action: 'backup-created',
        actor,
        reason: `backup ${backup.manifest.backupId} ${backup.manifest.threshold}-of-${backup.manifest.total} to ${backup.manifest.custodians.join(',')} fingerprint ${backup.manifest.fingerprint}`.slice(0, 2000),
        requestId: request.requestId,
        at: this.deps.clock.now(),
        quorum,
      },
      (locked) => {
        if (!equalBytes(locked.publicKey, key.publicKey) || locked.custodyRef !== key.custodyRef) throw new SignerError('INVALID_TRANSITION', `key ${key.keyId} changed during the backup`);
        return locked;
      },
    );
    return { key: recorded, manifest: backup.manifest, shares: backup.shares };
  }

  /**
   * Restore (C-9.3.7.3-b/c) under a quorum: at least M opened shares rebuild the secret
   * (fewer, or shares of another backup, fail BACKUP_INVALID by the manifest fingerprint);
   * the rebuilt key must be the inventory key (same public key) and is re-sealed in the
   * local sealed store, the key row pointing at the new blob; state is unchanged (a
   * restored key signs only when active, with decision evidence as always: C-9.3.7.5-d).
   */
  async restoreFromShares(request: RestoreRequest, signatures: readonly OperatorSignature[]): Promise<KeyRecord> {
    const quorum = this.#quorum('restore', restoreRequest(request), signatures);
    const store = this.#adminStore();
    const key = await this.getKey(request.keyId);
    if (key.state === 'destroyed') throw new SignerError('INVALID_TRANSITION', `key ${key.keyId} is destroyed`);
    const target = this.deps.custody.get('local-sealed');
    if (!target || !isBackupCapable(target)) throw new SignerError('BACKUP_NOT_SUPPORTED', 'restoring needs the local sealed store');
    const secret = await restoreBackup(
      request.manifest,
      request.shares.map((s) => ({ share: { backupId: request.manifest.backupId, index: s.index }, plain: s.share })),
    ).catch((error: unknown) => {
      // combine() rejects malformed shares with plain errors: a refusal, not a fault.
      throw error instanceof SignerError ? error : new SignerError('BACKUP_INVALID', `the shares of backup ${request.manifest.backupId} are malformed`, { cause: error });
    });
    let imported: { ref: string } | undefined;
    try {
      if (!equalBytes(publicKeyOfSecret(key.algorithm, secret), key.publicKey)) throw new SignerError('BACKUP_INVALID', `the shares do not rebuild key ${key.keyId}`);
      imported = await target.importKey(key.algorithm, secret, `${key.walletId}/${key.keyId}`.slice(0, 64));
    } finally {
      wipe(secret);
    }
    const previous = { custody: key.custody, ref: key.custodyRef };
    const newRef = imported.ref;
    try {
      const restored = await store.recordKeyAction(
        {
          keyId: key.keyId,
          action: 'restored',
          actor: quorum.approvals.map((a) => a.operatorId).join(','),
          reason: `restored from backup ${request.manifest.backupId} (${request.shares.length} shares) into local-sealed`,
          requestId: request.requestId,
          at: this.deps.clock.now(),
          quorum,
        },
        (locked) => {
          if (!equalBytes(locked.publicKey, key.publicKey)) throw new SignerError('INVALID_TRANSITION', `key ${key.keyId} changed during the restore`);
          return { ...locked, custody: 'local-sealed', custodyRef: newRef, updatedAt: this.deps.clock.now() };
        },
      );
      // The superseded local blob held the same key: remove that copy (best effort).
      if (previous.custody === 'local-sealed' && previous.ref !== newRef) await target.destroyKey(previous.ref).catch(() => undefined);
      return restored;
    } catch (error) {
      await target.destroyKey(newRef).catch(() => undefined);
      throw error;
    }
  }

  #adminStore(): KeyAdminStore {
    if (!this.deps.adminStore) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'no key admin store is configured');
    return this.deps.adminStore;
  }
}
