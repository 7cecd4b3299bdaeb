// Chain verification, streaming: feed the records in sequence order, then finish(). The
// first problem found (lowest sequence) is the answer; nothing after it is trusted.
// Checkpoint signatures are checked against trusted public keys given by the caller, never
// against keys read from the database being verified.
import { ed25519 } from '@noble/curves/ed25519.js';
import { GENESIS_HASH, bytesEqual, encodeCheckpoint, payloadDigest, recordHash, toHex, type CheckpointContent, type RecordContent } from './canonical.js';

export interface StoredRecord extends RecordContent {
  readonly recordHash: Uint8Array;
  readonly payload: Uint8Array;
}

export interface StoredCheckpoint extends CheckpointContent {
  readonly signature: Uint8Array;
}

export type BreakKind =
  | 'RECORD_MISSING'
  | 'PAYLOAD_DIGEST_MISMATCH'
  | 'RECORD_HASH_MISMATCH'
  | 'PREV_HASH_MISMATCH'
  | 'CHECKPOINT_UNKNOWN_KEY'
  | 'CHECKPOINT_BAD_SIGNATURE'
  | 'CHECKPOINT_MISMATCH'
  | 'HEAD_MISMATCH';

export interface ChainBreak {
  /** The first record that is not what the chain says it should be. */
  readonly sequence: bigint;
  readonly kind: BreakKind;
  readonly detail: string;
}

export interface VerificationReport {
  readonly ok: boolean;
  readonly recordsChecked: number;
  readonly checkpointsChecked: number;
  /** Sequence of the last record that verified. */
  readonly lastGoodSequence: bigint;
  readonly firstBreak?: ChainBreak;
}

export interface ChainHead {
  readonly sequence: bigint;
  readonly hash: Uint8Array;
}

export class ChainVerifier {
  private expected = 1n;
  private prevHash: Uint8Array = GENESIS_HASH;
  private recordsChecked = 0;
  private checkpointsChecked = 0;
  private broken: ChainBreak | undefined;
  private readonly checkpoints: Map<bigint, StoredCheckpoint[]>;

  constructor(
    checkpoints: readonly StoredCheckpoint[],
    private readonly trustedKeys: ReadonlyMap<string, Uint8Array>,
  ) {
    this.checkpoints = new Map();
    for (const c of checkpoints) {
      const list = this.checkpoints.get(c.sequence) ?? [];
      list.push(c);
      this.checkpoints.set(c.sequence, list);
    }
  }

  get firstBreak(): ChainBreak | undefined {
    return this.broken;
  }

  /** Checks one record; returns false once the chain is broken (stop feeding). */
  next(record: StoredRecord): boolean {
    if (this.broken) return false;
    this.broken = this.check(record);
    if (this.broken) return false;
    this.recordsChecked++;
    this.prevHash = record.recordHash;
    this.expected = record.sequence + 1n;
    return true;
  }

  /** After the last record: checkpoints past the end and the head row must agree with the walk. */
  finish(head?: ChainHead): VerificationReport {
    const last = this.expected - 1n;
    if (!this.broken) {
      const beyond = [...this.checkpoints.keys()].filter((s) => s > last).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))[0];
      if (beyond !== undefined) {
        this.broken = { sequence: last + 1n, kind: 'RECORD_MISSING', detail: `record ${last + 1n} is missing: a signed checkpoint covers the chain up to ${beyond} but the last record is ${last}` };
      } else if (head && (head.sequence !== last || (last > 0n && !bytesEqual(head.hash, this.prevHash)))) {
        this.broken =
          head.sequence > last
            ? { sequence: last + 1n, kind: 'RECORD_MISSING', detail: `record ${last + 1n} is missing: the chain head says ${head.sequence} records were appended but the last record is ${last}` }
            : { sequence: head.sequence, kind: 'HEAD_MISMATCH', detail: `the chain head (sequence ${head.sequence}) does not match the last record (${last})` };
      }
    }
    return {
      ok: this.broken === undefined,
      recordsChecked: this.recordsChecked,
      checkpointsChecked: this.checkpointsChecked,
      lastGoodSequence: this.broken ? this.broken.sequence - 1n : last,
      ...(this.broken ? { firstBreak: this.broken } : {}),
    };
  }

  private check(r: StoredRecord): ChainBreak | undefined {
    if (r.sequence !== this.expected) {
      return { sequence: this.expected, kind: 'RECORD_MISSING', detail: `record ${this.expected} is missing (the next record found is ${r.sequence})` };
    }
    if (!bytesEqual(payloadDigest(r.payload), r.payloadDigest)) {
      return { sequence: r.sequence, kind: 'PAYLOAD_DIGEST_MISMATCH', detail: `record ${r.sequence}: the stored payload does not match its digest (payload altered)` };
    }
    if (!bytesEqual(recordHash(r), r.recordHash)) {
      return { sequence: r.sequence, kind: 'RECORD_HASH_MISMATCH', detail: `record ${r.sequence}: record_hash does not match its content (content altered, renumbered or reordered)` };
    }
    if (!bytesEqual(r.prevHash, this.prevHash)) {
      return {
        sequence: r.sequence,
        kind: 'PREV_HASH_MISMATCH',
        detail: `record ${r.sequence}: prev_hash ${toHex(r.prevHash).slice(0, 16)}… does not link to record ${r.sequence - 1n} (${toHex(this.prevHash).slice(0, 16)}…)`,
      };
    }
    for (const c of this.checkpoints.get(r.sequence) ?? []) {
      const key = this.trustedKeys.get(c.keyId);
      if (!key) return { sequence: r.sequence, kind: 'CHECKPOINT_UNKNOWN_KEY', detail: `checkpoint at ${r.sequence} is signed with key "${c.keyId}", which is not a trusted audit key` };
      if (!verifySignature(c, key)) return { sequence: r.sequence, kind: 'CHECKPOINT_BAD_SIGNATURE', detail: `checkpoint at ${r.sequence}: signature does not verify with key "${c.keyId}"` };
      if (!bytesEqual(c.recordHash, r.recordHash)) {
        return {
          sequence: r.sequence,
          kind: 'CHECKPOINT_MISMATCH',
          detail: `record ${r.sequence} differs from the signed checkpoint: the chain was rewritten at or before ${r.sequence}`,
        };
      }
      this.checkpointsChecked++;
    }
    return undefined;
  }
}

function verifySignature(c: StoredCheckpoint, publicKey: Uint8Array): boolean {
  try {
    return ed25519.verify(c.signature, encodeCheckpoint(c), publicKey);
  } catch {
    return false;
  }
}
