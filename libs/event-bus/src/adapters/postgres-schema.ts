// Where the outbox and inbox tables live: the service's schema, taken from the TypeORM
// DataSource option `schema` (default "public") unless given explicitly.
import type { DataSource } from 'typeorm';
import { EventBusError } from '../errors.js';

export const OUTBOX_TABLE = 'outbox';
export const INBOX_TABLE = 'inbox';

export interface SchemaOption {
  /** Schema holding the outbox/inbox tables. Default: the DataSource's `schema` option, else "public". */
  readonly schema?: string;
}

/** "name" with embedded quotes doubled. */
export function quoteIdent(name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes('\u0000')) {
    throw new EventBusError('INVALID_ARGUMENT', `not a usable SQL identifier: ${JSON.stringify(name)}`);
  }
  return `"${name.replaceAll('"', '""')}"`;
}

export function schemaOf(dataSource: DataSource, option?: SchemaOption): string {
  const configured = (dataSource.options as { schema?: unknown }).schema;
  return option?.schema ?? (typeof configured === 'string' && configured.length > 0 ? configured : 'public');
}

export function qualified(schema: string, table: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(table)}`;
}
