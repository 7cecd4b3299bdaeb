import { describe, expect, it } from '@jest/globals';
import { generateKeyPairSync, sign } from 'node:crypto';
import { AdminHeaders, ChainOperatorAuthenticator, adminSigningDigest } from './operator-auth.js';

const now = new Date('2026-11-24T12:00:00Z');
const alice = generateKeyPairSync('ed25519');
const raw = (k: typeof alice.publicKey): Uint8Array => new Uint8Array(k.export({ format: 'der', type: 'spki' }).subarray(12));
const PIN = 'ab'.repeat(32);
const auth = new ChainOperatorAuthenticator({ operators: [{ operatorId: 'alice', publicKey: raw(alice.publicKey), certificateSha256: [PIN] }], clock: { now: () => now } });
const METHOD = '/custody.chain.v1.ChainAdminService/ResumeChain';
const body = [['chain', 'anvil'], ['reason', 'checked with the node operators']] as const;

function call(over: { headers?: Record<string, string>; pin?: string | undefined; body?: readonly (readonly [string, string])[]; key?: typeof alice.privateKey } = {}) {
  const ts = String(now.getTime());
  const nonce = 'n0nce-0123456789abcdef';
  const signature = sign(null, adminSigningDigest(METHOD, 'alice', ts, nonce, body), over.key ?? alice.privateKey).toString('base64');
  const headers: Record<string, string> = { [AdminHeaders.operator]: 'alice', [AdminHeaders.timestamp]: ts, [AdminHeaders.nonce]: nonce, [AdminHeaders.signature]: signature, ...over.headers };
  return { method: METHOD, header: (n: string) => headers[n], certificateSha256: 'pin' in over ? over.pin : PIN, body: over.body ?? body };
}

describe('ChainAdminService operator authentication: pinned certificate AND Ed25519 signature', () => {
  it('accepts the pinned certificate with the operator signature over method, headers and body', () => {
    expect(auth.authenticate(call())).toMatchObject({ operatorId: 'alice', nonce: 'n0nce-0123456789abcdef', certificateSha256: PIN });
  });

  it.each([
    ['no client certificate', { pin: undefined }, 'OPERATOR_CERTIFICATE_REQUIRED'],
    ['a certificate pinned to nobody', { pin: 'cd'.repeat(32) }, 'OPERATOR_NOT_PINNED'],
    ['an unknown operator id', { headers: { [AdminHeaders.operator]: 'mallory' } }, 'OPERATOR_NOT_PINNED'],
    ['no signature', { headers: { [AdminHeaders.signature]: '' } }, 'SIGNATURE_REQUIRED'],
    ['a changed body (signature over another reason)', { body: [['chain', 'anvil'], ['reason', 'something else']] as const }, 'BAD_SIGNATURE'],
    ['another key', { key: generateKeyPairSync('ed25519').privateKey }, 'BAD_SIGNATURE'],
    ['a stale timestamp', { headers: { [AdminHeaders.timestamp]: String(now.getTime() - 600_000) } }, 'STALE_REQUEST'],
    ['a malformed nonce', { headers: { [AdminHeaders.nonce]: 'short' } }, 'NONCE_MALFORMED'],
  ])('refuses %s', (_name, over, code) => {
    expect(() => auth.authenticate(call(over))).toThrow(expect.objectContaining({ code }) as never);
  });
});
