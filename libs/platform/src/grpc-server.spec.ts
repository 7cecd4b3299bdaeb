import { describe, it, expect } from '@jest/globals';
import { GrpcServer, serviceNameOf } from './grpc-server.js';

describe('GrpcServer options (no socket is opened)', () => {
  const base = { port: 0, services: [], packageDefinition: {}, credentials: { kind: 'insecure' } as const };

  it('refuses 0.0.0.0 unless allowAllInterfaces', () => {
    expect(() => new GrpcServer({ ...base, host: '0.0.0.0' })).toThrow(/all interfaces/);
  });

  it('refuses an invalid port', () => {
    expect(() => new GrpcServer({ ...base, port: 70000 })).toThrow(RangeError);
  });

  it('refuses mTLS without a client CA', () => {
    expect(
      () => new GrpcServer({ ...base, credentials: { kind: 'tls', certChain: Buffer.from('c'), privateKey: Buffer.from('k'), requireClientCertificate: true } }),
    ).toThrow(/clientCa/);
  });

  it('derives service names from method paths', () => {
    const definition = {
      Echo: { path: '/custody.test.v1.EchoService/Echo', requestStream: false, responseStream: false },
    } as unknown as Parameters<typeof serviceNameOf>[0];
    expect(serviceNameOf(definition)).toBe('custody.test.v1.EchoService');
    expect(() => serviceNameOf({} as Parameters<typeof serviceNameOf>[0])).toThrow(/pass `name`/);
  });

  it('is not started until start() (port throws)', () => {
    const server = new GrpcServer(base);
    expect(() => server.port).toThrow(/not started/);
    expect(server.running).toBe(false);
  });
});
