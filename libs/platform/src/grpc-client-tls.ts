// How a service's gRPC client to one peer is secured, from the environment: one definition for
// every caller's config.ts (the client-side sibling of grpc-tls-env.ts). The caller names its
// variables (the names stay literal in its config.ts, where the chart's spec finds them):
//   <address>   host:port of the peer; absent = no client (the caller decides what that means)
//   <tls>       mtls (default) | insecure
//   <caFile>    CA the peer's server certificate must chain to     } required with mtls
//   <certFile>  our client certificate (client auth usage)         } (mutual TLS: we present
//   <keyFile>   its private key                                    }  our own certificate)
// Fail closed: mtls without all three files is refused, and plaintext (insecure) is refused to
// anything but a loopback address (127.0.0.0/8, ::1, localhost).
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { credentials, type ChannelCredentials } from '@grpc/grpc-js';
import { z } from 'zod';
import { envVar } from './config-fields.js';

/** The environment variable names of one client (e.g. CUSTODY_INTAKE_SIGNER_ADDRESS, …). */
export interface GrpcClientEnvNames {
  readonly address: string;
  readonly tls: string;
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** One client's settings after validation: file paths only (plain data; read by grpcClientCredentials). */
export interface GrpcClientSettings {
  readonly address: string;
  /** undefined = plaintext, which validation allows only to a loopback address. */
  readonly tls: { readonly caFile: string; readonly certFile: string; readonly keyFile: string } | undefined;
}

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)):(\d{1,5})$/;

/** Host of a `host:port` / `[v6]:port` address (brackets removed), or undefined when malformed. */
export function grpcAddressHost(address: string): string | undefined {
  const m = HOST_PORT.exec(address);
  if (!m || Number(m[3]) > 65535) return undefined;
  const host = m[1] ?? m[2];
  if (m[1] !== undefined && isIP(m[1]) !== 6) return undefined;
  return host;
}

/** True for 127.0.0.0/8, ::1 and localhost: the only peers plaintext is allowed to. */
export function isLoopbackAddress(address: string): boolean {
  const host = grpcAddressHost(address)?.toLowerCase();
  if (host === undefined) return false;
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  // WHATWG URL parsing normalises an IPv6 literal (0:0:0:0:0:0:0:1 → ::1)
  return isIP(host) === 6 && new URL(`http://[${host}]/`).hostname === '[::1]';
}

const MODES = ['mtls', 'insecure'] as const;
type OptionalString = z.ZodOptional<ReturnType<typeof envVar.string>>;
type ClientShape<N extends GrpcClientEnvNames> = { [K in N['address'] | N['caFile'] | N['certFile'] | N['keyFile']]: OptionalString } & {
  [K in N['tls']]: z.ZodDefault<z.ZodEnum<{ mtls: 'mtls'; insecure: 'insecure' }>>;
};

/**
 * The zod schema of one gRPC client's variables, to combine with the service's own
 * (`common.and(grpcClientTlsEnv(NAMES))`). Validation fails closed (see the file comment).
 */
export function grpcClientTlsEnv<const N extends GrpcClientEnvNames>(names: N): z.ZodObject<ClientShape<N>> {
  const shape: Record<string, z.ZodType> = {
    [names.address]: envVar.string({ minLength: 1 }).optional(),
    [names.tls]: z.enum(MODES).default('mtls'),
    [names.caFile]: envVar.string({ minLength: 1 }).optional(),
    [names.certFile]: envVar.string({ minLength: 1 }).optional(),
    [names.keyFile]: envVar.string({ minLength: 1 }).optional(),
  };
  const schema = z.object(shape).superRefine((raw, ctx) => {
    const e = raw as Record<string, string | undefined>;
    const address = e[names.address];
    if (address === undefined) return;
    if (grpcAddressHost(address) === undefined) {
      ctx.addIssue({ code: 'custom', path: [names.address], message: 'expected host:port (or [IPv6]:port)' });
      return;
    }
    if (e[names.tls] === 'insecure') {
      if (!isLoopbackAddress(address)) {
        ctx.addIssue({ code: 'custom', path: [names.tls], message: `plaintext is allowed only to a loopback address (127.0.0.0/8, ::1, localhost), not ${address}: use mtls` });
      }
      return;
    }
    for (const variable of [names.caFile, names.certFile, names.keyFile]) {
      if (e[variable] === undefined) ctx.addIssue({ code: 'custom', path: [variable], message: `required with ${names.address} and ${names.tls}=mtls` });
    }
  });
  return schema as unknown as z.ZodObject<ClientShape<N>>;
}

/** The validated client settings (plain data), or undefined when its address is not set. */
export function grpcClientSettings(env: object, names: GrpcClientEnvNames): GrpcClientSettings | undefined {
  const e = env as Record<string, string | undefined>;
  const address = e[names.address];
  if (address === undefined) return undefined;
  const caFile = e[names.caFile];
  const certFile = e[names.certFile];
  const keyFile = e[names.keyFile];
  if (e[names.tls] === 'insecure') return { address, tls: undefined };
  if (!caFile || !certFile || !keyFile) throw new TypeError(`grpcClientSettings: ${names.address} needs ${names.caFile}, ${names.certFile} and ${names.keyFile} (validate with grpcClientTlsEnv first)`);
  return { address, tls: { caFile, certFile, keyFile } };
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`gRPC client TLS: cannot read the ${what} file ${path} (${(error as { code?: string }).code ?? 'error'})`);
  }
}

/**
 * grpc-js channel credentials for the settings: mutual TLS (the three files are read now), or
 * plaintext to a loopback address only (checked again here: fail closed whoever built the settings).
 */
export function grpcClientCredentials(settings: GrpcClientSettings): ChannelCredentials {
  if (!settings.tls) {
    if (!isLoopbackAddress(settings.address)) throw new Error(`gRPC client: refusing plaintext to ${settings.address} (not a loopback address); configure mTLS`);
    return credentials.createInsecure();
  }
  const [ca, key, cert] = [readPem(settings.tls.caFile, 'CA'), readPem(settings.tls.keyFile, 'key'), readPem(settings.tls.certFile, 'certificate')];
  try {
    return credentials.createSsl(ca, key, cert);
  } catch (error) {
    // OpenSSL's reason only (e.g. "no start line"), never the files' contents
    throw new Error(`gRPC client TLS for ${settings.address}: the CA, certificate and key files are not usable PEM credentials (${(error as Error).message})`);
  }
}
