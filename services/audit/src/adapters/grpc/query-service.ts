// AuditQueryService over grpc-js: request -> AuditQueries -> wire records. Errors map
// through AUDIT_ERROR_CODES (status + `error-reason` trailer; the message names the field).
import { AuditQueryServiceService, timestampFromDate, timestampToDate, type AuditQueryServiceServer, type AuditRecord } from '@custody/contracts';
import { isDomainError, unaryHandler, type Logger } from '@custody/platform';
import type { AuditQueries, RecordPage } from '../../application/query.js';
import type { StoredRecord } from '../../domain/verify.js';
import { AUDIT_ERROR_CODES, ERROR_DOMAIN } from './error-map.js';

export { AuditQueryServiceService };

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function toWireRecord(r: StoredRecord): AuditRecord {
  return {
    sequence: r.sequence.toString(),
    eventId: r.eventId,
    eventType: r.action,
    producer: r.producer,
    correlationId: r.correlationId,
    occurredAt: timestampFromDate(r.occurredAt),
    recordedAt: timestampFromDate(r.recordedAt),
    prevHash: buf(r.prevHash),
    recordHash: buf(r.recordHash),
    envelope: r.kind === 'event' ? buf(r.payload) : Buffer.alloc(0),
    actor: r.actor,
    kind: r.kind,
    causationId: r.causationId,
    payloadDigest: buf(r.payloadDigest),
    payload: buf(r.payload),
  };
}

const toWirePage = (page: RecordPage) => ({ records: page.records.map(toWireRecord), nextPageToken: page.nextPageToken, chainVerified: page.chainVerified });
const optionalDate = (t: Parameters<typeof timestampToDate>[0] | undefined): Date | undefined => (t ? timestampToDate(t) : undefined);

export function createQueryService(deps: { readonly queries: AuditQueries; readonly logger: Logger }): AuditQueryServiceServer {
  const options = {
    codeMap: AUDIT_ERROR_CODES,
    domain: ERROR_DOMAIN,
    onError: (err: unknown) => (isDomainError(err) ? deps.logger.info({ code: err.code }, 'audit query refused') : deps.logger.error({ err }, 'audit query failed')),
  };
  return {
    queryByCorrelation: unaryHandler(
      async (req) => toWirePage(await deps.queries.byCorrelation(req.correlationId, { pageSize: req.pageSize, pageToken: req.pageToken })),
      options,
    ),
    queryByActor: unaryHandler(
      async (req) =>
        toWirePage(
          await deps.queries.byActor(req.actor, { startTime: optionalDate(req.startTime), endTime: optionalDate(req.endTime) }, { pageSize: req.pageSize, pageToken: req.pageToken }),
        ),
      options,
    ),
    queryByTimeRange: unaryHandler(
      async (req) => toWirePage(await deps.queries.byTimeRange(optionalDate(req.startTime), optionalDate(req.endTime), { pageSize: req.pageSize, pageToken: req.pageToken })),
      options,
    ),
  };
}
