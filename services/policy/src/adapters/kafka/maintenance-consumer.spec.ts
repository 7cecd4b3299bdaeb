import { describe, expect, it } from '@jest/globals';
import { MaintenanceScheduled, timestampFromDate } from '@custody/contracts';
import { NonRetryableError } from '@custody/event-bus';
import { maintenanceGroupOf, maintenanceRecordOf } from './maintenance-consumer.js';

const envelope = { id: '4b0a7c1e-5a8e-4f5c-9d0e-1f2a3b4c5d6e', occurredAt: new Date('2025-07-30T00:00:00.250Z') };

describe('maintenance.scheduled → the record kept per id', () => {
  it('maps a cancellation with its window, the envelope id and time', () => {
    const m = MaintenanceScheduled.fromPartial({
      maintenanceId: 'mnt-1',
      chains: ['ethereum-mainnet'],
      assets: ['USDC.ETH'],
      startsAt: timestampFromDate(new Date('2025-08-01T00:00:00Z')),
      endsAt: timestampFromDate(new Date('2025-08-01T06:00:00Z')),
      withdrawalsSuspended: true,
      announcedBy: 'op-alice',
      cancelled: true,
      cancelledAt: timestampFromDate(new Date('2025-07-30T00:00:00Z')),
      cancelledBy: 'op-bob',
    });
    expect(maintenanceRecordOf(m, envelope)).toEqual({
      maintenanceId: 'mnt-1',
      chains: ['ethereum-mainnet'],
      assets: ['USDC.ETH'],
      startsAt: new Date('2025-08-01T00:00:00Z'),
      endsAt: new Date('2025-08-01T06:00:00Z'),
      withdrawalsSuspended: true,
      depositsDelayed: false,
      cancelled: true,
      cancelledAt: new Date('2025-07-30T00:00:00Z'),
      cancelledBy: 'op-bob',
      announcedBy: 'op-alice',
      eventId: envelope.id,
      occurredAt: envelope.occurredAt,
    });
  });

  it('refuses (dead letter, not retried) a record without id or times', () => {
    const times = { startsAt: timestampFromDate(new Date('2025-08-01T00:00:00Z')), endsAt: timestampFromDate(new Date('2025-08-01T06:00:00Z')) };
    expect(() => maintenanceRecordOf(MaintenanceScheduled.fromPartial({ ...times }), envelope)).toThrow(NonRetryableError);
    expect(() => maintenanceRecordOf(MaintenanceScheduled.fromPartial({ maintenanceId: 'x', startsAt: times.startsAt }), envelope)).toThrow(NonRetryableError);
  });

  it('joins the group derived from the decision group', () => {
    expect(maintenanceGroupOf('policy.decide')).toBe('policy.decide.maintenance');
  });
});
