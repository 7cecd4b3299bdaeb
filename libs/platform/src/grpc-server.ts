// A grpc-js server with what every service needs: the standard health service
// (grpc.health.v1.Health, one status per service), server reflection (v1 and v1alpha),
// loopback-by-default binding, TLS / mTLS, and graceful shutdown. Plain class: the Nest
// wiring lives in grpc-server.module.ts.
import { Server, ServerCredentials, type ServerOptions, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { callerAllowListInterceptor, type CallerRule, type PeerCertificate } from './grpc-caller-identity.js';
import { declaredServices, reflectedFiles, reflectionPackageDefinition } from './grpc-reflection.js';
import { DEFAULT_LISTEN_HOST, assertListenHost, formatHostPort } from './listen-address.js';

export const HEALTH_SERVICE_NAME = 'grpc.health.v1.Health';
export const REFLECTION_SERVICE_NAMES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'] as const;

export interface GrpcServiceRegistration {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
  /** Fully qualified name (`package.Service`) used for health; derived from the method paths when omitted. */
  readonly name?: string;
  /**
   * Operators call it (with their own certificates of the client CA, through the operator
   * network ingress): exempt from the server's `allowedCallers`, so the service must
   * authenticate its callers itself (certificate CN/pins, signed votes). Reflection is then
   * open too (operator tooling such as grpcurl relies on it).
   */
  readonly operatorFacing?: boolean;
}

export type GrpcServerCredentials =
  | { readonly kind: 'insecure' }
  | {
      readonly kind: 'tls';
      /** PEM certificate chain of the server. */
      readonly certChain: Buffer;
      /** PEM private key of the server. */
      readonly privateKey: Buffer;
      /** PEM CA bundle that client certificates must chain to (required for mTLS). */
      readonly clientCa?: Buffer;
      /** mTLS: refuse clients without a certificate signed by `clientCa`. */
      readonly requireClientCertificate?: boolean;
    };

export interface GrpcServerOptions {
  /** Default 127.0.0.1. All interfaces ('0.0.0.0', '::') are refused unless allowAllInterfaces. */
  readonly host?: string;
  /** 0 = any free port (read it back from `port` after start). */
  readonly port: number;
  readonly allowAllInterfaces?: boolean;
  readonly services: readonly GrpcServiceRegistration[];
  /**
   * proto-loader definition of the served protos, for reflection (health and reflection are
   * added). Its `fileDescriptorProtos` are served as they are, so they must be compiler
   * output with imports included: `loadPackageDefinition()` of @custody/contracts. The
   * constructor throws if a client could not resolve them (missing import, unresolvable
   * type, misnamed map entry) or if a registered service is not declared in them.
   */
  readonly packageDefinition: PackageDefinition;
  /** Explicit on purpose: there is no default, so nothing ends up insecure by omission. */
  readonly credentials: GrpcServerCredentials;
  /** Time given to in-flight calls on shutdown before they are cut (default 10 s). */
  readonly shutdownGraceMs?: number;
  /**
   * How long to keep answering with health NOT_SERVING before refusing new calls on
   * shutdown, so load balancers and probes see the change (default 0).
   */
  readonly notServingDelayMs?: number;
  /**
   * Which client certificates may call (see grpc-caller-identity.ts): every registered service
   * and reflection refuse any other CA-valid certificate with PERMISSION_DENIED
   * (CALLER_NOT_ALLOWED); grpc.health.v1.Health stays open. [] = nobody but health. Needs mTLS
   * credentials (`requireClientCertificate`). Undefined: any CA-valid certificate (as before).
   */
  readonly allowedCallers?: readonly CallerRule[];
  /** Told about each call refused by `allowedCallers` (log it). */
  readonly onCallerDenied?: (path: string, peer: PeerCertificate | undefined) => void;
  /** grpc-js channel options (message sizes, keepalive, interceptors). */
  readonly serverOptions?: ServerOptions;
}

export type ShutdownOutcome = 'graceful' | 'forced' | 'not-running';

/** `package.Service` from a method path `/package.Service/Method`. */
export function serviceNameOf(definition: ServiceDefinition): string {
  const first = Object.values(definition)[0];
  const match = first ? /^\/([^/]+)\/[^/]+$/.exec(first.path) : null;
  if (!match?.[1]) throw new TypeError('cannot derive the service name from an empty or malformed ServiceDefinition; pass `name`');
  return match[1];
}

function toServerCredentials(credentials: GrpcServerCredentials): ServerCredentials {
  if (credentials.kind === 'insecure') return ServerCredentials.createInsecure();
  if (credentials.requireClientCertificate && !credentials.clientCa) {
    throw new TypeError('requireClientCertificate needs clientCa (the CA that signs client certificates)');
  }
  return ServerCredentials.createSsl(
    credentials.clientCa ?? null,
    [{ cert_chain: credentials.certChain, private_key: credentials.privateKey }],
    credentials.requireClientCertificate ?? false,
  );
}

type State = 'new' | 'starting' | 'running' | 'stopping' | 'stopped';

export class GrpcServer {
  readonly host: string;
  private readonly server: Server;
  private readonly health: HealthImplementation;
  private readonly serviceNames: readonly string[];
  private readonly credentials: ServerCredentials;
  private state: State = 'new';
  private boundPort: number | undefined;
  private stopping: Promise<ShutdownOutcome> | undefined;

  constructor(private readonly options: GrpcServerOptions) {
    this.host = options.host ?? DEFAULT_LISTEN_HOST;
    assertListenHost(this.host, options.allowAllInterfaces);
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) throw new RangeError(`invalid port ${options.port}`);
    this.credentials = toServerCredentials(options.credentials);

    const names: string[] = [];
    const ownAuth: string[] = [];
    for (const service of options.services) {
      const name = service.name ?? serviceNameOf(service.definition);
      if (names.includes(name)) throw new TypeError(`service ${name} registered twice`);
      names.push(name);
      if (service.operatorFacing) ownAuth.push(name);
    }
    let serverOptions = options.serverOptions;
    if (options.allowedCallers !== undefined) {
      const c = options.credentials;
      if (c.kind !== 'tls' || !c.requireClientCertificate) throw new TypeError('allowedCallers needs mTLS credentials (requireClientCertificate with clientCa)');
      // Ours first: a refused caller reaches no other interceptor and no handler.
      const open = ownAuth.length === 0 ? [] : [...ownAuth, ...REFLECTION_SERVICE_NAMES].map((n) => `/${n}/`);
      const interceptor = callerAllowListInterceptor(options.allowedCallers, { open, ...(options.onCallerDenied ? { onDenied: options.onCallerDenied } : {}) });
      serverOptions = { ...serverOptions, interceptors: [interceptor, ...(serverOptions?.interceptors ?? [])] };
    }
    this.server = new Server(serverOptions);
    for (const service of options.services) this.server.addService(service.definition, service.implementation);
    this.serviceNames = Object.freeze(names);

    // Not serving until bound; '' is the whole server.
    this.health = new HealthImplementation(Object.fromEntries(['', ...names].map((n) => [n, 'NOT_SERVING' as ServingStatus])));
    this.health.addToServer(this.server);
    // Reflection serves compiler-built descriptors only (see grpc-reflection.ts), and lists
    // what this server serves, not every service the descriptors happen to declare.
    const files = reflectedFiles(options.packageDefinition);
    const declared = declaredServices(files);
    const undeclared = names.filter((name) => !declared.has(name));
    if (undeclared.length > 0) throw new TypeError(`gRPC reflection: no descriptor for ${undeclared.join(', ')} in packageDefinition`);
    const served = [...names, HEALTH_SERVICE_NAME, ...REFLECTION_SERVICE_NAMES];
    new ReflectionService(reflectionPackageDefinition(files), { services: served }).addToServer(this.server);
  }

  /** Names of the application services (without health and reflection). */
  get services(): readonly string[] {
    return this.serviceNames;
  }

  /** The bound port; throws before start. */
  get port(): number {
    if (this.boundPort === undefined) throw new Error('gRPC server is not started');
    return this.boundPort;
  }

  /** host:port the server listens on; throws before start. */
  get address(): string {
    return formatHostPort(this.host, this.port);
  }

  get running(): boolean {
    return this.state === 'running';
  }

  /** Binds the configured address, marks every service SERVING, resolves the bound port. */
  async start(): Promise<number> {
    if (this.state !== 'new') throw new Error(`gRPC server cannot start from state ${this.state}`);
    this.state = 'starting';
    try {
      const address = formatHostPort(this.host, this.options.port);
      this.boundPort = await new Promise<number>((resolve, reject) => {
        this.server.bindAsync(address, this.credentials, (err, port) =>
          err ? reject(new Error(`gRPC server cannot bind ${address}: ${err.message}`, { cause: err })) : resolve(port),
        );
      });
    } catch (err) {
      this.state = 'stopped';
      this.server.forceShutdown();
      throw err;
    }
    this.state = 'running';
    this.setServingStatus('', 'SERVING');
    for (const name of this.serviceNames) this.setServingStatus(name, 'SERVING');
    return this.boundPort;
  }

  /** Sets one service's health status ('' is the overall server status). */
  setServingStatus(service: string, status: 'SERVING' | 'NOT_SERVING'): void {
    if (service !== '' && !this.serviceNames.includes(service)) throw new Error(`unknown service ${service}`);
    this.health.setStatus(service, status);
  }

  /**
   * Marks everything NOT_SERVING, stops accepting calls, lets in-flight calls finish for up
   * to `graceMs`, then cancels what is left. Idempotent.
   */
  shutdown(graceMs = this.options.shutdownGraceMs ?? 10_000): Promise<ShutdownOutcome> {
    if (this.state === 'new' || this.state === 'stopped') {
      this.state = 'stopped';
      return Promise.resolve('not-running');
    }
    this.stopping ??= new Promise<ShutdownOutcome>((resolve) => {
      this.state = 'stopping';
      this.setServingStatus('', 'NOT_SERVING');
      for (const name of this.serviceNames) this.setServingStatus(name, 'NOT_SERVING');
      const stop = (): void => {
        const timer = setTimeout(() => {
          this.server.forceShutdown();
          this.state = 'stopped';
          resolve('forced');
        }, graceMs);
        this.server.tryShutdown(() => {
          clearTimeout(timer);
          this.state = 'stopped';
          resolve('graceful');
        });
      };
      const delay = this.options.notServingDelayMs ?? 0;
      if (delay > 0) setTimeout(stop, delay);
      else stop();
    });
    return this.stopping;
  }
}
