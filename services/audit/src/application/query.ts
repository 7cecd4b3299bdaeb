// Investigator queries: by correlation id, by actor, by time range. Keyset-paged on
// sequence; every page says whether each returned record still verifies (its own hash and
// its link to the record before it).
import { GENESIS_HASH, bytesEqual, payloadDigest, recordHash } from '../domain/canonical.js';
import { InvalidArgumentError } from '../domain/errors.js';
import type { StoredRecord } from '../domain/verify.js';
import type { AuditStore, RecordFilter } from './ports.js';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 500;
const MAX_TEXT = 200;
const TOKEN = /^[1-9][0-9]{0,18}$/;

export interface PageRequest {
  readonly pageSize: number;
  readonly pageToken: string;
}

export interface RecordPage {
  readonly records: readonly StoredRecord[];
  readonly nextPageToken: string;
  readonly chainVerified: boolean;
}

export class AuditQueries {
  constructor(private readonly store: AuditStore) {}

  byCorrelation(correlationId: string, page: PageRequest): Promise<RecordPage> {
    requiredText('correlation_id', correlationId);
    return this.run({ correlationId }, page);
  }

  byActor(actor: string, range: { startTime?: Date | undefined; endTime?: Date | undefined }, page: PageRequest): Promise<RecordPage> {
    requiredText('actor', actor);
    checkRange(range.startTime, range.endTime);
    return this.run({ actor, ...(range.startTime ? { startTime: range.startTime } : {}), ...(range.endTime ? { endTime: range.endTime } : {}) }, page);
  }

  byTimeRange(startTime: Date | undefined, endTime: Date | undefined, page: PageRequest): Promise<RecordPage> {
    if (!startTime) throw new InvalidArgumentError('start_time', 'TIME_RANGE_INVALID', 'is required');
    if (!endTime) throw new InvalidArgumentError('end_time', 'TIME_RANGE_INVALID', 'is required');
    checkRange(startTime, endTime);
    return this.run({ startTime, endTime }, page);
  }

  private async run(filter: RecordFilter, page: PageRequest): Promise<RecordPage> {
    const size = pageSizeOf(page.pageSize);
    const after = afterOf(page.pageToken);
    const rows = await this.store.query(filter, after, size + 1);
    const records = rows.slice(0, size);
    const last = records[records.length - 1];
    return {
      records,
      nextPageToken: rows.length > size && last ? last.sequence.toString() : '',
      chainVerified: await this.verifies(records),
    };
  }

  /** Each record's own hash, payload digest and link to its predecessor's stored hash. */
  private async verifies(records: readonly StoredRecord[]): Promise<boolean> {
    const predecessors = await this.store.hashesAt(records.filter((r) => r.sequence > 1n).map((r) => r.sequence - 1n));
    return records.every((r) => {
      const prev = r.sequence === 1n ? GENESIS_HASH : predecessors.get(r.sequence - 1n);
      return (
        prev !== undefined &&
        bytesEqual(prev, r.prevHash) &&
        bytesEqual(payloadDigest(r.payload), r.payloadDigest) &&
        bytesEqual(recordHash(r), r.recordHash)
      );
    });
  }
}

function requiredText(field: string, value: string): void {
  if (value.length === 0) throw new InvalidArgumentError(field, 'FIELD_REQUIRED', 'is required');
  if (value.length > MAX_TEXT) throw new InvalidArgumentError(field, 'FIELD_TOO_LONG', `must be at most ${MAX_TEXT} characters`);
}

function checkRange(start: Date | undefined, end: Date | undefined): void {
  if (start && end && start.getTime() >= end.getTime()) throw new InvalidArgumentError('end_time', 'TIME_RANGE_INVALID', 'must be after start_time');
}

function pageSizeOf(requested: number): number {
  if (requested === 0) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(requested) || requested < 0 || requested > MAX_PAGE_SIZE) {
    throw new InvalidArgumentError('page_size', 'PAGE_SIZE_INVALID', `must be between 1 and ${MAX_PAGE_SIZE} (0 = ${DEFAULT_PAGE_SIZE})`);
  }
  return requested;
}

function afterOf(token: string): bigint {
  if (token === '') return 0n;
  if (!TOKEN.test(token)) throw new InvalidArgumentError('page_token', 'PAGE_TOKEN_INVALID', 'is not a token returned by a previous page');
  return BigInt(token);
}
