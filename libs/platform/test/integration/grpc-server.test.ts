// GrpcServer over real sockets on 127.0.0.1: application calls, error mapping, health,
// reflection (v1 and v1alpha), loopback-only binding, graceful and forced shutdown, mTLS,
// and the Nest module lifecycle.
import { describe, it, expect, beforeAll, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Client, Metadata, credentials, logVerbosity, setLogVerbosity, status, type ChannelCredentials, type ServiceError, type ClientDuplexStream } from '@grpc/grpc-js';
import {
  DomainError,
  GrpcServer,
  GrpcServerModule,
  currentCorrelation,
  errorReason,
  unaryHandler,
  type GrpcServerCredentials,
  type GrpcServerOptions,
} from '../../src/index.js';
import { EchoServiceClient, HealthClient, ReflectionV1AlphaClient, ReflectionV1Client, echoPackageDefinition, echoServiceDefinition } from '../fixtures/grpc.js';

const ECHO = 'custody.platformtest.v1.EchoService';

class LimitExceeded extends DomainError {
  constructor() {
    super('WITHDRAWAL_LIMIT_EXCEEDED', 'the withdrawal exceeds the daily limit', { cause: new Error('SELECT * FROM limits WHERE password=hunter2') });
  }
}

interface EchoRequest {
  message: string;
  delayMs: number;
}

const errorsSeen: unknown[] = [];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const echoImplementation = {
  Echo: unaryHandler(
    async (req: EchoRequest) => {
      if (req.message === 'fail:limit') throw new LimitExceeded();
      if (req.message === 'fail:crash') throw new TypeError('cannot connect to postgres://svc:pw-leak@10.0.0.5/db');
      return { message: req.message, correlationId: currentCorrelation()?.correlationId ?? '' };
    },
    { codeMap: { WITHDRAWAL_LIMIT_EXCEEDED: status.FAILED_PRECONDITION }, domain: 'custody.platformtest', onError: (err) => errorsSeen.push(err) },
  ),
  SlowEcho: unaryHandler(
    async (req: EchoRequest, call) => {
      // Stops waiting when the call is cancelled (forced shutdown), so no timer outlives the test.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, req.delayMs);
        call.once('cancelled', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      return { message: req.message, correlationId: '' };
    },
    { codeMap: {} },
  ),
};

function serverOptions(overrides: Partial<GrpcServerOptions> = {}): GrpcServerOptions {
  return {
    port: 0,
    services: [{ definition: echoServiceDefinition, implementation: echoImplementation }],
    packageDefinition: echoPackageDefinition,
    credentials: { kind: 'insecure' },
    ...overrides,
  };
}

type Unary = (req: object, md: Metadata, cb: (err: ServiceError | null, res?: Record<string, unknown>) => void) => void;

function unary<T = Record<string, unknown>>(client: Client, method: string, req: object, md = new Metadata()): Promise<T> {
  return new Promise((resolve, reject) => {
    ((client as unknown as Record<string, Unary>)[method] as Unary).call(client, req, md, (err, res) => (err ? reject(err) : resolve(res as T)));
  });
}

async function rejection(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the call to fail');
}

function reflect(client: Client, request: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const call = (client as unknown as { ServerReflectionInfo(): ClientDuplexStream<object, Record<string, unknown>> }).ServerReflectionInfo();
    call.on('data', (response: Record<string, unknown>) => {
      resolve(response);
      call.end();
    });
    call.on('error', reject);
    call.write(request);
  });
}

const insecure = () => credentials.createInsecure();

describe('GrpcServer (insecure, 127.0.0.1:0)', () => {
  let server: GrpcServer;
  let echo: Client;
  let health: Client;

  beforeAll(async () => {
    server = new GrpcServer(serverOptions());
    await server.start();
    echo = new EchoServiceClient(server.address, insecure());
    health = new HealthClient(server.address, insecure());
  });

  afterAll(async () => {
    echo.close();
    health.close();
    await server.shutdown(1000);
  });

  it('binds a real port on 127.0.0.1 only', async () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);
    const reach = (host: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host, port: server.port });
        socket.once('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      });
    expect(await reach('127.0.0.1')).toBe('connected');
    // 127.0.0.2 is the same loopback interface but another address: not bound.
    expect(await reach('127.0.0.2')).toBe('ECONNREFUSED');
  });

  it('serves the registered service and propagates the correlation id', async () => {
    const md = new Metadata();
    md.set('x-correlation-id', 'corr-42');
    const res = await unary(echo, 'Echo', { message: 'hello' }, md);
    expect(res).toEqual({ message: 'hello', correlationId: 'corr-42' });
  });

  it('maps a domain error to its status, public message and error-reason trailer', async () => {
    const err = await rejection(unary(echo, 'Echo', { message: 'fail:limit' }));
    expect(err.code).toBe(status.FAILED_PRECONDITION);
    expect(err.details).toBe('the withdrawal exceeds the daily limit');
    expect(errorReason(err.metadata)).toBe('WITHDRAWAL_LIMIT_EXCEEDED');
    expect(err.metadata.get('error-domain')).toEqual(['custody.platformtest']);
    expect(JSON.stringify({ d: err.details, m: err.metadata.getMap(), msg: err.message })).not.toContain('hunter2');
    expect(errorsSeen.at(-1)).toBeInstanceOf(LimitExceeded);
  });

  it('maps an unexpected error to INTERNAL without leaking it', async () => {
    const err = await rejection(unary(echo, 'Echo', { message: 'fail:crash' }));
    expect(err.code).toBe(status.INTERNAL);
    expect(err.details).toBe('internal error');
    expect(errorReason(err.metadata)).toBe('INTERNAL');
    expect(JSON.stringify({ d: err.details, m: err.metadata.getMap(), msg: err.message })).not.toMatch(/pw-leak|10\.0\.0\.5|TypeError/);
  });

  it('answers the standard health Check per service and overall', async () => {
    expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    expect(await unary(health, 'Check', { service: ECHO })).toEqual({ status: 'SERVING' });
    const unknown = await rejection(unary(health, 'Check', { service: 'custody.nope.v1.NopeService' }));
    expect(unknown.code).toBe(status.NOT_FOUND);

    server.setServingStatus(ECHO, 'NOT_SERVING');
    expect(await unary(health, 'Check', { service: ECHO })).toEqual({ status: 'NOT_SERVING' });
    expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    server.setServingStatus(ECHO, 'SERVING');
    expect(() => server.setServingStatus('custody.nope.v1.NopeService', 'SERVING')).toThrow(/unknown service/);
  });

  it('lists services and resolves symbols through reflection v1', async () => {
    const client = new ReflectionV1Client(server.address, insecure());
    try {
      const listed = await reflect(client, { listServices: '*' });
      const names = ((listed.listServicesResponse as { service: Array<{ name: string }> }).service ?? []).map((s) => s.name).sort();
      expect(names).toEqual(['custody.platformtest.v1.EchoService', 'grpc.health.v1.Health', 'grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection']);

      const file = await reflect(client, { fileContainingSymbol: ECHO });
      const descriptors = (file.fileDescriptorResponse as { fileDescriptorProto: Buffer[] }).fileDescriptorProto;
      expect(descriptors.length).toBeGreaterThan(0);
      expect(Buffer.concat(descriptors).toString('latin1')).toContain('EchoService');

      const missing = await reflect(client, { fileContainingSymbol: 'custody.nope.v1.Nope' });
      expect((missing.errorResponse as { errorCode: number }).errorCode).toBe(status.NOT_FOUND);
    } finally {
      client.close();
    }
  });

  it('also answers reflection v1alpha (older grpcurl and clients)', async () => {
    const client = new ReflectionV1AlphaClient(server.address, insecure());
    try {
      const listed = await reflect(client, { listServices: '' });
      const names = (listed.listServicesResponse as { service: Array<{ name: string }> }).service.map((s) => s.name);
      expect(names).toContain(ECHO);
      expect(names).toContain('grpc.health.v1.Health');
    } finally {
      client.close();
    }
  });
});

describe('GrpcServer shutdown', () => {
  it('reports NOT_SERVING during the delay, lets in-flight calls finish, then stops', async () => {
    const server = new GrpcServer(serverOptions({ notServingDelayMs: 300 }));
    await server.start();
    const echo = new EchoServiceClient(server.address, insecure());
    const health = new HealthClient(server.address, insecure());
    try {
      expect(await unary(health, 'Check', { service: ECHO })).toEqual({ status: 'SERVING' });
      const inFlight = unary(echo, 'SlowEcho', { message: 'slow', delayMs: 500 });
      await sleep(50);
      const stopping = server.shutdown(5_000);
      await sleep(50);
      expect(await unary(health, 'Check', { service: ECHO })).toEqual({ status: 'NOT_SERVING' });
      expect(await unary(health, 'Check', { service: '' })).toEqual({ status: 'NOT_SERVING' });
      expect(await inFlight).toEqual({ message: 'slow', correlationId: '' });
      expect(await stopping).toBe('graceful');
      expect(server.running).toBe(false);
      const after = await rejection(unary(echo, 'Echo', { message: 'late' }));
      expect(after.code).toBe(status.UNAVAILABLE);
      expect(await server.shutdown()).toBe('not-running');
    } finally {
      echo.close();
      health.close();
    }
  });

  it('cuts calls that outlive the grace period', async () => {
    const server = new GrpcServer(serverOptions());
    await server.start();
    const echo = new EchoServiceClient(server.address, insecure());
    try {
      const inFlight = rejection(unary(echo, 'SlowEcho', { message: 'stuck', delayMs: 5_000 }));
      await sleep(50);
      const started = Date.now();
      expect(await server.shutdown(200)).toBe('forced');
      expect(Date.now() - started).toBeLessThan(2_000);
      const err = await inFlight;
      expect([status.UNAVAILABLE, status.CANCELLED, status.INTERNAL]).toContain(err.code);
    } finally {
      echo.close();
    }
  });

  it('fails to start on a port that is taken, and can be shut down afterwards', async () => {
    const first = new GrpcServer(serverOptions());
    const port = await first.start();
    const second = new GrpcServer(serverOptions({ port }));
    setLogVerbosity(logVerbosity.NONE); // grpc-js would console.error the expected bind failure
    try {
      await expect(second.start()).rejects.toThrow(`gRPC server cannot bind 127.0.0.1:${port}`);
    } finally {
      setLogVerbosity(logVerbosity.ERROR);
    }
    expect(await second.shutdown()).toBe('not-running');
    await first.shutdown(1000);
  });
});

describe('GrpcServer with mTLS', () => {
  let dir: string;
  const pem: Record<string, Buffer> = {};

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'platform-mtls-'));
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    const ca = (name: string) => {
      key(name);
      ssl('req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.crt`, '-days', '1', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    };
    const leaf = (name: string, issuer: string, ext: string) => {
      key(name);
      ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
      writeFileSync(join(dir, `${name}.ext`), ext);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
    };
    ca('ca');
    ca('rogue-ca');
    leaf('server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
    leaf('client', 'ca', 'extendedKeyUsage=clientAuth\n');
    leaf('rogue-client', 'rogue-ca', 'extendedKeyUsage=clientAuth\n');
    for (const name of ['ca', 'server', 'client', 'rogue-client']) {
      pem[`${name}.crt`] = readFileSync(join(dir, `${name}.crt`));
      pem[`${name}.key`] = readFileSync(join(dir, `${name}.key`));
    }
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const get = (name: string): Buffer => {
    const value = pem[name];
    if (!value) throw new Error(`missing ${name}`);
    return value;
  };

  async function withServer(creds: GrpcServerCredentials, fn: (address: string) => Promise<void>) {
    const server = new GrpcServer(serverOptions({ credentials: creds }));
    await server.start();
    try {
      await fn(server.address);
    } finally {
      await server.shutdown(500);
    }
  }

  async function echoWith(address: string, channel: ChannelCredentials) {
    const client = new EchoServiceClient(address, channel);
    try {
      return await unary(client, 'Echo', { message: 'tls' }, new Metadata());
    } finally {
      client.close();
    }
  }

  it('accepts a client with a certificate from the trusted CA and refuses the others', async () => {
    const mtls: GrpcServerCredentials = { kind: 'tls', certChain: get('server.crt'), privateKey: get('server.key'), clientCa: get('ca.crt'), requireClientCertificate: true };
    await withServer(mtls, async (address) => {
      const good = credentials.createSsl(get('ca.crt'), get('client.key'), get('client.crt'));
      expect(await echoWith(address, good)).toMatchObject({ message: 'tls' });

      const noCert = await rejection(echoWith(address, credentials.createSsl(get('ca.crt'))));
      expect(noCert.code).toBe(status.UNAVAILABLE);

      const rogue = await rejection(echoWith(address, credentials.createSsl(get('ca.crt'), get('rogue-client.key'), get('rogue-client.crt'))));
      expect(rogue.code).toBe(status.UNAVAILABLE);

      const plaintext = await rejection(echoWith(address, insecure()));
      expect(plaintext.code).toBe(status.UNAVAILABLE);
    });
  });

  it('serves TLS without client certificates when mTLS is off', async () => {
    await withServer({ kind: 'tls', certChain: get('server.crt'), privateKey: get('server.key') }, async (address) => {
      expect(await echoWith(address, credentials.createSsl(get('ca.crt')))).toMatchObject({ message: 'tls' });
    });
  });
});

describe('GrpcServerModule (Nest)', () => {
  const GREETING = Symbol('GREETING');

  @Injectable()
  class Greeter {
    constructor(@Inject(GREETING) private readonly greeting: string) {}
    greet(name: string): string {
      return `${this.greeting}, ${name}`;
    }
  }

  @Module({ providers: [{ provide: GREETING, useValue: 'hello' }, Greeter], exports: [Greeter] })
  class GreeterModule {}

  it('starts on bootstrap with injected implementations and shuts down with the app', async () => {
    @Module({
      imports: [
        GrpcServerModule.forRootAsync({
          imports: [GreeterModule],
          inject: [Greeter],
          useFactory: (greeter: Greeter) =>
            serverOptions({
              services: [
                {
                  definition: echoServiceDefinition,
                  implementation: {
                    Echo: unaryHandler(async (req: EchoRequest) => ({ message: greeter.greet(req.message), correlationId: '' }), { codeMap: {} }),
                    SlowEcho: echoImplementation.SlowEcho,
                  },
                },
              ],
            }),
        }),
      ],
    })
    class AppModule {}

    // createApplicationContext runs init(): onModuleInit, then onApplicationBootstrap (listen).
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const server = app.get(GrpcServer);
    expect(server.running).toBe(true);
    const echo = new EchoServiceClient(server.address, insecure());
    try {
      expect(await unary(echo, 'Echo', { message: 'nest' })).toMatchObject({ message: 'hello, nest' });
      await app.close();
      expect(server.running).toBe(false);
      const after = await rejection(unary(echo, 'Echo', { message: 'late' }));
      expect(after.code).toBe(status.UNAVAILABLE);
    } finally {
      echo.close();
    }
  });
});
