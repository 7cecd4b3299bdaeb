import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { ed25519 } from '@noble/curves/ed25519.js';
import { decodeSigningInput, encodeBody, encodeSigningInput, SIGNING_DOMAIN, type SigningEnvelope } from './canonical.js';

const envelopeArb: fc.Arbitrary<SigningEnvelope> = fc.record({
  method: fc.string(),
  clientId: fc.string(),
  keyId: fc.string(),
  timestampMs: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  nonce: fc.string(),
  body: fc.array(fc.tuple(fc.string(), fc.string({ unit: 'grapheme' })), { maxLength: 8 }),
});

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('C-9.3.6.3-e canonical request encoding (properties)', () => {
  it('round-trips: decode(encode(x)) == x', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        expect(decodeSigningInput(encodeSigningInput(e))).toEqual({ ...e, body: e.body.map(([n, v]) => [n, v]) });
      }),
    );
  });

  it('is injective: different envelopes never encode to the same bytes', () => {
    fc.assert(
      fc.property(envelopeArb, envelopeArb, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(hex(encodeSigningInput(a))).not.toBe(hex(encodeSigningInput(b)));
      }),
    );
  });

  it('moving bytes between adjacent fields changes the encoding (no concatenation ambiguity)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), (x, y) => {
        const a = encodeBody([['a', x + y]]);
        const b = encodeBody([['a', x], ['', y]]);
        expect(hex(a)).not.toBe(hex(b));
      }),
    );
  });

  it('starts with the domain tag and is deterministic', () => {
    fc.assert(
      fc.property(envelopeArb, (e) => {
        const bytes = encodeSigningInput(e);
        expect(Buffer.from(bytes.subarray(0, SIGNING_DOMAIN.length)).toString()).toBe(SIGNING_DOMAIN);
        expect(hex(encodeSigningInput(e))).toBe(hex(bytes));
      }),
    );
  });

  it('a signature over one request never verifies for a changed field', () => {
    const secret = ed25519.utils.randomSecretKey();
    const pub = ed25519.getPublicKey(secret);
    fc.assert(
      fc.property(envelopeArb, fc.string({ minLength: 1 }), (e, extra) => {
        const sig = ed25519.sign(encodeSigningInput(e), secret);
        expect(ed25519.verify(sig, encodeSigningInput(e), pub)).toBe(true);
        expect(ed25519.verify(sig, encodeSigningInput({ ...e, nonce: e.nonce + extra }), pub)).toBe(false);
        expect(ed25519.verify(sig, encodeSigningInput({ ...e, timestampMs: e.timestampMs === 0 ? 1 : e.timestampMs - 1 }), pub)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });

  it('matches the byte layout documented in docs/intake.md (known answer)', () => {
    const bytes = encodeSigningInput({ method: '/m', clientId: 'c', keyId: 'k', timestampMs: 5, nonce: 'n', body: [['a', 'b']] });
    expect(hex(bytes)).toBe(
      Buffer.from(SIGNING_DOMAIN).toString('hex') +
        '000000022f6d' + '0000000163' + '000000016b' + '0000000135' + '000000016e' + '0000000a' + '0000000161' + '0000000162',
    );
  });
});
