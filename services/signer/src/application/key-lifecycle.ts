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
import { publicKeyToAddress } from '../domain/crypto/evm.js';
import { applyAdminTransition, wrapGenerated, type AdminTransition, type CustodyKind, type KeyAlgorithm, type KeyRecord, type KeyTier } from '../domain/key.js';
import { countTransitionSignatures, type KeyTransitionRequest, type Operator, type OperatorSignature } from '../domain/operators.js';
import type { KeyCustody } from './key-custody.js';
import type { Clock, KeyStore } from './ports.js';

export type QuorumRule = Readonly<Record<AdminTransition | 'generate', number>>;

/** Defaults: one person may pull the emergency brake (C-5.4.4-b); everything else needs two or more. */
export const DEFAULT_ADMIN_QUORUM: QuorumRule = { generate: 2, activate: 2, deactivate: 1, suspend: 1, resume: 2, retire: 2, destroy: 3 };

export interface KeyLifecycleDeps {
  readonly store: KeyStore;
  readonly custody: ReadonlyMap<string, KeyCustody>;
  readonly clock: Clock;
  readonly operators: ReadonlyMap<string, Operator>;
  /** Roles whose members may sign admin key requests. */
  readonly adminRoles: readonly string[];
  readonly quorum?: QuorumRule;
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

  #quorum(transition: AdminTransition | 'generate', request: KeyTransitionRequest, signatures: readonly OperatorSignature[]): { required: number; approvals: OperatorSignature[] } {
    const now = Math.floor(this.deps.clock.now().getTime() / 1000);
    if (now >= request.expiresAt) throw new SignerError('QUORUM_NOT_MET', `admin request ${request.requestId} expired`);
    const required = (this.deps.quorum ?? DEFAULT_ADMIN_QUORUM)[transition];
    const count = countTransitionSignatures(request, signatures, this.deps.operators, this.deps.adminRoles);
    if (count.operators.length < required) {
      throw new SignerError('QUORUM_NOT_MET', `${transition} needs ${required} operator signatures, ${count.operators.length} count`);
    }
    const approvals = signatures.filter((s, i) => count.operators.includes(s.operatorId) && !count.problems.some((p) => p.index === i));
    return { required, approvals };
  }

  /** The generation ceremony: quorum, key generated inside the custody, wrapped → INACTIVE. */
  async generate(request: GenerateKeyRequest, signatures: readonly OperatorSignature[]): Promise<KeyRecord> {
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
}
