// Inbox on Postgres (TypeORM): run a consumer's effect at most once per (group, event id).
// The inbox row is inserted first, in the same transaction as the effect: a second
// delivery of the event either finds the committed row (no-op) or, if the first is still
// running, waits on the primary-key lock and then finds it. If the effect throws, the
// insert rolls back with it and the next delivery tries again.
import type { DataSource, EntityManager } from 'typeorm';
import type { Envelope } from '../envelope.js';
import { EventBusError } from '../errors.js';
import { INBOX_TABLE, qualified, schemaOf, type SchemaOption } from './postgres-schema.js';

export type InboxOutcome<T> = { readonly status: 'handled'; readonly result: T } | { readonly status: 'duplicate' };

export async function handleOnce<T>(
  dataSource: DataSource,
  groupId: string,
  envelope: Pick<Envelope, 'id'>,
  effect: (manager: EntityManager) => Promise<T>,
  options: SchemaOption = {},
): Promise<InboxOutcome<T>> {
  if (typeof groupId !== 'string' || groupId.length === 0) throw new EventBusError('INVALID_ARGUMENT', 'handleOnce: groupId must be a non-empty string');
  if (typeof envelope?.id !== 'string' || envelope.id.length === 0) throw new EventBusError('INVALID_ARGUMENT', 'handleOnce: envelope.id must be a non-empty string');
  const table = qualified(schemaOf(dataSource, options), INBOX_TABLE);
  return dataSource.transaction(async (manager): Promise<InboxOutcome<T>> => {
    const inserted = (await manager.query(
      `INSERT INTO ${table} ("consumer_group", "event_id") VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING "event_id"`,
      [groupId, envelope.id],
    )) as unknown[];
    if (inserted.length === 0) return { status: 'duplicate' };
    return { status: 'handled', result: await effect(manager) };
  });
}
