// OperatorAuthenticator with in-memory fakes: both factors on every call, in a fixed order,
// and a nonce is consumed only by an authentic request.
import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeSigningInput, type BodyField } from '../domain/canonical.js';
import { AuthHeaders, type CallCredentials } from './authenticate.js';
import { OperatorAuthenticator, operatorNonceOwner } from './operator-auth.js';
import type { NonceStore } from './ports.js';

const NOW = new Date('2026-11-24T12:00:00Z');
const secret = ed25519.utils.randomSecretKey();
const other = ed25519.utils.randomSecretKey();
const ALICE = { operatorId: 'alice', keyId: 'a1', publicKey: ed25519.getPublicKey(secret), certificateSha256: ['aa'.repeat(32)] };
const BOB = { operatorId: 'bob', keyId: 'b1', publicKey: ed25519.getPublicKey(other), certificateSha256: ['bb'.repeat(32)] };
const METHOD = '/custody.intake.v1.IntakeAdminService/RevokeIntegrator';
const BODY: BodyField[] = [
  ['client_id', 'acme'],
  ['reason', 'x'],
];

class MemoryNonces implements NonceStore {
  readonly seen = new Set<string>();
  async remember(owner: string, nonce: string): Promise<boolean> {
    const k = `${owner}|${nonce}`;
    if (this.seen.has(k)) return false;
    this.seen.add(k);
    return true;
  }
}

function creds(opts: { cert?: string; signer?: { id: string; keyId: string; secret: Uint8Array }; nonce?: string; body?: BodyField[]; timestampMs?: number } = {}): CallCredentials {
  const headers = new Map<string, string>();
  if (opts.signer) {
    const nonce = opts.nonce ?? 'nonce-0123456789abcdef';
    const timestampMs = opts.timestampMs ?? NOW.getTime();
    const payload = encodeSigningInput({ method: METHOD, clientId: opts.signer.id, keyId: opts.signer.keyId, timestampMs, nonce, body: opts.body ?? BODY });
    headers.set(AuthHeaders.clientId, opts.signer.id);
    headers.set(AuthHeaders.keyId, opts.signer.keyId);
    headers.set(AuthHeaders.timestamp, String(timestampMs));
    headers.set(AuthHeaders.nonce, nonce);
    headers.set(AuthHeaders.signature, Buffer.from(ed25519.sign(payload, opts.signer.secret)).toString('base64'));
  }
  return { method: METHOD, header: (n) => headers.get(n), sourceAddress: '10.1.2.3', certificateFingerprint: opts.cert };
}

const setup = () => {
  const nonces = new MemoryNonces();
  return { nonces, auth: new OperatorAuthenticator({ operators: [ALICE, BOB], nonces, clock: { now: () => NOW }, timestampWindowMs: 60_000 }) };
};
const alice = { id: 'alice', keyId: 'a1', secret };

describe('operator authentication (pinned certificate AND signature)', () => {
  it('accepts alice over her certificate with her signature, records who, which certificate and from where', async () => {
    const { auth, nonces } = setup();
    const actor = await auth.authenticate(creds({ cert: 'AA'.repeat(32), signer: alice }), BODY);
    expect(actor).toMatchObject({ operatorId: 'alice', certificateSha256: 'aa'.repeat(32), sourceAddress: '10.1.2.3' });
    expect(ed25519.verify(actor.evidence.signature, actor.evidence.signedPayload, ALICE.publicKey)).toBe(true);
    expect(nonces.seen.has(`${operatorNonceOwner('alice')}|nonce-0123456789abcdef`)).toBe(true);
  });

  it.each([
    ['no certificate', creds({ signer: alice }), 'OPERATOR_CERTIFICATE_REQUIRED'],
    ['a certificate pinned to nobody', creds({ cert: 'cc'.repeat(32), signer: alice }), 'UNKNOWN_OPERATOR_CERTIFICATE'],
    ['no signature', creds({ cert: 'aa'.repeat(32) }), 'SIGNATURE_REQUIRED'],
    ['an unknown operator id', creds({ cert: 'aa'.repeat(32), signer: { id: 'mallory', keyId: 'm1', secret } }), 'UNKNOWN_OPERATOR'],
    ["bob's signature over alice's certificate", creds({ cert: 'aa'.repeat(32), signer: { id: 'bob', keyId: 'b1', secret: other } }), 'OPERATOR_CERTIFICATE_MISMATCH'],
    ['another key id', creds({ cert: 'aa'.repeat(32), signer: { id: 'alice', keyId: 'a2', secret } }), 'UNKNOWN_KEY'],
    ['a stale timestamp', creds({ cert: 'aa'.repeat(32), signer: alice, timestampMs: NOW.getTime() - 61_000 }), 'TIMESTAMP_OUT_OF_WINDOW'],
    ['a signature over another body', creds({ cert: 'aa'.repeat(32), signer: alice, body: [['client_id', 'other']] }), 'BAD_SIGNATURE'],
    ["alice's id signed with bob's key", creds({ cert: 'aa'.repeat(32), signer: { id: 'alice', keyId: 'a1', secret: other } }), 'BAD_SIGNATURE'],
  ])('refuses %s, consuming no nonce', async (_name, c, code) => {
    const { auth, nonces } = setup();
    await expect(auth.authenticate(c, BODY)).rejects.toMatchObject({ code });
    expect(nonces.seen.size).toBe(0);
  });

  it('refuses a replay of an accepted call', async () => {
    const { auth } = setup();
    const c = creds({ cert: 'aa'.repeat(32), signer: alice });
    await auth.authenticate(c, BODY);
    await expect(auth.authenticate(c, BODY)).rejects.toMatchObject({ code: 'REPLAYED_NONCE' });
  });
});
