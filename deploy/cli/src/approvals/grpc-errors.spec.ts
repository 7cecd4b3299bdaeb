import { describe, expect, it } from '@jest/globals';
import { ExitCode } from '../types.js';
import { callFailureToError } from './grpc-errors.js';

describe('gRPC failure → exit code', () => {
  it('nothing listening, handshake refused or deadline (no server reason) → 3 unreachable', () => {
    for (const code of [14, 4]) {
      const e = callFailureToError('127.0.0.1:1', { code, details: 'connect ECONNREFUSED' });
      expect(e).toMatchObject({ exitCode: ExitCode.UNREACHABLE, reason: 'UNREACHABLE' });
      expect(e.message).toBe('cannot reach the server at 127.0.0.1:1: connect ECONNREFUSED');
    }
  });

  it('the server said no → 1 with its error-reason, even on UNAVAILABLE (e.g. AUDIT_UNAVAILABLE)', () => {
    expect(callFailureToError('x:1', { code: 16, details: 'signature does not verify', reason: 'BAD_APPROVAL_SIGNATURE' })).toMatchObject({
      exitCode: ExitCode.FAILED,
      reason: 'BAD_APPROVAL_SIGNATURE',
      message: 'refused by the server: BAD_APPROVAL_SIGNATURE: signature does not verify',
    });
    expect(callFailureToError('x:1', { code: 14, reason: 'AUDIT_UNAVAILABLE' })).toMatchObject({ exitCode: ExitCode.FAILED, reason: 'AUDIT_UNAVAILABLE' });
    expect(callFailureToError('x:1', { code: 13, details: 'Internal error' })).toMatchObject({ exitCode: ExitCode.FAILED, reason: 'UNKNOWN' });
  });
});
