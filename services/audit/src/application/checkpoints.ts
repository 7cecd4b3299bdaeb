// Periodic signed checkpoints: (sequence, record_hash) of the chain head, signed with the
// audit key. A checkpoint pins everything up to it: rewriting the chain consistently (all
// hashes recomputed) still fails verification at the first checkpoint after the edit.
import { encodeCheckpoint } from '../domain/canonical.js';
import type { StoredCheckpoint } from '../domain/verify.js';
import type { AuditStore, CheckpointSigner, Clock } from './ports.js';

export class Checkpointer {
  constructor(private readonly deps: { readonly store: AuditStore; readonly signer: CheckpointSigner; readonly clock: Clock }) {}

  /** Signs the current head unless it is already checkpointed or the chain is empty. */
  async checkpoint(): Promise<StoredCheckpoint | undefined> {
    const head = await this.deps.store.head();
    if (head.sequence === 0n) return undefined;
    const latest = await this.deps.store.latestCheckpoint();
    if (latest && latest.sequence >= head.sequence) return undefined;
    const content = { sequence: head.sequence, recordHash: head.hash, createdAt: this.deps.clock.now(), keyId: this.deps.signer.keyId };
    const signature = await this.deps.signer.sign(encodeCheckpoint(content));
    const checkpoint: StoredCheckpoint = { ...content, signature };
    await this.deps.store.insertCheckpoint(checkpoint);
    return checkpoint;
  }
}
