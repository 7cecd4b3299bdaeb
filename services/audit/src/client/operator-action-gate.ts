// The operator-action gate as a gRPC client of AuditService/RecordOperatorAction, for a
// service that runs outside the audit process. Use it like the in-process gate:
//
//   const receipt = await gate.record(action);   // throws AuditUnavailableError
//   ...only now apply the administrative action...
//
// Fail closed: audit unreachable, slower than the deadline, or answering with any error →
// AuditUnavailableError (code AUDIT_UNAVAILABLE; map it to gRPC UNAVAILABLE) and the
// caller must not apply the action. A receipt is returned only after audit committed the record.
import { credentials as grpcCredentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { AuditServiceClient, RecordOperatorActionRequest, timestampFromDate, timestampToDate, type RecordOperatorActionResponse } from '@custody/contracts';
import { CORRELATION_ID_KEY } from '@custody/platform';
import type { AuditGate } from '../application/gate.js';
import type { AuditReceipt } from '../application/audit-log.js';
import { AuditUnavailableError } from '../domain/errors.js';
import type { OperatorAction } from '../domain/operator-action.js';

export interface OperatorActionGateOptions {
  /** host:port of audit's gRPC server (AuditService). */
  readonly address: string;
  /** Default: plaintext (loopback / tests only); production passes mTLS credentials. */
  readonly credentials?: ChannelCredentials;
  /** Deadline of one RecordOperatorAction call (default 3 s). */
  readonly deadlineMs?: number;
}

export interface OperatorActionGate extends AuditGate {
  close(): void;
}

export function createOperatorActionGate(options: OperatorActionGateOptions): OperatorActionGate {
  const client = new AuditServiceClient(options.address, options.credentials ?? grpcCredentials.createInsecure());
  const deadlineMs = options.deadlineMs ?? 3_000;
  return {
    record: (action: OperatorAction): Promise<AuditReceipt> =>
      new Promise<AuditReceipt>((resolve, reject) => {
        const request = RecordOperatorActionRequest.fromPartial({
          actor: action.operatorId,
          action: action.action,
          target: action.target,
          requestDigest: action.requestDigest ? Buffer.from(action.requestDigest) : Buffer.alloc(0),
          correlationId: action.correlationId,
          deviceId: action.deviceId,
          sourceIp: action.sourceIp,
          requestId: action.requestId,
          approvalIds: [...action.approvalIds],
          occurredAt: timestampFromDate(action.occurredAt),
        });
        const metadata = new Metadata();
        metadata.set(CORRELATION_ID_KEY, action.correlationId);
        client.recordOperatorAction(request, metadata, { deadline: Date.now() + deadlineMs }, (err: ServiceError | null, res?: RecordOperatorActionResponse) => {
          if (err || !res) {
            reject(new AuditUnavailableError({ cause: err ?? new Error('RecordOperatorAction returned no response') }));
            return;
          }
          const recordHash = new Uint8Array(res.recordHash);
          if (!/^[1-9][0-9]*$/.test(res.sequence) || recordHash.length !== 32) {
            reject(new AuditUnavailableError({ cause: new Error('RecordOperatorAction returned a malformed receipt') }));
            return;
          }
          resolve({ sequence: BigInt(res.sequence), recordHash, ...(res.recordedAt ? { recordedAt: timestampToDate(res.recordedAt) } : {}) });
        });
      }),
    close: () => client.close(),
  };
}
