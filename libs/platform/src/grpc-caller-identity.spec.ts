// The caller allow-list: rule parsing and matching, the environment variable, GrpcServer's
// refusal of an allow-list without mTLS, and a round trip over real mTLS on 127.0.0.1
// (throw-away certificates from one CA made by openssl): an allowed certificate is served,
// another CA-valid one is PERMISSION_DENIED before the handler runs, health stays open.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, Metadata, status, type Client, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { z } from 'zod';
import { EchoServiceClient, HealthClient, ReflectionV1Client, echoPackageDefinition, echoServiceDefinition } from '../test/fixtures/grpc.js';
import { ConfigError, defineConfig } from './config.js';
import { CALLER_NOT_ALLOWED, callerAllowed, callerAllowListVar, grpcAllowedCallersEnv, parseCallerRules, warnIfCallersUnrestricted, type PeerCertificate } from './grpc-caller-identity.js';
import { errorReason } from './grpc-errors.js';
import { GrpcServer, type GrpcServerOptions } from './grpc-server.js';

const raw = Buffer.from('not really DER, only hashed');
const pin = createHash('sha256').update(raw).digest('hex');
const peer = { raw, subject: { CN: 'intake' }, subjectaltname: 'DNS:Intake.custody.svc, URI:spiffe://custody/sa/intake, IP Address:10.0.0.1' };

describe('caller allow-list rules', () => {
  it('parses the four kinds (pins and DNS names lower-cased) and refuses anything else', () => {
    expect(parseCallerRules([`sha256:${pin.toUpperCase()}`, 'dns:A.b', 'uri:spiffe://x/y', 'cn:intake'])).toEqual([
      { kind: 'sha256', value: pin },
      { kind: 'dns', value: 'a.b' },
      { kind: 'uri', value: 'spiffe://x/y' },
      { kind: 'cn', value: 'intake' },
    ]);
    for (const bad of ['intake', 'sha256:abc', 'ip:10.0.0.1', 'cn:', 'URI:spiffe://x']) expect(() => parseCallerRules([bad])).toThrow(TypeError);
  });

  it('matches pin, SAN DNS (case-insensitive), SAN URI (exact) and CN (exact); nothing matches without a certificate', () => {
    for (const rule of [`sha256:${pin}`, 'dns:intake.custody.svc', 'uri:spiffe://custody/sa/intake', 'cn:intake']) expect(callerAllowed(parseCallerRules([rule]), peer)).toBe(true);
    for (const rule of [`sha256:${'0'.repeat(64)}`, 'dns:ledger.custody.svc', 'uri:spiffe://custody/sa/ledger', 'uri:spiffe://custody/sa/INTAKE', 'uri:spiffe://custody/sa/intak', 'cn:ledger', 'cn:Intake']) {
      expect(callerAllowed(parseCallerRules([rule]), peer)).toBe(false);
    }
    expect(callerAllowed(parseCallerRules(['cn:intake']), undefined)).toBe(false);
    expect(callerAllowed(parseCallerRules(['cn:intake']), { subject: { CN: 'intake' } })).toBe(false);
    expect(callerAllowed([], peer)).toBe(false);
  });

  it('a SAN that only contains the name does not match (URI:… inside another entry)', () => {
    const tricky: PeerCertificate = { raw, subjectaltname: 'DNS:x.example, URI:spiffe://custody/sa/intake/extra' };
    expect(callerAllowed(parseCallerRules(['uri:spiffe://custody/sa/intake']), tricky)).toBe(false);
  });
});

describe('CUSTODY_GRPC_ALLOWED_CALLERS', () => {
  const load = (env: Record<string, string>) => defineConfig(grpcAllowedCallersEnv, env);

  it('absent: undefined (the service decides whether to warn); none: an empty list (nobody but health)', () => {
    expect(load({}).CUSTODY_GRPC_ALLOWED_CALLERS).toBeUndefined();
    expect(load({ CUSTODY_GRPC_ALLOWED_CALLERS: 'none' }).CUSTODY_GRPC_ALLOWED_CALLERS).toEqual([]);
  });

  it('parses a comma-separated list into rules', () => {
    expect(load({ CUSTODY_GRPC_ALLOWED_CALLERS: ' uri:spiffe://cluster.local/ns/custody/sa/custody-policy , cn:ops ' }).CUSTODY_GRPC_ALLOWED_CALLERS).toEqual([
      { kind: 'uri', value: 'spiffe://cluster.local/ns/custody/sa/custody-policy' },
      { kind: 'cn', value: 'ops' },
    ]);
  });

  it.each([[''], ['policy'], ['uri:a,,cn:b'], ['none,cn:b'], ['sha256:12']])('refuses %p, naming the variable', (value) => {
    expect(() => load({ CUSTODY_GRPC_ALLOWED_CALLERS: value })).toThrow(ConfigError);
    expect(() => load({ CUSTODY_GRPC_ALLOWED_CALLERS: value })).toThrow(/CUSTODY_GRPC_ALLOWED_CALLERS/);
  });

  it('callerAllowListVar serves other variable names (the signer keeps its own)', () => {
    const c = defineConfig(z.object({ CUSTODY_X_CALLERS: callerAllowListVar() }), { CUSTODY_X_CALLERS: 'dns:a.b' });
    expect(c.CUSTODY_X_CALLERS).toEqual([{ kind: 'dns', value: 'a.b' }]);
  });
});

describe('GrpcServer allowedCallers', () => {
  const base: GrpcServerOptions = { port: 0, services: [], packageDefinition: {}, credentials: { kind: 'insecure' } };

  it('needs mTLS: refused with plaintext or with TLS that does not require a client certificate', () => {
    expect(() => new GrpcServer({ ...base, allowedCallers: [] })).toThrow(/allowedCallers needs mTLS/);
    expect(() => new GrpcServer({ ...base, allowedCallers: [], credentials: { kind: 'tls', certChain: Buffer.from('c'), privateKey: Buffer.from('k') } })).toThrow(/allowedCallers needs mTLS/);
  });
});

describe('GrpcServer allowedCallers over mTLS on 127.0.0.1', () => {
  const dir = mkdtempSync(join(tmpdir(), 'platform-callers-'));
  const pem: Record<string, Buffer> = {};
  const clients: Client[] = [];
  const servers: GrpcServer[] = [];
  let handled = 0;
  const denied: string[] = [];
  const POLICY = 'spiffe://cluster.local/ns/custody/sa/custody-policy';
  const RISK = 'spiffe://cluster.local/ns/custody/sa/custody-risk';

  beforeAll(() => {
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const key = (name: string) => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
    key('ca');
    ssl('req', '-x509', '-new', '-key', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=callers-test-ca', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign');
    const leaf = (name: string, ext: string) => {
      key(name);
      ssl('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=custody-${name}`);
      writeFileSync(join(dir, `${name}.ext`), ext);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
    };
    leaf('server', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
    leaf('policy', `subjectAltName=URI:${POLICY}\nextendedKeyUsage=clientAuth\n`);
    leaf('risk', `subjectAltName=URI:${RISK}\nextendedKeyUsage=clientAuth\n`);
    for (const n of ['ca', 'server', 'policy', 'risk']) {
      pem[`${n}.crt`] = readFileSync(join(dir, `${n}.crt`));
      pem[`${n}.key`] = readFileSync(join(dir, `${n}.key`));
    }
  });

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const s of servers) await s.shutdown(1_000);
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(operatorFacing: boolean): Promise<number> {
    const server = new GrpcServer({
      port: 0,
      packageDefinition: echoPackageDefinition,
      credentials: { kind: 'tls', certChain: pem['server.crt']!, privateKey: pem['server.key']!, clientCa: pem['ca.crt']!, requireClientCertificate: true },
      services: [
        {
          definition: echoServiceDefinition,
          operatorFacing,
          implementation: {
            Echo: (call: { request: { message: string } }, cb: (e: null, r: object) => void) => {
              handled += 1;
              cb(null, { message: call.request.message, correlationId: '' });
            },
          },
        },
      ],
      allowedCallers: parseCallerRules([`uri:${POLICY}`]),
      onCallerDenied: (path, p) => denied.push(`${path} ${p?.subjectaltname ?? ''}`),
    });
    servers.push(server);
    return server.start();
  }

  const client = <C extends new (...a: never[]) => Client>(Ctor: C, port: number, who: string): InstanceType<C> => {
    const c = new (Ctor as unknown as new (address: string, creds: ReturnType<typeof credentials.createSsl>) => Client)(`localhost:${port}`, credentials.createSsl(pem['ca.crt'], pem[`${who}.key`], pem[`${who}.crt`]));
    clients.push(c);
    return c as InstanceType<C>;
  };
  const unary = (c: Client, method: string, req: object): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      (c as unknown as Record<string, (r: object, md: Metadata, o: object, cb: (e: ServiceError | null, r?: Record<string, unknown>) => void) => void>)[method]!.call(c, req, new Metadata(), { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r ?? {})));
    });
  const failure = async (p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> => {
    try {
      await p;
    } catch (e) {
      return { code: (e as ServiceError).code, reason: errorReason((e as ServiceError).metadata) };
    }
    return { code: status.OK, reason: undefined };
  };
  const reflectList = (c: Client): Promise<{ code: number; reason: string | undefined }> =>
    new Promise((resolve) => {
      const call = (c as unknown as { ServerReflectionInfo(): ClientDuplexStream<object, unknown> }).ServerReflectionInfo();
      call.on('data', () => {
        call.end();
        resolve({ code: status.OK, reason: undefined });
      });
      call.on('error', (e: ServiceError) => resolve({ code: e.code, reason: errorReason(e.metadata) }));
      call.write({ listServices: '' });
    });

  it('the allowed certificate is served; another certificate of the same CA is PERMISSION_DENIED (CALLER_NOT_ALLOWED) before the handler; health answers both', async () => {
    const port = await serve(false);
    const before = handled;
    expect(await unary(client(EchoServiceClient, port, 'policy'), 'Echo', { message: 'hi' })).toMatchObject({ message: 'hi' });
    expect(handled).toBe(before + 1);
    expect(await failure(unary(client(EchoServiceClient, port, 'risk'), 'Echo', { message: 'hi' }))).toEqual({ code: status.PERMISSION_DENIED, reason: CALLER_NOT_ALLOWED });
    expect(handled).toBe(before + 1);
    expect(denied).toContain(`/custody.platformtest.v1.EchoService/Echo URI:${RISK}`);
    for (const who of ['policy', 'risk']) expect(await unary(client(HealthClient, port, who), 'Check', { service: '' })).toEqual({ status: 'SERVING' });
    // reflection is not open to the refused caller
    expect(await reflectList(client(ReflectionV1Client, port, 'risk'))).toEqual({ code: status.PERMISSION_DENIED, reason: CALLER_NOT_ALLOWED });
    expect(await reflectList(client(ReflectionV1Client, port, 'policy'))).toEqual({ code: status.OK, reason: undefined });
  });

  it('a service with operatorFacing (operators) is exempt, and then reflection too', async () => {
    const port = await serve(true);
    expect(await unary(client(EchoServiceClient, port, 'risk'), 'Echo', { message: 'op' })).toMatchObject({ message: 'op' });
    expect(await reflectList(client(ReflectionV1Client, port, 'risk'))).toEqual({ code: status.OK, reason: undefined });
  });
});

describe('warnIfCallersUnrestricted (production start-up)', () => {
  const mtls = { kind: 'tls', requireClientCertificate: true } as const;
  const run = (grpc: Parameters<typeof warnIfCallersUnrestricted>[1]) => {
    const lines: { obj: object; msg: string }[] = [];
    const warned = warnIfCallersUnrestricted({ error: (obj, msg) => lines.push({ obj, msg }) }, grpc);
    return { warned, lines };
  };

  it('warns (error level, alert grpc_callers_unrestricted) for mTLS without an allow-list, naming the variable', () => {
    const { warned, lines } = run({ credentials: mtls });
    expect(warned).toBe(true);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.obj).toEqual({ alert: 'grpc_callers_unrestricted', variable: 'CUSTODY_GRPC_ALLOWED_CALLERS' });
    expect(lines[0]?.msg).toMatch(/CUSTODY_GRPC_ALLOWED_CALLERS is not set/);
  });

  it('is silent with an allow-list (also an empty one), without client certificates, or without a server', () => {
    for (const grpc of [{ credentials: mtls, allowedCallers: [] }, { credentials: mtls, allowedCallers: parseCallerRules(['cn:x']) }, { credentials: { kind: 'insecure' } }, undefined]) expect(run(grpc).warned).toBe(false);
  });
});
