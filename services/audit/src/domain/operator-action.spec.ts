import { describe, expect, it } from '@jest/globals';
import { operatorActionPayload, validateOperatorAction, type OperatorAction } from './operator-action.js';

const action: OperatorAction = {
  operatorId: 'op-alice',
  action: 'policy.bundle.activate',
  target: 'sha256:abc',
  deviceId: 'laptop-17',
  sourceIp: '10.0.0.7',
  requestId: 'req-1',
  approvalIds: ['ap-1', 'ap-2'],
  correlationId: 'corr-1',
  occurredAt: new Date('2026-11-24T10:00:00.000Z'),
};

describe('operator actions', () => {
  it('a complete action validates and encodes to sorted canonical JSON', () => {
    expect(validateOperatorAction(action)).toBe(action);
    expect(new TextDecoder().decode(operatorActionPayload(action))).toBe(
      '{"action":"policy.bundle.activate","approval_ids":["ap-1","ap-2"],"correlation_id":"corr-1","device_id":"laptop-17","occurred_at":"2026-11-24T10:00:00.000Z","operator_id":"op-alice","request_id":"req-1","source_ip":"10.0.0.7","target":"sha256:abc"}',
    );
  });

  it('a request digest, when given, is in the canonical JSON as hex (sorted before request_id)', () => {
    const json = new TextDecoder().decode(operatorActionPayload({ ...action, requestDigest: new Uint8Array(32).fill(0xab) }));
    expect(json).toContain(`"operator_id":"op-alice","request_digest":"${'ab'.repeat(32)}","request_id":"req-1"`);
  });

  it.each([
    [{ operatorId: '' }, 'operator_id'],
    [{ deviceId: '' }, 'device_id'],
    [{ sourceIp: 'not-an-ip' }, 'source_ip'],
    [{ requestId: '' }, 'request_id'],
    [{ action: 'Drop Table' }, 'action'],
    [{ approvalIds: [''] }, 'approval_ids[0]'],
    [{ occurredAt: new Date(Number.NaN) }, 'occurred_at'],
    [{ requestDigest: new Uint8Array(31) }, 'request_digest'],
  ] as [Partial<OperatorAction>, string][])('rejects %j naming %s', (patch, field) => {
    expect(() => validateOperatorAction({ ...action, ...patch })).toThrow(expect.objectContaining({ code: 'OPERATOR_ACTION_INVALID', field }));
  });
});
