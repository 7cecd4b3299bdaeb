import { describe, it, expect } from '@jest/globals';
import { assertListenHost, formatHostPort } from './listen-address.js';

describe('assertListenHost', () => {
  it.each(['0.0.0.0', '::', '[::]', '', '*'])('refuses all-interfaces address %j by default', (host) => {
    expect(() => assertListenHost(host)).toThrow(/all interfaces/);
    expect(() => assertListenHost(host, true)).not.toThrow();
  });

  it.each(['127.0.0.1', '::1', 'localhost', '10.0.0.7'])('accepts the specific address %j', (host) => {
    expect(() => assertListenHost(host)).not.toThrow();
  });
});

describe('formatHostPort', () => {
  it('brackets IPv6 literals', () => {
    expect(formatHostPort('127.0.0.1', 50051)).toBe('127.0.0.1:50051');
    expect(formatHostPort('::1', 0)).toBe('[::1]:0');
    expect(formatHostPort('[::1]', 1)).toBe('[::1]:1');
  });
});
