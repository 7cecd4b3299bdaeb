// The signer's KeyAdminService (ListKeys, SuspendKey, ResumeKey) over grpc-js, loaded only when
// a `custody keys` command that talks to the signer runs.
import { KeyAdminServiceClient, type AdminRequest, type KeyInfo, type ListKeysResponse } from '@custody/contracts';
import { channelCredentials, unaryCaller } from '../service-client.js';
import { formatTarget, type ServerAddress, type Transport } from '../approvals/transport.js';
import type { CliTransition } from './transition.js';

export interface KeyAdminApi {
  list(filter: { walletId: string; chain: string }): Promise<KeyInfo[]>;
  transition(transition: CliTransition, request: AdminRequest): Promise<KeyInfo | undefined>;
  close(): void;
}

export function connectKeyAdmin(address: ServerAddress, transport: Transport, timeoutMs: number): KeyAdminApi {
  const target = formatTarget(address);
  const client = new KeyAdminServiceClient(target, channelCredentials(transport));
  const unary = unaryCaller(client, target, timeoutMs);
  return {
    list: async (filter) => (await unary<object, ListKeysResponse>('listKeys', filter)).keys,
    transition: async (transition, request) => (await unary<object, { key?: KeyInfo }>(transition === 'suspend' ? 'suspendKey' : 'resumeKey', { request })).key,
    close: () => client.close(),
  };
}
