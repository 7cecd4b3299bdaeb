// Plumbing for audit's integration tests: a throw-away database provisioned like production
// (owner runs migrations, app role serves), a superuser client for tampering, prefixed
// Kafka topics, and envelope factories.
import { randomUUID } from 'node:crypto';
import { Topics, WithdrawalRequested, WithdrawalStatus, WithdrawalStatusChanged, encodeEvent, topicVersion } from '@custody/contracts';
import { createEnvelope, type Envelope } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { createTestDatabase as createServiceTestDatabase, type TestDatabase } from '@custody/testing';
import { AUDIT_ENTITIES, AUDIT_MIGRATIONS, type OperatorAction } from '../../src/index.js';

export { requireEnv, rand, waitFor, createPrefixedTopics, deletePrefixedTopics, type TestDatabase } from '@custody/testing';

export const quietLogger = () => createLogger({ service: 'audit-test', level: 'warn' });

/** CREATE DATABASE audit_test_<rand>, provision schema + roles, run the migrations as owner. */
export const createTestDatabase = (): Promise<TestDatabase> => createServiceTestDatabase({ service: 'audit', entities: AUDIT_ENTITIES, migrations: AUDIT_MIGRATIONS });

export function withdrawalRequestedEnvelope(withdrawalId: string, correlationId: string, occurredAt = new Date()): Envelope {
  const payload = encodeEvent(
    Topics.withdrawalRequested,
    WithdrawalRequested.fromPartial({ withdrawalId, clientId: 'acme', customerAccount: 'cust-1', asset: 'ETH', chain: 'ethereum', amount: '1000000000000000000', destinationAddress: '0x0000000000000000000000000000000000000001' }),
  );
  return createEnvelope({ type: Topics.withdrawalRequested, key: withdrawalId, correlationId, producer: 'intake', schemaVersion: topicVersion(Topics.withdrawalRequested), payload, occurredAt });
}

export function withdrawalStatusEnvelope(withdrawalId: string, correlationId: string, status: WithdrawalStatus, causationId: string, producer = 'intake', occurredAt = new Date()): Envelope {
  const payload = encodeEvent(Topics.withdrawalStatus, WithdrawalStatusChanged.fromPartial({ withdrawalId, clientId: 'acme', status }));
  return createEnvelope({ type: Topics.withdrawalStatus, key: withdrawalId, correlationId, causationId, producer, schemaVersion: topicVersion(Topics.withdrawalStatus), payload, occurredAt });
}

export function operatorAction(overrides: Partial<OperatorAction> = {}): OperatorAction {
  return {
    operatorId: 'op-alice',
    action: 'policy.bundle.activate',
    target: 'sha256:0f0f',
    deviceId: 'admin-terminal-3',
    sourceIp: '10.20.0.7',
    requestId: `req-${randomUUID()}`,
    approvalIds: ['ap-1', 'ap-2'],
    correlationId: `corr-${randomUUID()}`,
    occurredAt: new Date(),
    ...overrides,
  };
}
