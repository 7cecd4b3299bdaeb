// AuditService over grpc-js: the synchronous write side of the operator-action gate. A
// response is sent only after the record (and its custody.audit.recorded.v1 outbox row)
// committed; any failure to write is UNAVAILABLE / AUDIT_UNAVAILABLE and the caller must
// refuse the administrative action (fail closed).
import { AuditServiceService, timestampFromDate, timestampToDate, type AuditServiceServer } from '@custody/contracts';
import { isDomainError, unaryHandler, type Logger } from '@custody/platform';
import type { AuditLog } from '../../application/audit-log.js';
import type { Clock } from '../../application/ports.js';
import { AUDIT_ERROR_CODES, ERROR_DOMAIN } from './error-map.js';

export { AuditServiceService };

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function createOperatorActionService(deps: { readonly log: AuditLog; readonly clock: Clock; readonly logger: Logger }): AuditServiceServer {
  return {
    recordOperatorAction: unaryHandler(
      async (req) => {
        const receipt = await deps.log.recordOperatorAction({
          operatorId: req.actor,
          action: req.action,
          target: req.target,
          deviceId: req.deviceId,
          sourceIp: req.sourceIp,
          requestId: req.requestId,
          approvalIds: [...req.approvalIds],
          correlationId: req.correlationId,
          occurredAt: req.occurredAt ? timestampToDate(req.occurredAt) : deps.clock.now(),
          ...(req.requestDigest.length > 0 ? { requestDigest: new Uint8Array(req.requestDigest) } : {}),
        });
        return {
          sequence: receipt.sequence.toString(),
          recordHash: buf(receipt.recordHash),
          recordedAt: timestampFromDate(receipt.recordedAt ?? deps.clock.now()),
        };
      },
      {
        codeMap: AUDIT_ERROR_CODES,
        domain: ERROR_DOMAIN,
        onError: (err: unknown) =>
          isDomainError(err) && err.code !== 'AUDIT_UNAVAILABLE'
            ? deps.logger.info({ code: err.code }, 'operator action refused')
            : deps.logger.error({ err, alert: 'audit_unwritable' }, 'operator action could not be recorded: the caller refuses it'),
      },
    ),
  };
}
