import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../types.js';
import { formatTarget, parseServerAddress, transportOf } from './transport.js';

describe('server address', () => {
  it('parses host:port, [ipv6]:port; formats them back', () => {
    expect(parseServerAddress('127.0.0.1:50052')).toEqual({ host: '127.0.0.1', port: 50052 });
    expect(parseServerAddress('policy.custody.svc:443')).toEqual({ host: 'policy.custody.svc', port: 443 });
    expect(parseServerAddress('[::1]:9')).toEqual({ host: '::1', port: 9 });
    expect(formatTarget({ host: '::1', port: 9 })).toBe('[::1]:9');
    expect(formatTarget({ host: '127.0.0.1', port: 1 })).toBe('127.0.0.1:1');
  });

  it.each(['', '127.0.0.1', ':50052', '127.0.0.1:0', '127.0.0.1:65536', 'a b:1', 'http://x:1'])('refuses %j', (text) => {
    expect(() => parseServerAddress(text)).toThrow(UsageError);
  });
});

describe('transport', () => {
  const loopback = { host: '127.0.0.1', port: 50052 };
  it('plaintext only on 127.0.0.1 and only when asked for', () => {
    expect(transportOf({ 'insecure-loopback': true }, loopback)).toEqual({ kind: 'insecure-loopback' });
    expect(() => transportOf({ 'insecure-loopback': true }, { host: 'localhost', port: 1 })).toThrow('127.0.0.1 only');
    expect(() => transportOf({ 'insecure-loopback': true }, { host: '10.0.0.5', port: 1 })).toThrow('127.0.0.1 only');
    expect(() => transportOf({}, loopback)).toThrow('give --cert, --key and --ca');
  });

  it('mTLS needs the client certificate, its key and the CA; never mixed with plaintext', () => {
    expect(transportOf({ cert: 'c.pem', key: 'k.pem', ca: 'ca.pem' }, { host: 'policy', port: 1 })).toEqual({ kind: 'mtls', certFile: 'c.pem', keyFile: 'k.pem', caFile: 'ca.pem' });
    expect(() => transportOf({ cert: 'c.pem', key: 'k.pem' }, loopback)).toThrow('missing --ca');
    expect(() => transportOf({ ca: 'ca.pem' }, loopback)).toThrow('missing --cert, --key');
    expect(() => transportOf({ cert: 'c.pem', key: 'k.pem', ca: 'ca.pem', 'insecure-loopback': true }, loopback)).toThrow('cannot be combined');
  });
});
