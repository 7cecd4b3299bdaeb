import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { POLICY_GRPC_CODES, auditDeviceId, deviceAssertionOf, peerIp, voteRequestDigest } from './approval-service.js';
import { DEVICE_REFUSAL_TEXT } from '../../domain/device-assertion.js';

describe('approval audit record helpers', () => {
  it('peerIp reads IPv4, IPv6 and prefixed grpc-js peers; anything else is 0.0.0.0', () => {
    expect(peerIp('127.0.0.1:53422')).toBe('127.0.0.1');
    expect(peerIp('ipv4:10.1.2.3:50053')).toBe('10.1.2.3');
    expect(peerIp('[::1]:40000')).toBe('::1');
    expect(peerIp('ipv6:[2001:db8::7]:1')).toBe('2001:db8::7');
    expect(peerIp('unix:/tmp/sock')).toBe('0.0.0.0');
    expect(peerIp('')).toBe('0.0.0.0');
  });

  it('voteRequestDigest is SHA-256 over the documented length-prefixed fields, and covers the signature and the reason', () => {
    const req = { decisionId: 'd-1', operatorId: 'op-a', role: 'compliance', keyId: 'op-a-k1', signature: Buffer.alloc(64, 9) };
    const f = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, b.length >> 8, b.length & 255]), b]);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('custody.policy.v1.vote-request\0'), ...['d-1', 'op-a', 'compliance', 'reject', 'op-a-k1'].map((s) => f(Buffer.from(s))), f(req.signature), f(Buffer.from('why'))]))
      .digest('hex');
    expect(Buffer.from(voteRequestDigest(req, 'reject', 'why')).toString('hex')).toBe(expected);
    expect(Buffer.from(voteRequestDigest({ ...req, signature: Buffer.alloc(64, 8) }, 'reject', 'why')).toString('hex')).not.toBe(expected);
    expect(Buffer.from(voteRequestDigest(req, 'reject', 'other')).toString('hex')).not.toBe(expected);
  });

  it('C-8.2.2.5-e voteRequestDigest covers the device assertion when one is sent (appended after the reason)', () => {
    const req = { decisionId: 'd-1', operatorId: 'op-a', role: 'compliance', keyId: 'op-a-k1', signature: Buffer.alloc(64, 9) };
    const a = { credentialId: 'Y3JlZGVudGlhbC1pZC0x', authenticatorData: Buffer.alloc(37, 1), clientDataJson: Buffer.from('{}'), signature: Buffer.alloc(70, 2) };
    const f = (b: Buffer): Buffer => Buffer.concat([Buffer.from([0, 0, b.length >> 8, b.length & 255]), b]);
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.from('custody.policy.v1.vote-request\0'), ...['d-1', 'op-a', 'compliance', 'approve', 'op-a-k1'].map((s) => f(Buffer.from(s))), f(req.signature), f(Buffer.from('')), f(Buffer.from(a.credentialId)), f(a.authenticatorData), f(a.clientDataJson), f(a.signature)]))
      .digest('hex');
    expect(Buffer.from(voteRequestDigest({ ...req, deviceAssertion: a }, 'approve', '')).toString('hex')).toBe(expected);
    expect(Buffer.from(voteRequestDigest({ ...req, deviceAssertion: { ...a, signature: Buffer.alloc(70, 3) } }, 'approve', '')).toString('hex')).not.toBe(expected);
    expect(Buffer.from(voteRequestDigest(req, 'approve', '')).toString('hex')).not.toBe(expected);
  });
});

describe('C-8.2.2.5-e device assertion on the wire', () => {
  const ok = { credentialId: 'Y3JlZGVudGlhbC1pZC0x', authenticatorData: Buffer.alloc(37), clientDataJson: Buffer.from('{}'), signature: Buffer.alloc(70) };

  it('absent stays absent; a well-sized one is passed to the domain as bytes', () => {
    expect(deviceAssertionOf(undefined)).toBeUndefined();
    expect(deviceAssertionOf(ok)).toEqual({ credentialId: ok.credentialId, authenticatorData: new Uint8Array(37), clientDataJSON: new Uint8Array(Buffer.from('{}')), signature: new Uint8Array(70) });
  });

  it.each([
    ['credential id', { credentialId: 'a b' }],
    ['short authenticator data', { authenticatorData: Buffer.alloc(36) }],
    ['huge client data', { clientDataJson: Buffer.alloc(4097) }],
    ['oversized signature', { signature: Buffer.alloc(73) }],
  ])('refuses %s as DEVICE_ASSERTION_MALFORMED', (_name, change) => {
    expect(() => deviceAssertionOf({ ...ok, ...change })).toThrow(expect.objectContaining({ code: 'DEVICE_ASSERTION_MALFORMED' }));
  });

  it('names the device in the audit record within the audit field limit (200)', () => {
    expect(auditDeviceId('Y3JlZGVudGlhbC1pZC0x')).toBe('webauthn:Y3JlZGVudGlhbC1pZC0x');
    const long = 'A'.repeat(1366);
    expect(auditDeviceId(long)).toBe(`webauthn-sha256:${createHash('sha256').update(long).digest('hex')}`);
    expect(auditDeviceId('B'.repeat(191))).toHaveLength(200);
  });

  it('maps every device refusal to a gRPC status: malformed → INVALID_ARGUMENT, the rest UNAUTHENTICATED', () => {
    for (const code of Object.keys(DEVICE_REFUSAL_TEXT)) expect(POLICY_GRPC_CODES[code]).toBe(code === 'DEVICE_ASSERTION_MALFORMED' ? status.INVALID_ARGUMENT : status.UNAUTHENTICATED);
  });
});
