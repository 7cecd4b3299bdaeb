// The policy service's ApprovalService over grpc-js (loaded only by the approvals commands).
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { ApprovalServiceClient, type ApproveResponse, type ListPendingApprovalsResponse, type PendingApproval } from '@custody/contracts';
import { UsageError } from '../types.js';
import { callFailureToError } from './grpc-errors.js';
import type { SignedVote } from './signing.js';
import { formatTarget, type ServerAddress, type Transport } from './transport.js';

/** Pages of ListPendingApprovals read at most (500 each): bounded. */
const MAX_PAGES = 200;

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

export interface ApprovalApi {
  listAll(): Promise<PendingApproval[]>;
  find(decisionId: string): Promise<PendingApproval | undefined>;
  /** `requestId` is sent as x-request-id: the audit record of the vote carries it. */
  approve(vote: SignedVote, requestId: string): Promise<ApproveResponse>;
  reject(vote: SignedVote, reason: string, requestId: string): Promise<void>;
  close(): void;
}

export function connectApprovals(address: ServerAddress, transport: Transport, timeoutMs: number): ApprovalApi {
  const target = formatTarget(address);
  const client = new ApprovalServiceClient(target, channelCredentials(transport));
  const unary = <Req, Res>(method: string, req: Req, requestId?: string): Promise<Res> =>
    new Promise((resolve, reject) => {
      const fn = (client as unknown as Record<string, (r: Req, md: Metadata, o: { deadline: Date }, cb: (e: ServiceError | null, r: Res) => void) => void>)[method];
      if (!fn) throw new Error(`no method ${method}`);
      const metadata = new Metadata();
      if (requestId !== undefined) metadata.set('x-request-id', requestId);
      fn.call(client, req, metadata, { deadline: new Date(Date.now() + timeoutMs) }, (err, res) => {
        if (!err) return resolve(res);
        const reason = err.metadata?.get('error-reason')[0];
        reject(callFailureToError(target, { code: err.code, details: err.details, ...(typeof reason === 'string' ? { reason } : {}) }));
      });
    });
  const listAll = async (): Promise<PendingApproval[]> => {
    const out: PendingApproval[] = [];
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page++) {
      const res = await unary<object, ListPendingApprovalsResponse>('listPendingApprovals', { pageSize: 500, pageToken });
      out.push(...res.approvals);
      if (!res.nextPageToken) break;
      pageToken = res.nextPageToken;
    }
    return out;
  };
  return {
    listAll,
    find: async (decisionId) => (await listAll()).find((p) => p.decisionId === decisionId),
    approve: (v, requestId) => unary<object, ApproveResponse>('approve', { decisionId: v.decisionId, operatorId: v.operatorId, role: v.role, keyId: v.keyId, signature: v.signature }, requestId),
    reject: async (v, reason, requestId) => {
      await unary<object, object>('reject', { decisionId: v.decisionId, operatorId: v.operatorId, role: v.role, keyId: v.keyId, signature: v.signature, reason }, requestId);
    },
    close: () => client.close(),
  };
}
