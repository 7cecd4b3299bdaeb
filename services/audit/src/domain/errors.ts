// Audit's domain errors: stable codes (the `error-reason` trailer); gRPC status per code in
// adapters/grpc/error-map.ts.
import { DomainError } from '@custody/platform';

export class InvalidArgumentError extends DomainError {
  constructor(
    readonly field: string,
    code: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`);
  }
}

export class InvalidOperatorActionError extends InvalidArgumentError {
  constructor(field: string, message: string) {
    super(field, 'OPERATOR_ACTION_INVALID', message);
  }
}

/**
 * The audit log could not be written. Fail closed: the operator action that needed the
 * record is refused (ISO/TR 23576 9.3.9.4; like a Vault without a working audit device).
 */
export class AuditUnavailableError extends DomainError {
  constructor(options: { cause?: unknown } = {}) {
    super('AUDIT_UNAVAILABLE', 'the audit log cannot be written: administrative actions are refused until it is restored', options);
  }
}
