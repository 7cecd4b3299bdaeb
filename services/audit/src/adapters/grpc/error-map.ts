// Domain error code -> gRPC status (docs/audit.md has the same table).
import { status } from '@grpc/grpc-js';
import type { GrpcCodeMap } from '@custody/platform';

export const ERROR_DOMAIN = 'custody.audit';

export const AUDIT_ERROR_CODES: GrpcCodeMap = Object.freeze({
  FIELD_REQUIRED: status.INVALID_ARGUMENT,
  FIELD_TOO_LONG: status.INVALID_ARGUMENT,
  TIME_RANGE_INVALID: status.INVALID_ARGUMENT,
  PAGE_SIZE_INVALID: status.INVALID_ARGUMENT,
  PAGE_TOKEN_INVALID: status.INVALID_ARGUMENT,
  OPERATOR_ACTION_INVALID: status.INVALID_ARGUMENT,
  AUDIT_UNAVAILABLE: status.UNAVAILABLE,
});
