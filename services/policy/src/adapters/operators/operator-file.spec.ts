import { describe, expect, it } from '@jest/globals';
import { parseOperatorDocument } from './operator-file.js';
import { SoftwareAuthenticator } from './software-authenticator.js';

const key = 'ab'.repeat(32);
const es = SoftwareAuthenticator.generate({ rpId: 'console.custody.example', origin: 'https://console.custody.example' });
const ed = SoftwareAuthenticator.generate({ rpId: 'console.custody.example', origin: 'https://console.custody.example', keyType: 'ed25519' });
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const console_ = { required: true, rpId: 'custody.example', origins: ['https://console.custody.example'] };
const op = (devices: unknown[] = [], id = 'op-alice') => ({ id, roles: ['compliance'], keys: { k1: key }, devices });
const esDevice = { id: es.credentialId, keyType: 'es256', publicKey: hex(es.publicKey), kind: 'security-key', registeredAt: '2026-01-05T09:00:00Z' };

describe('C-8.2.2.5-e operator registry: registered approver devices and the console relying party', () => {
  it('without approvalDevices, device assertions are required and none can be accepted (no rpId): fail closed', () => {
    const dir = parseOperatorDocument({ operators: [op()] });
    expect(dir.deviceAssertions).toMatchObject({ required: true, origins: [] });
    expect(dir.deviceAssertions?.rpId).toBeUndefined();
  });

  it('reads devices given as SEC1/raw hex or as the COSE key of the registration, with revocation', () => {
    const cose = Buffer.concat([Buffer.from([0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]), Buffer.from(ed.publicKey)]).toString('base64url');
    const dir = parseOperatorDocument({
      approvalDevices: console_,
      operators: [op([esDevice, { id: ed.credentialId, cosePublicKey: cose, kind: 'platform', registeredAt: '2026-01-05T09:00:00Z', revokedAt: '2026-02-01T00:00:00Z' }])],
    });
    expect(dir.deviceAssertions).toEqual({ required: true, rpId: 'custody.example', origins: ['https://console.custody.example'], allowedKinds: ['security-key', 'platform'] });
    const devices = dir.operators.get('op-alice')?.devices;
    expect(devices?.get(es.credentialId)).toEqual({ deviceId: es.credentialId, keyType: 'es256', publicKey: es.publicKey, kind: 'security-key', registeredAt: Date.parse('2026-01-05T09:00:00Z') / 1000 });
    expect(devices?.get(ed.credentialId)).toMatchObject({ keyType: 'ed25519', publicKey: ed.publicKey, revokedAt: Date.parse('2026-02-01T00:00:00Z') / 1000 });
  });

  it.each([
    ['required without rpId', { approvalDevices: { required: true, origins: ['https://console.custody.example'] }, operators: [op()] }],
    ['required without origins', { approvalDevices: { required: true, rpId: 'custody.example' }, operators: [op()] }],
    ['an origin outside the rpId', { approvalDevices: { ...console_, origins: ['https://console.custody-example.com'] }, operators: [op()] }],
    ['a plain-http origin', { approvalDevices: { ...console_, origins: ['http://console.custody.example'] }, operators: [op()] }],
    ['a device with a wrong-size key', { approvalDevices: console_, operators: [op([{ ...esDevice, publicKey: 'ab'.repeat(32) }])] }],
    ['a device with both key forms', { approvalDevices: console_, operators: [op([{ ...esDevice, cosePublicKey: 'pQECAyYgAQ' }])] }],
    ['an unknown device kind', { approvalDevices: console_, operators: [op([{ ...esDevice, kind: 'sms' }])] }],
    ['a device registered to two operators', { approvalDevices: console_, operators: [op([esDevice]), op([esDevice], 'op-bob')] }],
  ])('refuses %s at boot', (_name, doc) => {
    expect(() => parseOperatorDocument(doc)).toThrow();
  });

  it('allows switching device assertions off explicitly (development deployments)', () => {
    expect(parseOperatorDocument({ approvalDevices: { required: false }, operators: [op()] }).deviceAssertions).toMatchObject({ required: false });
  });
});
