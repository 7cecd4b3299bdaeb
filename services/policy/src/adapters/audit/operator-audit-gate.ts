// The operator-action audit gate as policy sees it (docs/policies.md "Approvals are audited
// first"): before an approval or rejection is applied, it is recorded by the audit service
// (AuditService/RecordOperatorAction). If that does not succeed — audit unreachable, slower
// than the deadline, or refusing — the vote is refused with UNAVAILABLE / AUDIT_UNAVAILABLE
// and nothing changes (ISO/TR 23576 9.3.9.4: no working audit device, no admin action).
//
// The port is shaped like @custody/audit's AuditGate, so an in-process composition can pass
// the audit handle's `gate` directly; out of process, grpcOperatorAuditGate calls audit over
// gRPC (services never import each other: this adapter uses only @custody/contracts).
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { AuditServiceClient, RecordOperatorActionRequest, timestampFromDate, type RecordOperatorActionResponse } from '@custody/contracts';
import { CORRELATION_ID_KEY, DomainError } from '@custody/platform';

/** One operator administrative action, as the audit service records it (C-9.3.6.2-d fields). */
export interface OperatorActionRecord {
  readonly operatorId: string;
  readonly action: string;
  readonly target: string;
  readonly deviceId: string;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly approvalIds: readonly string[];
  readonly correlationId: string;
  readonly occurredAt: Date;
  /** SHA-256 of the canonical request (32 bytes). */
  readonly requestDigest?: Uint8Array;
}

export interface OperatorAuditGate {
  /** Resolves only once audit committed the record; throws otherwise (refuse the action). */
  record(action: OperatorActionRecord): Promise<{ readonly sequence: bigint; readonly recordHash: Uint8Array }>;
}

/** The audit log could not record the action: it is refused (gRPC UNAVAILABLE). */
export class AuditUnavailableError extends DomainError {
  constructor(options: { cause?: unknown } = {}) {
    super('AUDIT_UNAVAILABLE', 'the audit service did not record the action: operator actions are refused until it can', options);
  }
}

/** Policy configured without an audit endpoint (and without CUSTODY_AUDIT_GATE=disabled): every operator action is refused. */
export const refusingOperatorAuditGate: OperatorAuditGate = {
  record: () => Promise.reject(new AuditUnavailableError({ cause: new Error('no audit endpoint is configured (CUSTODY_POLICY_AUDIT_GRPC_ADDRESS)') })),
};

export function grpcOperatorAuditGate(options: { readonly address: string; readonly credentials?: ChannelCredentials; readonly deadlineMs?: number }): OperatorAuditGate & { close(): void } {
  const client = new AuditServiceClient(options.address, options.credentials ?? grpcCredentials.createInsecure());
  const deadlineMs = options.deadlineMs ?? 3_000;
  return {
    record: (a) =>
      new Promise((resolve, reject) => {
        const request = RecordOperatorActionRequest.fromPartial({
          actor: a.operatorId,
          action: a.action,
          target: a.target,
          requestDigest: a.requestDigest ? Buffer.from(a.requestDigest) : Buffer.alloc(0),
          correlationId: a.correlationId,
          deviceId: a.deviceId,
          sourceIp: a.sourceIp,
          requestId: a.requestId,
          approvalIds: [...a.approvalIds],
          occurredAt: timestampFromDate(a.occurredAt),
        });
        const metadata = new Metadata();
        metadata.set(CORRELATION_ID_KEY, a.correlationId);
        client.recordOperatorAction(request, metadata, { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res?: RecordOperatorActionResponse) => {
          const recordHash = res ? new Uint8Array(res.recordHash) : new Uint8Array(0);
          if (err || !res || !/^[1-9][0-9]*$/.test(res.sequence) || recordHash.length !== 32) {
            reject(new AuditUnavailableError({ cause: err ?? new Error('RecordOperatorAction returned no valid receipt') }));
            return;
          }
          resolve({ sequence: BigInt(res.sequence), recordHash });
        });
      }),
    close: () => client.close(),
  };
}
