import { describe, it, expect } from '@jest/globals';
import {
  DeadLetter,
  EventEnvelope,
  PolicyDecided,
  PolicyDecision,
  Topics,
  TxState,
  TxStatus,
  WithdrawalRequested,
  decodeDeadLetter,
  decodeEnvelope,
  decodeEvent,
  decodePayload,
  deadLetterTopic,
  encodeDeadLetter,
  encodeEnvelope,
  encodeEvent,
  partitionKeyOf,
  timestampFromDate,
  timestampToDate,
} from './index.js';

const requested: WithdrawalRequested = WithdrawalRequested.fromPartial({
  withdrawalId: 'wd-0001',
  clientId: 'exchange-a',
  customerAccount: 'cust-42',
  asset: 'ETH',
  chain: 'ethereum-mainnet',
  // More than 2^64: amounts are decimal strings, never numbers.
  amount: '123456789012345678901234567890',
  destinationAddress: '0x52908400098527886E0F7030069857D2E4169EE7',
  clientReference: 'ref-1',
  idempotencyKey: 'idem-1',
  requestedAt: { seconds: '1767225600', nanos: 123456789 },
  requestSignature: { keyId: 'int-key-1', algorithm: 'ed25519', signature: Buffer.from([1, 2, 3]), signedPayload: Buffer.from('{"a":1}') },
});

function envelopeFor(payload: Buffer): EventEnvelope {
  return {
    id: '0b6a4d1e-8a57-4f0e-9a2c-6f6d2b3b1c11',
    type: Topics.withdrawalRequested,
    key: 'wd-0001',
    correlationId: 'corr-1',
    causationId: 'req-1',
    traceContext: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'vendor=x' },
    producer: 'intake',
    occurredAt: timestampFromDate(new Date('2026-01-01T00:00:00.123Z')),
    schemaVersion: 1,
    payload,
  };
}

describe('EventEnvelope', () => {
  it('round-trips through bytes, payload decodable by type', () => {
    const envelope = envelopeFor(encodeEvent(Topics.withdrawalRequested, requested));
    const bytes = encodeEnvelope(envelope);
    expect(Buffer.isBuffer(bytes)).toBe(true);

    const decoded = decodeEnvelope(bytes);
    expect(decoded).toEqual(envelope);
    expect(encodeEnvelope(decoded)).toEqual(bytes);

    const event = decodePayload(decoded);
    expect(event.type).toBe('custody.withdrawal.requested.v1');
    if (event.type !== 'custody.withdrawal.requested.v1') throw new Error('narrowing');
    expect(event.message).toEqual(requested);
    expect(event.message.amount).toBe('123456789012345678901234567890');
  });

  it('keeps timestamps lossless (nanos) and converts to Date at the edges', () => {
    const event = decodeEvent(Topics.withdrawalRequested, encodeEvent(Topics.withdrawalRequested, requested));
    expect(event.requestedAt).toEqual({ seconds: '1767225600', nanos: 123456789 });
    expect(timestampToDate(event.requestedAt!).toISOString()).toBe('2026-01-01T00:00:00.123Z');
    expect(timestampFromDate(new Date(-1))).toEqual({ seconds: '-1', nanos: 999000000 });
    expect(timestampToDate(timestampFromDate(new Date(-1))).getTime()).toBe(-1);
  });

  it('rejects malformed envelope bytes instead of returning garbage', () => {
    expect(() => decodeEnvelope(Buffer.from([0x0a, 0xff, 0xff, 0xff]))).toThrow();
  });

  it('empty envelope encodes to zero bytes and decodes to defaults', () => {
    const empty = EventEnvelope.fromPartial({});
    expect(encodeEnvelope(empty).length).toBe(0);
    expect(decodeEnvelope(Buffer.alloc(0))).toEqual(empty);
  });
});

describe('event messages', () => {
  it('PolicyDecided round-trips with enums, nested approvals and token bytes', () => {
    const decided = PolicyDecided.fromPartial({
      decisionId: 'dec-1',
      withdrawalId: 'wd-0001',
      decision: PolicyDecision.POLICY_DECISION_REQUIRE_APPROVAL,
      reasons: [{ code: 'AMOUNT_OVER_HOT_CAP', detail: 'above 10 ETH needs two approvers' }],
      bundleDigest: 'ab'.repeat(32),
      requiredApprovals: { quorum: 2, roles: ['treasury', 'compliance'] },
      expiresAt: { seconds: '1767229200', nanos: 0 },
      decisionToken: Buffer.from('token'),
      approvals: [{ operatorId: 'op-1', role: 'treasury', signature: Buffer.from([9, 9]), keyId: 'op-key-1' }],
      amount: '10000000000000000000',
      sourceWallet: 'hot-eth-1',
    });
    const bytes = encodeEvent(Topics.policyDecided, decided);
    expect(decodeEvent(Topics.policyDecided, bytes)).toEqual(decided);
    expect(partitionKeyOf(Topics.policyDecided, decided)).toBe('wd-0001');
    expect(PolicyDecided.toJSON(decided)).toMatchObject({ decision: 'POLICY_DECISION_REQUIRE_APPROVAL' });
  });

  it('TxStatus keeps 64-bit integers as strings and is keyed by source wallet', () => {
    const status = TxStatus.fromPartial({
      withdrawalId: 'wd-0001',
      chain: 'ethereum-mainnet',
      sourceWallet: 'hot-eth-1',
      txHash: '0xabc',
      state: TxState.TX_STATE_FINAL,
      blockHeight: '18446744073709551615',
      confirmations: 64,
      feePaid: '21000000000000',
    });
    const decoded = decodeEvent(Topics.txStatus, encodeEvent(Topics.txStatus, status));
    expect(decoded.blockHeight).toBe('18446744073709551615');
    expect(decoded).toEqual(status);
    expect(partitionKeyOf(Topics.txStatus, decoded)).toBe('hot-eth-1');
  });

  it('DeadLetter carries the original envelope bytes unchanged', () => {
    const original = encodeEnvelope(envelopeFor(Buffer.from([0xde, 0xad])));
    const dead = DeadLetter.fromPartial({
      originalEnvelope: original,
      topic: Topics.txStatus,
      partition: 3,
      offset: '9007199254740993',
      errorCode: 'DECODE_FAILED',
      errorReason: 'payload is not a custody.events.v1.TxStatus',
      consumerGroup: 'ledger',
      attempts: 5,
      failedAt: timestampFromDate(new Date('2026-01-01T00:00:00Z')),
    });
    const decoded = decodeDeadLetter(encodeDeadLetter(dead));
    expect(decoded).toEqual(dead);
    expect(decoded.offset).toBe('9007199254740993');
    expect(decodeEnvelope(decoded.originalEnvelope)).toEqual(decodeEnvelope(original));
    expect(deadLetterTopic(decoded.topic)).toBe('custody.tx.status.v1.dlq');
  });
});
