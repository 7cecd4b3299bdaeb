// Intake's domain errors: stable codes (the `error-reason` trailer) and messages written for
// the integrator. The gRPC status for each code lives in adapters/grpc/error-map.ts.
import { DomainError } from '@custody/platform';

/** Bad input. `field` names the request field (proto snake_case) the caller must fix. */
export class InvalidArgumentError extends DomainError {
  constructor(
    readonly field: string,
    code: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`);
  }
}

/** The caller could not be authenticated (unknown/revoked client, bad signature, replay, ...). */
export class AuthenticationError extends DomainError {}

/** Authenticated, but not allowed to do this (scope, asset, source address). */
export class PermissionError extends DomainError {}

export class RateLimitedError extends DomainError {
  constructor(readonly retryAfterMs: number) {
    super('RATE_LIMITED', `rate limit exceeded for this client; retry after ${Math.ceil(retryAfterMs / 1000)} s`);
  }
}

export class NotFoundError extends DomainError {}

export class IdempotencyConflictError extends DomainError {
  constructor() {
    super(
      'IDEMPOTENCY_KEY_REUSED',
      'idempotency_key was already used for a different request body; use a new key for a new withdrawal, or resend the original body unchanged',
    );
  }
}

export class NotCancellableError extends DomainError {
  constructor(state: string) {
    super('NOT_CANCELLABLE', `the withdrawal is ${state}: it can only be cancelled before it is handed to the signer`);
  }
}

/** 9.4: the asset is inside an announced maintenance window. */
export class MaintenanceError extends DomainError {
  constructor(
    readonly maintenanceId: string,
    readonly endsAt: Date,
    readonly retryAfterMs: number,
  ) {
    super('MAINTENANCE', `withdrawals for this asset are suspended for announced maintenance ${maintenanceId} until ${endsAt.toISOString()}`);
  }
}

/** A dependency is not there (fail closed), e.g. no deposit-address provider configured. */
export class UnavailableError extends DomainError {}

export class InvalidTransitionError extends DomainError {
  constructor(from: string, to: string) {
    super('INVALID_TRANSITION', `withdrawal cannot move from ${from} to ${to}`);
  }
}

/** A maintenance window that cannot be scheduled (names the request field, like any bad input). */
export class InvalidMaintenanceError extends InvalidArgumentError {}

/** The thing to create exists already (operator API: integrator, key, certificate pin). */
export class ConflictError extends DomainError {}

/** The target is not in a state that allows the change (revoked integrator, ended or cancelled window). */
export class PreconditionError extends DomainError {}
