// The signer's KeyAdminService over grpc-js, loaded only when a `custody keys` command that
// talks to the signer runs: the inventory, suspend/resume, the generation ceremony, backup
// shares and the restore from them.
import {
  KeyAdminServiceClient,
  type AdminRequest,
  type BackupCustodian,
  type BackupManifest,
  type CreateBackupSharesResponse,
  type KeyInfo,
  type ListKeysResponse,
  type OpenedBackupShare,
} from '@custody/contracts';
import { channelCredentials, unaryCaller } from '../service-client.js';
import { formatTarget, type ServerAddress, type Transport } from '../approvals/transport.js';
import type { CliTransition } from './transition.js';

export interface GenerateParams {
  readonly walletId: string;
  readonly chain: string;
  readonly algorithm: string;
  readonly tier: string;
  readonly custody: string;
}

export interface KeyAdminApi {
  list(filter: { walletId: string; chain: string }): Promise<KeyInfo[]>;
  transition(transition: CliTransition, request: AdminRequest): Promise<KeyInfo | undefined>;
  generate(request: AdminRequest, params: GenerateParams): Promise<KeyInfo | undefined>;
  backup(request: AdminRequest, threshold: number, custodians: readonly BackupCustodian[]): Promise<CreateBackupSharesResponse>;
  restore(request: AdminRequest, manifest: BackupManifest, shares: readonly OpenedBackupShare[]): Promise<KeyInfo | undefined>;
  close(): void;
}

export function connectKeyAdmin(address: ServerAddress, transport: Transport, timeoutMs: number): KeyAdminApi {
  const target = formatTarget(address);
  const client = new KeyAdminServiceClient(target, channelCredentials(transport));
  const unary = unaryCaller(client, target, timeoutMs);
  return {
    list: async (filter) => (await unary<object, ListKeysResponse>('listKeys', filter)).keys,
    transition: async (transition, request) => (await unary<object, { key?: KeyInfo }>(transition === 'suspend' ? 'suspendKey' : 'resumeKey', { request })).key,
    generate: async (request, p) => (await unary<object, { key?: KeyInfo }>('generateKey', { request, ...p })).key,
    backup: (request, threshold, custodians) => unary<object, CreateBackupSharesResponse>('createBackupShares', { request, threshold, custodians }),
    restore: async (request, manifest, shares) => (await unary<object, { key?: KeyInfo }>('restoreFromShares', { request, manifest, shares })).key,
    close: () => client.close(),
  };
}
