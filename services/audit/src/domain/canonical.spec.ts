import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { GENESIS_HASH, encodeCheckpoint, encodeRecord, payloadDigest, recordHash, type RecordContent } from './canonical.js';

const content: RecordContent = {
  sequence: 7n,
  prevHash: new Uint8Array(32).fill(0xab),
  occurredAt: new Date('2026-11-24T10:00:00.123Z'),
  recordedAt: new Date('2026-11-24T10:00:01.000Z'),
  kind: 'event',
  actor: 'intake',
  action: 'custody.withdrawal.requested.v1',
  eventId: '0b8f2c5e-7d1a-4a39-9d55-3f0e8c1b2a77',
  correlationId: 'corr-1',
  causationId: '',
  producer: 'intake',
  payloadDigest: payloadDigest(new TextEncoder().encode('payload')),
};

/** Independent re-implementation of docs/audit.md's definition with node:crypto and Buffer. */
function reference(r: RecordContent): string {
  const field = (b: Buffer): Buffer => Buffer.concat([Buffer.from([b.length >>> 24, (b.length >>> 16) & 255, (b.length >>> 8) & 255, b.length & 255]), b]);
  const u64 = (v: bigint): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(v);
    return b;
  };
  const i64 = (d: Date): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigInt64BE(BigInt(d.getTime()));
    return b;
  };
  const s = (x: string): Buffer => Buffer.from(x, 'utf8');
  const bytes = Buffer.concat([
    Buffer.from('custody.audit.v1.record\0', 'utf8'),
    ...[u64(r.sequence), Buffer.from(r.prevHash), i64(r.occurredAt), i64(r.recordedAt), s(r.kind), s(r.actor), s(r.action), s(r.eventId), s(r.correlationId), s(r.causationId), s(r.producer), Buffer.from(r.payloadDigest)].map(field),
  ]);
  return createHash('sha256').update(bytes).digest('hex');
}

describe('canonical record encoding (docs/audit.md)', () => {
  it('record_hash matches an independent implementation of the definition', () => {
    expect(Buffer.from(recordHash(content)).toString('hex')).toBe(reference(content));
  });

  it('starts with the domain tag and a 0x00 separator, then the length-prefixed sequence', () => {
    const bytes = encodeRecord(content);
    const tag = Buffer.from('custody.audit.v1.record\0');
    expect(Buffer.from(bytes.subarray(0, tag.length)).equals(tag)).toBe(true);
    expect([...bytes.subarray(tag.length, tag.length + 12)]).toEqual([0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 7]);
  });

  it('every covered field changes the hash', () => {
    const base = Buffer.from(recordHash(content)).toString('hex');
    const variants: Partial<RecordContent>[] = [
      { sequence: 8n },
      { prevHash: GENESIS_HASH },
      { occurredAt: new Date(content.occurredAt.getTime() + 1) },
      { recordedAt: new Date(content.recordedAt.getTime() + 1) },
      { kind: 'operator' },
      { actor: 'intakf' },
      { action: 'custody.withdrawal.status.v1' },
      { eventId: 'x' },
      { correlationId: 'corr-2' },
      { causationId: 'c' },
      { producer: 'policy' },
      { payloadDigest: new Uint8Array(32) },
    ];
    for (const v of variants) expect(Buffer.from(recordHash({ ...content, ...v })).toString('hex')).not.toBe(base);
  });

  it('length prefixes keep field boundaries unambiguous', () => {
    const a = recordHash({ ...content, actor: 'ab', action: 'c' });
    const b = recordHash({ ...content, actor: 'a', action: 'bc' });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('rejects a prev hash of the wrong length and a negative sequence', () => {
    expect(() => encodeRecord({ ...content, prevHash: new Uint8Array(31) })).toThrow(/prevHash must be 32 bytes/);
    expect(() => encodeRecord({ ...content, sequence: -1n })).toThrow(/sequence/);
  });

  it('checkpoint message is domain-separated from records', () => {
    const msg = encodeCheckpoint({ sequence: 7n, recordHash: new Uint8Array(32), createdAt: new Date(0), keyId: 'k1' });
    expect(Buffer.from(msg.subarray(0, 28)).toString('utf8')).toBe('custody.audit.v1.checkpoint\0');
  });
});
