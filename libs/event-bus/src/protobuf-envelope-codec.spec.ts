import { describe, expect, it } from '@jest/globals';
import { EventEnvelope } from '@custody/contracts';
import fc from 'fast-check';
import { createEnvelope, type Envelope } from './envelope.js';
import { protobufEnvelopeCodec } from './protobuf-envelope-codec.js';

const base = {
  type: 'custody.withdrawal.requested.v1',
  key: 'wd-1',
  correlationId: 'corr-1',
  producer: 'intake',
  schemaVersion: 1,
  payload: new Uint8Array([0x0a, 0x01, 0x41]),
};

describe('protobufEnvelopeCodec', () => {
  it('round-trips every field (property)', () => {
    fc.assert(
      fc.property(
        fc.uuid(),
        fc.string({ minLength: 1 }),
        fc.string({ minLength: 1 }),
        fc.option(fc.string({ minLength: 1 }), { nil: undefined }),
        fc.dictionary(fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,20}$/), fc.string()),
        fc.date({ min: new Date(0), max: new Date('2200-01-01'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 1000 }),
        fc.uint8Array({ maxLength: 200 }),
        (id, key, correlationId, causationId, traceContext, occurredAt, schemaVersion, payload) => {
          const envelope = createEnvelope({ ...base, id, key, correlationId, causationId, traceContext, occurredAt, schemaVersion, payload });
          const decoded = protobufEnvelopeCodec.decode(protobufEnvelopeCodec.encode(envelope));
          expect({ ...decoded, payload: Uint8Array.from(decoded.payload) }).toEqual({ ...envelope, payload: Uint8Array.from(payload) });
        },
      ),
    );
  });

  it('writes the custody.events.v1.EventEnvelope wire format', () => {
    const envelope = createEnvelope({ ...base, id: '0b4c5f9e-2f0a-4a53-9e35-5d8a7e9f0a11', occurredAt: new Date('2026-11-24T10:00:00.123Z') });
    const wire = EventEnvelope.decode(protobufEnvelopeCodec.encode(envelope));
    expect(wire).toMatchObject({
      id: envelope.id,
      type: base.type,
      key: 'wd-1',
      causationId: '',
      occurredAt: { seconds: '1795514400', nanos: 123_000_000 },
      schemaVersion: 1,
    });
  });

  it('refuses bytes that are not a valid envelope with ENVELOPE_DECODE_FAILED', () => {
    expect(() => protobufEnvelopeCodec.decode(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toThrow(expect.objectContaining({ code: 'ENVELOPE_DECODE_FAILED' }) as unknown as Error);
    expect(() => protobufEnvelopeCodec.decode(new TextEncoder().encode('{"json":true}'))).toThrow(/EventEnvelope/);
    const noId = EventEnvelope.encode(EventEnvelope.fromPartial({ type: 't', key: 'k', producer: 'p', schemaVersion: 1, occurredAt: { seconds: '1', nanos: 0 } })).finish();
    expect(() => protobufEnvelopeCodec.decode(noId)).toThrow(/envelope\.id must be a UUID/);
  });
});

describe('createEnvelope', () => {
  it('fills id and time from its ports and freezes the result', () => {
    const envelope: Envelope = createEnvelope(base, { newId: () => '11111111-2222-4333-8444-555555555555', now: () => new Date(5) });
    expect(envelope.id).toBe('11111111-2222-4333-8444-555555555555');
    expect(envelope.occurredAt).toEqual(new Date(5));
    expect(envelope.traceContext).toEqual({});
    expect(Object.isFrozen(envelope)).toBe(true);
  });

  it('names the bad field', () => {
    expect(() => createEnvelope({ ...base, key: '' })).toThrow('envelope.key must be a non-empty string');
    expect(() => createEnvelope({ ...base, schemaVersion: 0 })).toThrow('envelope.schemaVersion must be an integer >= 1');
    expect(() => createEnvelope({ ...base, id: 'not-a-uuid' })).toThrow(/envelope\.id must be a UUID/);
    // Trace-context names a plain-object map would lose or misread are refused, not dropped.
    expect(() => createEnvelope({ ...base, traceContext: JSON.parse('{"__proto__":"x"}') as Record<string, string> })).toThrow(/envelope\.traceContext name "__proto__" must match/);
    expect(() => createEnvelope({ ...base, traceContext: { TraceParent: '00-x' } })).toThrow(/envelope\.traceContext name "TraceParent"/);
    expect(createEnvelope({ ...base, traceContext: { traceparent: '00-abc-01' } }).traceContext).toEqual({ traceparent: '00-abc-01' });
  });
});
