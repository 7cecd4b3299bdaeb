import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { SoftwareAuthenticator } from '../adapters/operators/software-authenticator.js';
import { approvalSigningBytes, type ApprovalSubject } from './approval.js';
import {
  FLAG_UP,
  FLAG_UV,
  checkDeviceAssertion,
  devicePublicKeyFromCose,
  parseAuthenticatorData,
  signCountAdvances,
  verifyDeviceSignature,
  type DeviceAssertion,
  type DeviceAssertionPolicy,
  type DeviceCheck,
  type RegisteredDevice,
} from './device-assertion.js';

const RP = 'console.custody.example';
const ORIGIN = `https://${RP}`;
const policy: DeviceAssertionPolicy = { required: true, rpId: RP, origins: [ORIGIN], allowedKinds: ['security-key', 'platform'] };

const subject: ApprovalSubject = {
  decisionId: '3f1c1f9e-6a3b-4c8e-9f57-3c1d2b4a5e6f',
  withdrawalId: 'wd-1',
  asset: 'ETH',
  sourceWallet: 'eth-hot-01',
  destinationAddress: '0xdest',
  destinationTag: '',
  amount: 25_000_000_000_000_000_000n,
  bundleDigest: 'ab'.repeat(32),
  quorum: 2,
  roles: ['treasury', 'compliance'],
  expiresAt: 1_750_000_000,
};
const NOW = subject.expiresAt - 100;
const signing = (operatorId = 'op-alice', role = 'compliance', verdict: 'approve' | 'reject' = 'approve'): Uint8Array => approvalSigningBytes(subject, operatorId, role, verdict);

const key = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN });
const edKey = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN, keyType: 'ed25519' });
const device = (a: SoftwareAuthenticator, over: Partial<RegisteredDevice> = {}): RegisteredDevice => ({ ...a.registration('security-key', NOW - 86_400), ...over });

function check(assertion: DeviceAssertion | undefined, over: Partial<DeviceCheck> = {}, reg: RegisteredDevice = device(key)): ReturnType<typeof checkDeviceAssertion> {
  return checkDeviceAssertion({ policy, assertion, operatorId: 'op-alice', registered: { operatorId: 'op-alice', device: reg }, signingBytes: signing(), now: NOW, ...over });
}
const refusal = (r: ReturnType<typeof checkDeviceAssertion>): string | undefined => (r.ok ? undefined : r.refusal);

describe('C-8.2.2.5-e spoofing-resistant approver identity: WebAuthn assertions of registered devices', () => {
  it('accepts an ES256 and an Ed25519 assertion with UP+UV for this vote, and returns the device and counter', () => {
    const r = check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { signCount: 41 }));
    expect(r).toEqual({ ok: true, verified: { deviceId: key.credentialId, signCount: 41 } });
    expect(check(edKey.assertVote(subject, 'op-alice', 'compliance', 'approve'), {}, device(edKey)).ok).toBe(true);
  });

  it('refuses a password-only vote (no assertion) when required; accepts it only when the policy does not require one', () => {
    expect(refusal(check(undefined))).toBe('DEVICE_ASSERTION_REQUIRED');
    expect(check(undefined, { policy: { ...policy, required: false } })).toEqual({ ok: true });
  });

  it('verifies an assertion that is sent even when not required (a bad one is never ignored)', () => {
    const other = key.assertVote({ ...subject, decisionId: 'other' }, 'op-alice', 'compliance', 'approve');
    expect(refusal(check(other, { policy: { ...policy, required: false } }))).toBe('DEVICE_CHALLENGE_MISMATCH');
  });

  it('refuses unregistered, foreign, revoked, not-yet-registered and software authenticators', () => {
    const a = key.assertVote(subject, 'op-alice', 'compliance', 'approve');
    expect(refusal(check(a, { registered: undefined }))).toBe('UNKNOWN_DEVICE');
    expect(refusal(check(a, {}, device(key, { deviceId: 'another-credential-id-000' })))).toBe('UNKNOWN_DEVICE');
    expect(refusal(check(a, {}, device(key, { registeredAt: NOW + 1 })))).toBe('UNKNOWN_DEVICE');
    expect(refusal(check(a, { registered: { operatorId: 'op-bob', device: device(key) } }))).toBe('DEVICE_NOT_OPERATORS');
    expect(refusal(check(a, {}, device(key, { revokedAt: NOW })))).toBe('DEVICE_REVOKED');
    expect(check(a, {}, device(key, { revokedAt: NOW + 1 })).ok).toBe(true);
    expect(refusal(check(a, {}, device(key, { kind: 'software' })))).toBe('DEVICE_KIND_NOT_ALLOWED');
  });

  it('refuses an assertion a phishing site obtained (other origin, other rpId, cross-origin iframe)', () => {
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { origin: 'https://console.custody-example.com' })))).toBe('DEVICE_ORIGIN_MISMATCH');
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { rpId: 'custody-example.com' })))).toBe('DEVICE_RP_ID_MISMATCH');
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { crossOrigin: true })))).toBe('DEVICE_ORIGIN_MISMATCH');
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve'), { policy: { ...policy, rpId: undefined } }))).toBe('DEVICE_RP_ID_MISMATCH');
  });

  it('refuses an assertion made for another decision, operator, role or verdict (replay)', () => {
    const a = key.assertVote(subject, 'op-alice', 'compliance', 'approve');
    expect(refusal(check(a, { signingBytes: approvalSigningBytes({ ...subject, decisionId: 'dec-2' }, 'op-alice', 'compliance', 'approve') }))).toBe('DEVICE_CHALLENGE_MISMATCH');
    expect(refusal(check(a, { signingBytes: approvalSigningBytes({ ...subject, amount: subject.amount + 1n }, 'op-alice', 'compliance', 'approve') }))).toBe('DEVICE_CHALLENGE_MISMATCH');
    expect(refusal(check(a, { signingBytes: signing('op-alice', 'treasury') }))).toBe('DEVICE_CHALLENGE_MISMATCH');
    expect(refusal(check(a, { signingBytes: signing('op-alice', 'compliance', 'reject') }))).toBe('DEVICE_CHALLENGE_MISMATCH');
  });

  it('refuses without user presence or user verification (no PIN/biometric on the device)', () => {
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { flags: FLAG_UV })))).toBe('DEVICE_USER_NOT_PRESENT');
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { flags: FLAG_UP })))).toBe('DEVICE_USER_NOT_VERIFIED');
  });

  it('refuses a registration ceremony, malformed client data and a signature by another key', () => {
    expect(refusal(check(key.assertVote(subject, 'op-alice', 'compliance', 'approve', { type: 'webauthn.create' })))).toBe('DEVICE_ASSERTION_MALFORMED');
    const a = key.assertVote(subject, 'op-alice', 'compliance', 'approve');
    expect(refusal(check({ ...a, clientDataJSON: new TextEncoder().encode('[1]') }))).toBe('DEVICE_ASSERTION_MALFORMED');
    expect(refusal(check({ ...a, credentialId: 'short' }))).toBe('DEVICE_ASSERTION_MALFORMED');
    expect(refusal(check({ ...a, authenticatorData: a.authenticatorData.subarray(0, 36) }))).toBe('DEVICE_ASSERTION_MALFORMED');
    expect(refusal(check(a, {}, device(key, { publicKey: edKey.publicKey, keyType: 'ed25519' })))).toBe('DEVICE_SIGNATURE_INVALID');
    const stranger = SoftwareAuthenticator.generate({ rpId: RP, origin: ORIGIN, credentialId: key.credentialId });
    expect(refusal(check(stranger.assertVote(subject, 'op-alice', 'compliance', 'approve')))).toBe('DEVICE_SIGNATURE_INVALID');
  });

  it('property: any tampered byte of authenticator data, client data or signature is refused', () => {
    const a = key.assertVote(subject, 'op-alice', 'compliance', 'approve');
    const parts = ['authenticatorData', 'clientDataJSON', 'signature'] as const;
    fc.assert(
      fc.property(fc.constantFrom(...parts), fc.nat(), fc.integer({ min: 1, max: 255 }), (part, at, xor) => {
        const bytes = new Uint8Array(a[part]);
        const i = at % bytes.length;
        bytes[i] = (bytes[i] as number) ^ xor;
        expect(check({ ...a, [part]: bytes }).ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('signature counter: must grow once non-zero; 0 only from an authenticator that never counted (WebAuthn §7.2 step 21)', () => {
    expect(signCountAdvances(undefined, 0)).toBe(true);
    expect(signCountAdvances(0, 0)).toBe(true);
    expect(signCountAdvances(0, 1)).toBe(true);
    expect(signCountAdvances(5, 6)).toBe(true);
    expect(signCountAdvances(5, 5)).toBe(false);
    expect(signCountAdvances(5, 4)).toBe(false);
    expect(signCountAdvances(5, 0)).toBe(false);
    fc.assert(fc.property(fc.nat(), fc.nat(), (s, n) => signCountAdvances(s, n) === (n > s || (n === 0 && s === 0))));
  });

  it('parses authenticator data: 37 bytes, extensions only with ED, never attested credential data', () => {
    const a = key.assertVote(subject, 'op-alice', 'compliance', 'approve', { signCount: 0x01020304 });
    expect(parseAuthenticatorData(a.authenticatorData)).toMatchObject({ flags: FLAG_UP | FLAG_UV, signCount: 0x01020304 });
    const withAT = new Uint8Array(a.authenticatorData);
    withAT[32] = 0x45;
    expect(parseAuthenticatorData(withAT)).toBeUndefined();
    expect(parseAuthenticatorData(new Uint8Array([...a.authenticatorData, 0xa0]))).toBeUndefined();
  });
});

// A real assertion made by a browser (py_webauthn's EC2 test vector, duo-labs/py_webauthn
// tests/test_verify_authentication_response.py): an independent implementation produced it.
describe('C-8.2.2.5-e interoperability with a browser-made WebAuthn assertion', () => {
  const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64url'));
  const cose = b64('pQECAyYgASFYIIeDTe-gN8A-zQclHoRnGFWN8ehM1b7yAsa8I8KIvmplIlgg4nFGT5px8o6gpPZZhO01wdy9crDSA_Ngtkx0vGpvPHI');
  const browser: DeviceAssertion = {
    credentialId: 'EDx9FfAbp4obx6oll2oC4-CZuDidRVV4gZhxC529ytlnqHyqCStDUwfNdm1SNHAe3X5KvueWQdAX3x9R1a2b9Q',
    authenticatorData: b64('SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAATg'),
    clientDataJSON: b64(
      'eyJjaGFsbGVuZ2UiOiJ4aTMwR1BHQUZZUnhWRHBZMXNNMTBEYUx6VlFHNjZudi1fN1JVYXpIMHZJMll2RzhMWWdERW52TjVmWlpOVnV2RUR1TWk5dGUzVkxxYjQyTjBma0xHQSIsImNsaWVudEV4dGVuc2lvbnMiOnt9LCJoYXNoQWxnb3JpdGhtIjoiU0hBLTI1NiIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6NTAwMCIsInR5cGUiOiJ3ZWJhdXRobi5nZXQifQ',
    ),
    signature: b64('MEUCIGisVZOBapCWbnJJvjelIzwpixxIwkjCCb5aCHafQu68AiEA88v-2pJNNApPFwAKFiNuf82-2hBxYW5kGwVweeoxCwo'),
  };

  it('decodes the COSE key, parses the authenticator data and verifies the DER ES256 signature', () => {
    const pk = devicePublicKeyFromCose(cose);
    expect(pk?.keyType).toBe('es256');
    const reg: RegisteredDevice = { deviceId: browser.credentialId, keyType: 'es256', publicKey: pk?.publicKey as Uint8Array, kind: 'security-key', registeredAt: 0 };
    expect(parseAuthenticatorData(browser.authenticatorData)).toMatchObject({ flags: FLAG_UP, signCount: 78 });
    const signed = new Uint8Array([...browser.authenticatorData, ...new Uint8Array(sha256Of(browser.clientDataJSON))]);
    expect(verifyDeviceSignature(reg, signed, browser.signature)).toBe(true);
    signed[0] = (signed[0] as number) ^ 1;
    expect(verifyDeviceSignature(reg, signed, browser.signature)).toBe(false);
    // Through the full check: signature, origin and rpId pass; its challenge is not one of our votes.
    const local: DeviceAssertionPolicy = { required: true, rpId: 'localhost', origins: ['http://localhost:5000'], allowedKinds: ['security-key'] };
    const r = checkDeviceAssertion({ policy: local, assertion: browser, operatorId: 'op-alice', registered: { operatorId: 'op-alice', device: reg }, signingBytes: signing(), now: NOW });
    expect(r).toEqual({ ok: false, refusal: 'DEVICE_CHALLENGE_MISMATCH' });
    expect(refusal(checkDeviceAssertion({ policy: { ...local, origins: [ORIGIN] }, assertion: browser, operatorId: 'op-alice', registered: { operatorId: 'op-alice', device: reg }, signingBytes: signing(), now: NOW }))).toBe('DEVICE_ORIGIN_MISMATCH');
  });

  it('rejects COSE keys it does not support', () => {
    expect(devicePublicKeyFromCose(cose.subarray(0, cose.length - 1))).toBeUndefined();
    const wrongAlg = new Uint8Array(cose);
    wrongAlg[4] = 0x38; // alg -7 → -25 (ECDH-ES)
    expect(devicePublicKeyFromCose(wrongAlg)).toBeUndefined();
    const ed = edKey.publicKey;
    expect(devicePublicKeyFromCose(new Uint8Array([0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20, ...ed]))).toEqual({ keyType: 'ed25519', publicKey: ed });
  });
});

function sha256Of(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(b).digest());
}
