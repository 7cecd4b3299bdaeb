// How every CLI command reaches a service's gRPC API: channel credentials from the transport
// (certificate files read here, a missing file is a usage error) and unary calls with a
// deadline whose failures become the CLI's errors (status + error-reason trailer). Loaded only
// by the commands that talk to a service.
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { UsageError } from './types.js';
import { callFailureToError } from './approvals/grpc-errors.js';
import type { Transport } from './approvals/transport.js';

function readFileOption(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${name} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

export function channelCredentials(t: Transport): ChannelCredentials {
  if (t.kind === 'insecure-loopback') return credentials.createInsecure();
  return credentials.createSsl(readFileOption('--ca', t.caFile), readFileOption('--key', t.keyFile), readFileOption('--cert', t.certFile));
}

/**
 * `requestId`, when given, is sent as x-request-id (audit records of operator actions carry it);
 * `headers` are further metadata (e.g. intake's x-custody-* request signature).
 */
export type UnaryCall = <Req, Res>(method: string, req: Req, requestId?: string, headers?: Readonly<Record<string, string>>) => Promise<Res>;

export function unaryCaller(client: Client, target: string, timeoutMs: number): UnaryCall {
  return <Req, Res>(method: string, req: Req, requestId?: string, headers?: Readonly<Record<string, string>>): Promise<Res> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (r: Req, md: Metadata, o: { deadline: Date }, cb: (e: ServiceError | null, r: Res) => void) => void>)[method];
      if (!fn) throw new Error(`no method ${method}`);
      const metadata = new Metadata();
      if (requestId !== undefined) metadata.set('x-request-id', requestId);
      for (const [name, value] of Object.entries(headers ?? {})) metadata.set(name, value);
      fn.call(client, req, metadata, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (!err) return resolve(res);
        const reason = err.metadata?.get('error-reason')[0];
        reject(callFailureToError(target, { code: err.code, details: err.details, ...(typeof reason === 'string' ? { reason } : {}) }));
      });
    });
}
