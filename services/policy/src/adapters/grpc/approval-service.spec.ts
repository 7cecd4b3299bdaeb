import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { peerIp, voteRequestDigest } from './approval-service.js';

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
});
