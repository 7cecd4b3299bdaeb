// An operator administrative action as the audit log records it (C-9.3.6.2-d fields:
// individual identity, device, source IP, time, request/approval ids). Validated here; the
// recorded payload is its canonical JSON (keys sorted, no whitespace).
import { isIP } from 'node:net';
import { InvalidOperatorActionError } from './errors.js';

export interface OperatorAction {
  /** Individual operator identity (never a shared account). */
  readonly operatorId: string;
  /** What is being done, e.g. "policy.bundle.activate" (lower-case dotted). */
  readonly action: string;
  /** What it is done to, e.g. a policy bundle digest or a key id. */
  readonly target: string;
  readonly deviceId: string;
  readonly sourceIp: string;
  readonly requestId: string;
  readonly approvalIds: readonly string[];
  readonly correlationId: string;
  readonly occurredAt: Date;
  /**
   * SHA-256 of the caller's canonical encoding of the request (32 bytes), when the caller
   * has one (e.g. policy's approval request including the operator's signature). Recorded
   * in the payload as `request_digest` (hex); absent from the payload when not given.
   */
  readonly requestDigest?: Uint8Array | undefined;
}

const ACTION = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const MAX = 200;

export function validateOperatorAction(a: OperatorAction): OperatorAction {
  const text = (field: string, value: unknown, required = true): void => {
    if (typeof value !== 'string') throw new InvalidOperatorActionError(field, 'must be a string');
    if (required && value.length === 0) throw new InvalidOperatorActionError(field, 'is required');
    if (value.length > MAX) throw new InvalidOperatorActionError(field, `must be at most ${MAX} characters`);
  };
  text('operator_id', a.operatorId);
  text('action', a.action);
  if (!ACTION.test(a.action)) throw new InvalidOperatorActionError('action', 'must be lower-case dotted words, e.g. "policy.bundle.activate"');
  text('target', a.target, false);
  text('device_id', a.deviceId);
  text('source_ip', a.sourceIp);
  if (isIP(a.sourceIp) === 0) throw new InvalidOperatorActionError('source_ip', 'must be an IPv4 or IPv6 address');
  text('request_id', a.requestId);
  text('correlation_id', a.correlationId);
  if (!Array.isArray(a.approvalIds) || a.approvalIds.length > 32) throw new InvalidOperatorActionError('approval_ids', 'must be a list of at most 32 ids');
  a.approvalIds.forEach((id, i) => text(`approval_ids[${i}]`, id));
  if (a.requestDigest !== undefined && (!(a.requestDigest instanceof Uint8Array) || a.requestDigest.length !== 32)) {
    throw new InvalidOperatorActionError('request_digest', 'must be 32 bytes (SHA-256) when given');
  }
  if (!(a.occurredAt instanceof Date) || Number.isNaN(a.occurredAt.getTime())) throw new InvalidOperatorActionError('occurred_at', 'must be a valid time');
  return a;
}

/** Canonical JSON of the action (sorted keys, times as ISO-8601 UTC). */
export function operatorActionPayload(a: OperatorAction): Uint8Array {
  const value = {
    action: a.action,
    approval_ids: [...a.approvalIds],
    correlation_id: a.correlationId,
    device_id: a.deviceId,
    occurred_at: a.occurredAt.toISOString(),
    operator_id: a.operatorId,
    ...(a.requestDigest === undefined ? {} : { request_digest: Buffer.from(a.requestDigest).toString('hex') }),
    request_id: a.requestId,
    source_ip: a.sourceIp,
    target: a.target,
  };
  return new TextEncoder().encode(JSON.stringify(value));
}
