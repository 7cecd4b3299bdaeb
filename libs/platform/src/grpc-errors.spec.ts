import { describe, it, expect } from '@jest/globals';
import { Metadata, status, type ServerUnaryCall } from '@grpc/grpc-js';
import { currentCorrelation } from './correlation.js';
import { DomainError, isDomainError } from './domain-error.js';
import { ERROR_DOMAIN_KEY, ERROR_REASON_KEY, errorReason, toGrpcError, unaryHandler, type GrpcStatusError } from './grpc-errors.js';

class LimitExceeded extends DomainError {
  constructor(cause?: unknown) {
    super('WITHDRAWAL_LIMIT_EXCEEDED', 'the withdrawal exceeds the daily limit for this account', { cause });
  }
}

const codeMap = { WITHDRAWAL_LIMIT_EXCEEDED: status.FAILED_PRECONDITION, WITHDRAWAL_NOT_FOUND: status.NOT_FOUND };

describe('DomainError', () => {
  it('carries a stable code, a public message and an internal cause', () => {
    const cause = new Error('SELECT ... FROM limits failed: password authentication failed');
    const err = new LimitExceeded(cause);
    expect(err).toBeInstanceOf(Error);
    expect(isDomainError(err)).toBe(true);
    expect(err.code).toBe('WITHDRAWAL_LIMIT_EXCEEDED');
    expect(err.name).toBe('LimitExceeded');
    expect(err.publicMessage).toBe('the withdrawal exceeds the daily limit for this account');
    expect(err.cause).toBe(cause);
  });

  it('refuses codes that are not UPPER_SNAKE_CASE', () => {
    expect(() => new DomainError('limitExceeded', 'x')).toThrow(TypeError);
    expect(() => new DomainError('', 'x')).toThrow(TypeError);
  });
});

describe('toGrpcError', () => {
  it('maps a domain error to its status, public message and error-reason trailer', () => {
    const grpcError = toGrpcError(new LimitExceeded(new Error('db row 42 locked')), codeMap, { domain: 'custody.intake' });
    expect(grpcError.code).toBe(status.FAILED_PRECONDITION);
    expect(grpcError.details).toBe('the withdrawal exceeds the daily limit for this account');
    expect(grpcError.metadata.get(ERROR_REASON_KEY)).toEqual(['WITHDRAWAL_LIMIT_EXCEEDED']);
    expect(grpcError.metadata.get(ERROR_DOMAIN_KEY)).toEqual(['custody.intake']);
    expect(errorReason(grpcError.metadata)).toBe('WITHDRAWAL_LIMIT_EXCEEDED');
    // nothing of the cause travels
    expect(JSON.stringify({ ...grpcError, stack: grpcError.stack, md: grpcError.metadata.getMap() })).not.toContain('row 42');
    expect((grpcError as Error).cause).toBeUndefined();
  });

  it('uses UNKNOWN (or the configured status) for an unmapped domain code, keeping its reason', () => {
    const err = new DomainError('KEY_SUSPENDED', 'the signing key is suspended');
    expect(toGrpcError(err, codeMap).code).toBe(status.UNKNOWN);
    expect(toGrpcError(err, codeMap, { unmappedStatus: status.FAILED_PRECONDITION }).code).toBe(status.FAILED_PRECONDITION);
    expect(errorReason(toGrpcError(err, codeMap).metadata)).toBe('KEY_SUSPENDED');
  });

  it('does not treat inherited object keys as mapped codes', () => {
    expect(toGrpcError(new DomainError('CONSTRUCTOR', 'x'), {}).code).toBe(status.UNKNOWN);
  });

  it('turns anything else into INTERNAL with a fixed message', () => {
    for (const thrown of [new TypeError('cannot read x of undefined at /srv/app.js:10'), 'a string', { code: 5, details: 'downstream NOT_FOUND' }, undefined]) {
      const grpcError = toGrpcError(thrown, codeMap);
      expect(grpcError.code).toBe(status.INTERNAL);
      expect(grpcError.details).toBe('internal error');
      expect(errorReason(grpcError.metadata)).toBe('INTERNAL');
    }
  });
});

function fakeCall(request: unknown, metadata = new Metadata()): ServerUnaryCall<unknown, unknown> {
  return { request, metadata } as unknown as ServerUnaryCall<unknown, unknown>;
}

function invoke(handler: ReturnType<typeof unaryHandler<unknown, unknown>>, call: ServerUnaryCall<unknown, unknown>) {
  return new Promise<{ error: GrpcStatusError | null; value: unknown }>((resolve) => {
    handler(call, (error, value) => resolve({ error: error as GrpcStatusError | null, value }));
  });
}

describe('unaryHandler', () => {
  it('answers with the use case result inside the caller correlation context', async () => {
    const metadata = new Metadata();
    metadata.set('x-correlation-id', 'corr-7');
    metadata.set('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
    const handler = unaryHandler(async (req: unknown) => ({ echo: req, correlation: currentCorrelation() }), { codeMap });
    const { error, value } = await invoke(handler, fakeCall('hi', metadata));
    expect(error).toBeNull();
    expect(value).toEqual({
      echo: 'hi',
      correlation: { correlationId: 'corr-7', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    });
  });

  it('creates a correlation id when the caller sent none', async () => {
    const handler = unaryHandler(async () => currentCorrelation()?.correlationId, { codeMap });
    const { value } = await invoke(handler, fakeCall({}));
    expect(value).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('maps thrown errors and hands the original to onError', async () => {
    const seen: unknown[] = [];
    const original = new LimitExceeded(new Error('internal detail'));
    const handler = unaryHandler(
      async () => {
        throw original;
      },
      {
        codeMap,
        onError: (err) => {
          seen.push(err);
          throw new Error('a broken logger');
        },
      },
    );
    const { error } = await invoke(handler, fakeCall({}));
    expect(seen).toEqual([original]);
    expect(error?.code).toBe(status.FAILED_PRECONDITION);
    expect(errorReason(error?.metadata)).toBe('WITHDRAWAL_LIMIT_EXCEEDED');
  });
});
