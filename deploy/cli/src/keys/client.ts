// The signer's KeyAdminService (ListKeys, SuspendKey, ResumeKey) over grpc-js, loaded only when
// a `custody keys` command that talks to the signer runs.
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { KeyAdminServiceClient, type AdminRequest, type KeyInfo, type ListKeysResponse } from '@custody/contracts';
import { UsageError } from '../types.js';
import { callFailureToError } from '../approvals/grpc-errors.js';
import { formatTarget, type ServerAddress, type Transport } from '../approvals/transport.js';
import type { CliTransition } from './transition.js';

function readFileOption(name: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new UsageError(`cannot read ${name} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function channelCredentials(t: Transport): ChannelCredentials {
  if (t.kind === 'insecure-loopback') return credentials.createInsecure();
  return credentials.createSsl(readFileOption('--ca', t.caFile), readFileOption('--key', t.keyFile), readFileOption('--cert', t.certFile));
}

export interface KeyAdminApi {
  list(filter: { walletId: string; chain: string }): Promise<KeyInfo[]>;
  transition(transition: CliTransition, request: AdminRequest): Promise<KeyInfo | undefined>;
  close(): void;
}

export function connectKeyAdmin(address: ServerAddress, transport: Transport, timeoutMs: number): KeyAdminApi {
  const target = formatTarget(address);
  const client = new KeyAdminServiceClient(target, channelCredentials(transport));
  const unary = <Req, Res>(method: string, req: Req): Promise<Res> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (r: Req, md: Metadata, o: { deadline: Date }, cb: (e: ServiceError | null, r: Res) => void) => void>)[method];
      if (!fn) throw new Error(`no method ${method}`);
      fn.call(client, req, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (!err) return resolve(res);
        const reason = err.metadata?.get('error-reason')[0];
        reject(callFailureToError(target, { code: err.code, details: err.details, ...(typeof reason === 'string' ? { reason } : {}) }));
      });
    });
  return {
    list: async (filter) => (await unary<object, ListKeysResponse>('listKeys', filter)).keys,
    transition: async (transition, request) => (await unary<object, { key?: KeyInfo }>(transition === 'suspend' ? 'suspendKey' : 'resumeKey', { request })).key,
    close: () => client.close(),
  };
}
