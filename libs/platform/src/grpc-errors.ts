// Domain error -> gRPC status. The caller gets a status code, the error's public message
// and its stable reason code in the `error-reason` trailer (google.rpc.ErrorInfo.reason
// style); anything that is not a DomainError becomes INTERNAL with a fixed message, so
// internal causes (SQL, stack traces, hostnames) never leave the process.
import { randomUUID } from 'node:crypto';
import { Metadata, status, type handleUnaryCall, type ServerErrorResponse, type ServerUnaryCall } from '@grpc/grpc-js';
import { withCorrelation } from './correlation.js';
import { DomainError } from './domain-error.js';

export const ERROR_REASON_KEY = 'error-reason';
export const ERROR_DOMAIN_KEY = 'error-domain';
export const INTERNAL_REASON = 'INTERNAL';
export const INTERNAL_MESSAGE = 'internal error';

/** DomainError code -> gRPC status code. */
export type GrpcCodeMap = Readonly<Record<string, status>>;

export interface ToGrpcErrorOptions {
  /** Written to the `error-domain` trailer (ErrorInfo.domain), e.g. 'custody.intake'. */
  readonly domain?: string;
  /** Status for a DomainError whose code is not in the map (default UNKNOWN). */
  readonly unmappedStatus?: status;
}

export interface GrpcStatusError extends ServerErrorResponse {
  code: status;
  details: string;
  metadata: Metadata;
}

/** Builds the status to pass to a grpc-js callback (or `call.destroy`/`emit('error')`). */
export function toGrpcError(err: unknown, codeMap: GrpcCodeMap, options: ToGrpcErrorOptions = {}): GrpcStatusError {
  const metadata = new Metadata();
  if (options.domain !== undefined) metadata.set(ERROR_DOMAIN_KEY, options.domain);
  let code: status;
  let details: string;
  if (err instanceof DomainError) {
    code = Object.prototype.hasOwnProperty.call(codeMap, err.code) ? (codeMap[err.code] as status) : (options.unmappedStatus ?? status.UNKNOWN);
    details = err.publicMessage;
    metadata.set(ERROR_REASON_KEY, err.code);
  } else {
    code = status.INTERNAL;
    details = INTERNAL_MESSAGE;
    metadata.set(ERROR_REASON_KEY, INTERNAL_REASON);
  }
  // A fresh Error: no stack or cause of the original travels with it.
  const error = new Error(details) as GrpcStatusError;
  error.name = 'GrpcStatusError';
  error.code = code;
  error.details = details;
  error.metadata = metadata;
  return error;
}

/** Reads the reason code a server put in the trailers (client side). */
export function errorReason(metadata: Metadata | undefined): string | undefined {
  const value = metadata?.get(ERROR_REASON_KEY)[0];
  return typeof value === 'string' ? value : undefined;
}

export const CORRELATION_ID_KEY = 'x-correlation-id';
export const CAUSATION_ID_KEY = 'x-causation-id';
export const TRACEPARENT_KEY = 'traceparent';

export interface UnaryHandlerOptions {
  readonly codeMap: GrpcCodeMap;
  readonly domain?: string;
  /** Called with the original error before it is mapped; log it here (with its cause). */
  readonly onError?: (err: unknown, call: ServerUnaryCall<unknown, unknown>) => void;
}

function firstString(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : undefined;
}

/**
 * Adapts an async use-case call to a grpc-js unary handler: runs it inside the caller's
 * correlation context (x-correlation-id / x-causation-id / traceparent metadata; a new
 * correlation id when absent) and maps thrown errors with {@link toGrpcError}.
 */
export function unaryHandler<Req, Res>(
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
  options: UnaryHandlerOptions,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const causationId = firstString(call.metadata, CAUSATION_ID_KEY);
    const traceparent = firstString(call.metadata, TRACEPARENT_KEY);
    const context = {
      correlationId: firstString(call.metadata, CORRELATION_ID_KEY) ?? randomUUID(),
      ...(causationId === undefined ? {} : { causationId }),
      ...(traceparent === undefined ? {} : { traceparent }),
    };
    withCorrelation(context, () => {
      fn(call.request, call).then(
        (response) => callback(null, response),
        (err: unknown) => {
          try {
            options.onError?.(err, call as ServerUnaryCall<unknown, unknown>);
          } catch {
            // a failing error hook must not leave the call without a response
          }
          callback(toGrpcError(err, options.codeMap, options.domain === undefined ? {} : { domain: options.domain }));
        },
      );
    });
  };
}
