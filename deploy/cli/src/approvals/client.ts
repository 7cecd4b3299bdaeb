// The policy service's ApprovalService over grpc-js (loaded only by the approvals commands).
import { ApprovalServiceClient, type ApproveResponse, type ListPendingApprovalsResponse, type PendingApproval } from '@custody/contracts';
import { channelCredentials, unaryCaller } from '../service-client.js';
import type { SignedVote } from './signing.js';
import { formatTarget, type ServerAddress, type Transport } from './transport.js';

/** Pages of ListPendingApprovals read at most (500 each): bounded. */
const MAX_PAGES = 200;

export interface ApprovalApi {
  listAll(): Promise<PendingApproval[]>;
  find(decisionId: string): Promise<PendingApproval | undefined>;
  /** `requestId` is sent as x-request-id: the audit record of the vote carries it. */
  approve(vote: SignedVote, requestId: string): Promise<ApproveResponse>;
  reject(vote: SignedVote, reason: string, requestId: string): Promise<void>;
  close(): void;
}

const device = (v: SignedVote): { deviceAssertion?: SignedVote['deviceAssertion'] } => (v.deviceAssertion ? { deviceAssertion: v.deviceAssertion } : {});

export function connectApprovals(address: ServerAddress, transport: Transport, timeoutMs: number): ApprovalApi {
  const target = formatTarget(address);
  const client = new ApprovalServiceClient(target, channelCredentials(transport));
  const unary = unaryCaller(client, target, timeoutMs);
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
    approve: (v, requestId) => unary<object, ApproveResponse>('approve', { decisionId: v.decisionId, operatorId: v.operatorId, role: v.role, keyId: v.keyId, signature: v.signature, ...device(v) }, requestId),
    reject: async (v, reason, requestId) => {
      await unary<object, object>('reject', { decisionId: v.decisionId, operatorId: v.operatorId, role: v.role, keyId: v.keyId, signature: v.signature, reason, ...device(v) }, requestId);
    },
    close: () => client.close(),
  };
}
