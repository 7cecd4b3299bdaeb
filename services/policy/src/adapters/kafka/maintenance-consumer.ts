// Consumes custody.maintenance.scheduled.v1 (intake's announced windows) into the
// maintenance_window table, inside handleOnce (inbox): each record has its effect exactly
// once, and the table keeps the latest state per maintenance id (domain/maintenance.ts).
// Its own consumer group, `<decision group>.maintenance`: a decision waiting for a ledger
// hold must not hold back the window that freezes it. Undecodable records and records
// without an id or valid times go to the dead-letter topic (alerted there); a database error
// is retried, then dead-lettered.
import { Topics, timestampToDate, type MaintenanceScheduled } from '@custody/contracts';
import { NonRetryableError, type BusMetrics, type Envelope, type EventBus, type Subscription } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import type { MaintenanceService } from '../../application/maintenance.js';
import type { MaintenanceRecord } from '../../domain/maintenance.js';
import type { TopicNamer } from '../events.js';
import { startExactlyOnceConsumer } from './exactly-once-consumer.js';

export const MAINTENANCE_TOPICS = [Topics.maintenanceScheduled] as const;

/** The consumer group of the maintenance consumer, derived from the decision consumer's. */
export const maintenanceGroupOf = (groupId: string): string => `${groupId}.maintenance`;

/** MaintenanceScheduled + its envelope → the record kept per id; NonRetryableError when it cannot be one. */
export function maintenanceRecordOf(m: MaintenanceScheduled, envelope: Pick<Envelope, 'id' | 'occurredAt'>): MaintenanceRecord {
  if (!m.maintenanceId) throw new NonRetryableError('maintenance.scheduled lacks a maintenance_id');
  if (!m.startsAt || !m.endsAt) throw new NonRetryableError(`maintenance.scheduled ${m.maintenanceId} lacks starts_at or ends_at`);
  const startsAt = timestampToDate(m.startsAt);
  const endsAt = timestampToDate(m.endsAt);
  if (!Number.isFinite(startsAt.getTime()) || !Number.isFinite(endsAt.getTime()) || !Number.isFinite(envelope.occurredAt.getTime())) {
    throw new NonRetryableError(`maintenance.scheduled ${m.maintenanceId} has an invalid time`);
  }
  return Object.freeze({
    maintenanceId: m.maintenanceId,
    chains: [...m.chains],
    assets: [...m.assets],
    startsAt,
    endsAt,
    withdrawalsSuspended: m.withdrawalsSuspended,
    depositsDelayed: m.depositsDelayed,
    cancelled: m.cancelled,
    cancelledAt: m.cancelledAt ? timestampToDate(m.cancelledAt) : undefined,
    cancelledBy: m.cancelledBy,
    announcedBy: m.announcedBy,
    eventId: envelope.id,
    occurredAt: envelope.occurredAt,
  });
}

export interface MaintenanceConsumerOptions {
  readonly bus: EventBus;
  readonly dataSource: DataSource;
  readonly maintenance: MaintenanceService;
  /** The decision consumer's group id; this consumer joins `maintenanceGroupOf(groupId)`. */
  readonly groupId: string;
  readonly topicName: TopicNamer;
  readonly onResult?: (result: string, envelope: Envelope) => void;
  readonly metrics?: BusMetrics;
}

export async function startMaintenanceConsumer(options: MaintenanceConsumerOptions): Promise<Subscription> {
  return startExactlyOnceConsumer({
    bus: options.bus,
    dataSource: options.dataSource,
    groupId: maintenanceGroupOf(options.groupId),
    topics: MAINTENANCE_TOPICS.map(options.topicName),
    route: (event, envelope) => {
      if (event.type !== Topics.maintenanceScheduled) return undefined;
      const record = maintenanceRecordOf(event.message, envelope);
      return (manager) => options.maintenance.onScheduled(manager, record);
    },
    ...(options.onResult ? { onResult: options.onResult } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
}
