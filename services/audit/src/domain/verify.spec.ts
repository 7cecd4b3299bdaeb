import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { GENESIS_HASH, encodeCheckpoint, payloadDigest, recordHash, type RecordContent } from './canonical.js';
import { ChainVerifier, type StoredCheckpoint, type StoredRecord } from './verify.js';

const secret = ed25519.utils.randomSecretKey();
const keys = new Map([['audit-k1', ed25519.getPublicKey(secret)]]);

function chain(n: number): StoredRecord[] {
  const out: StoredRecord[] = [];
  let prev = GENESIS_HASH;
  for (let i = 1; i <= n; i++) {
    const payload = new TextEncoder().encode(`event ${i}`);
    const content: RecordContent = {
      sequence: BigInt(i),
      prevHash: prev,
      occurredAt: new Date(1_800_000_000_000 + i),
      recordedAt: new Date(1_800_000_000_500 + i),
      kind: 'event',
      actor: 'intake',
      action: 'custody.withdrawal.requested.v1',
      eventId: `e${i}`,
      correlationId: `c${i % 3}`,
      causationId: '',
      producer: 'intake',
      payloadDigest: payloadDigest(payload),
    };
    const r = { ...content, recordHash: recordHash(content), payload };
    out.push(r);
    prev = r.recordHash;
  }
  return out;
}

function checkpoint(r: StoredRecord, keyId = 'audit-k1', key = secret): StoredCheckpoint {
  const c = { sequence: r.sequence, recordHash: r.recordHash, createdAt: new Date(1_800_000_001_000), keyId };
  return { ...c, signature: ed25519.sign(encodeCheckpoint(c), key) };
}

function run(records: StoredRecord[], checkpoints: StoredCheckpoint[] = [], head?: { sequence: bigint; hash: Uint8Array }) {
  const v = new ChainVerifier(checkpoints, keys);
  for (const r of records) if (!v.next(r)) break;
  return v.finish(head);
}

const at = (records: StoredRecord[], i: number): StoredRecord => records[i] as StoredRecord;

describe('ChainVerifier', () => {
  it('an intact chain with checkpoints verifies', () => {
    const c = chain(10);
    const report = run(c, [checkpoint(at(c, 4)), checkpoint(at(c, 9))], { sequence: 10n, hash: at(c, 9).recordHash });
    expect(report).toMatchObject({ ok: true, recordsChecked: 10, checkpointsChecked: 2, lastGoodSequence: 10n });
  });

  it('an empty chain verifies', () => {
    expect(run([], [], { sequence: 0n, hash: GENESIS_HASH }).ok).toBe(true);
  });

  it('an altered payload is named by sequence', () => {
    const c = chain(6);
    c[3] = { ...at(c, 3), payload: new TextEncoder().encode('evil') };
    expect(run(c).firstBreak).toMatchObject({ sequence: 4n, kind: 'PAYLOAD_DIGEST_MISMATCH' });
  });

  it('an altered field (payload digest recomputed) breaks the record hash', () => {
    const c = chain(6);
    c[2] = { ...at(c, 2), actor: 'someone-else' };
    expect(run(c).firstBreak).toMatchObject({ sequence: 3n, kind: 'RECORD_HASH_MISMATCH' });
  });

  it('a deleted record is named', () => {
    const c = chain(6);
    c.splice(2, 1);
    expect(run(c).firstBreak).toMatchObject({ sequence: 3n, kind: 'RECORD_MISSING' });
  });

  it('a record rewritten with a valid own hash but the wrong link is named', () => {
    const c = chain(6);
    const r = at(c, 4);
    const content = { ...r, prevHash: new Uint8Array(32).fill(1) };
    c[4] = { ...content, recordHash: recordHash(content) };
    expect(run(c).firstBreak).toMatchObject({ sequence: 5n, kind: 'PREV_HASH_MISMATCH' });
  });

  it('a consistently rewritten chain is caught by the next signed checkpoint', () => {
    const original = chain(8);
    const cp = checkpoint(at(original, 6));
    // Rewrite record 3 and recompute every hash after it: hashes and links all agree.
    const rewritten: StoredRecord[] = original.slice(0, 2);
    let prev = at(original, 1).recordHash;
    for (const r of original.slice(2)) {
      const content = { ...r, prevHash: prev, actor: r.sequence === 3n ? 'forged' : r.actor };
      const next = { ...content, recordHash: recordHash(content) };
      rewritten.push(next);
      prev = next.recordHash;
    }
    expect(run(rewritten).ok).toBe(true);
    expect(run(rewritten, [cp]).firstBreak).toMatchObject({ sequence: 7n, kind: 'CHECKPOINT_MISMATCH' });
  });

  it('a forged checkpoint signature or an unknown key is named', () => {
    const c = chain(4);
    const forged = { ...checkpoint(at(c, 1)), signature: new Uint8Array(64) };
    expect(run(c, [forged]).firstBreak).toMatchObject({ sequence: 2n, kind: 'CHECKPOINT_BAD_SIGNATURE' });
    const other = ed25519.utils.randomSecretKey();
    expect(run(c, [checkpoint(at(c, 1), 'rogue', other)]).firstBreak).toMatchObject({ sequence: 2n, kind: 'CHECKPOINT_UNKNOWN_KEY' });
  });

  it('a truncated tail is caught by a checkpoint past the end or by the head row', () => {
    const c = chain(6);
    expect(run(c.slice(0, 4), [checkpoint(at(c, 5))]).firstBreak).toMatchObject({ sequence: 5n, kind: 'RECORD_MISSING' });
    expect(run(c.slice(0, 4), [], { sequence: 6n, hash: at(c, 5).recordHash }).firstBreak).toMatchObject({ sequence: 5n, kind: 'RECORD_MISSING' });
  });

  it('reports only the first break', () => {
    const c = chain(6);
    c[1] = { ...at(c, 1), payload: new Uint8Array([1]) };
    c[4] = { ...at(c, 4), payload: new Uint8Array([2]) };
    const report = run(c);
    expect(report.firstBreak?.sequence).toBe(2n);
    expect(report.lastGoodSequence).toBe(1n);
  });
});
