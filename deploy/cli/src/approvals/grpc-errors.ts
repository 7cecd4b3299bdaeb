// A failed gRPC call → exit code and message. The server's `error-reason` trailer is its
// stable reason (e.g. BAD_APPROVAL_SIGNATURE); a transport failure without one (nothing
// listening, TLS handshake refused, deadline) means unreachable. Pure.
import { CliError, ExitCode } from '../types.js';

/** grpc-js status codes used here (numbers from the gRPC spec). */
export const GrpcStatus = Object.freeze({ DEADLINE_EXCEEDED: 4, UNAVAILABLE: 14 });

export interface CallFailure {
  readonly code?: number;
  readonly details?: string;
  /** The `error-reason` trailer, when the server sent one. */
  readonly reason?: string;
}

export function callFailureToError(target: string, f: CallFailure): CliError {
  if (f.reason === undefined && (f.code === GrpcStatus.UNAVAILABLE || f.code === GrpcStatus.DEADLINE_EXCEEDED)) {
    return new CliError(ExitCode.UNREACHABLE, `cannot reach the server at ${target}: ${f.details ?? 'unavailable'}`, 'UNREACHABLE');
  }
  const reason = f.reason ?? 'UNKNOWN';
  return new CliError(ExitCode.FAILED, `refused by the server: ${reason}${f.details ? `: ${f.details}` : ''}`, reason);
}
