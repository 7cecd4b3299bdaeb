// The outbox relay: moves committed outbox rows to the bus, oldest first, then marks them
// published. Plain TypeScript over two ports: OutboxStore (Postgres in production:
// adapters/postgres-outbox.ts) and the bus.
//
// Delivery: at-least-once. A crash (or error) after the bus acknowledged a batch and
// before the rows were marked leaves them unpublished, so they are published again:
// duplicates, which consumers absorb with the inbox. Nothing is lost: a row is only
// marked after the bus acknowledged it.
//
// Per-key order: one relay at a time works on a batch (the store's claim() takes a lock,
// see PostgresOutboxStore), every batch starts at the oldest unpublished row, and a row
// is held back when an older row of its key is held by someone else (selectPublishable).
// So for each key the first appearance of its events on the bus is in outbox order, even
// when batches are republished.
import { backoffDelay, sleep as defaultSleep, type Sleep } from './backoff.js';
import { EventBusError, describeError } from './errors.js';
import type { BackoffOptions, EventBus, MessageHeaders, OutgoingMessage } from './event-bus.js';
import type { BusMetrics } from './metrics.js';

export interface OutboxRow {
  readonly id: string;
  /** Insertion order (a database sequence). */
  readonly seq: bigint;
  readonly topic: string;
  readonly key: string;
  /** The encoded envelope: the record value, published as is. */
  readonly envelope: Uint8Array;
  readonly createdAt: Date;
}

/** One relay batch: the rows are locked for this relay until markPublished() or release(). */
export interface ClaimedBatch {
  /** Oldest unpublished rows, in seq order, that no other relay holds. */
  readonly rows: readonly OutboxRow[];
  /**
   * For each key of `rows`: the smallest seq among that key's unpublished rows that are NOT
   * in `rows` (held by someone else). Rows of the key from that seq on must wait.
   */
  readonly blockedFrom: ReadonlyMap<string, bigint>;
  /** Marks these rows published and ends the batch (commits). */
  markPublished(ids: readonly string[]): Promise<void>;
  /** Ends the batch without marking anything (rolls back). Safe to call more than once. */
  release(): Promise<void>;
}

export interface OutboxStore {
  /** Opens a batch of at most `limit` rows, or undefined when another relay is in a batch right now. */
  claim(limit: number): Promise<ClaimedBatch | undefined>;
  /** Best effort bookkeeping after a failed publish: attempts + 1, last_error. */
  recordFailure(ids: readonly string[], error: string): Promise<void>;
}

/**
 * The rows of a claimed batch that may be published now, in seq order: all of them,
 * except, per key, those at or after the first row of that key that someone else holds.
 */
export function selectPublishable(rows: readonly OutboxRow[], blockedFrom: ReadonlyMap<string, bigint>): OutboxRow[] {
  return [...rows]
    .sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
    .filter((row) => {
      const blocked = blockedFrom.get(row.key);
      return blocked === undefined || row.seq < blocked;
    });
}

export const RelayHeaders = Object.freeze({
  eventId: 'event-id',
  contentType: 'content-type',
} as const);

export const ENVELOPE_CONTENT_TYPE = 'application/x-protobuf; messageType=custody.events.v1.EventEnvelope';

export interface RelayBatchInfo {
  readonly ids: readonly string[];
}

export interface RelayHooks {
  /**
   * Runs after the bus acknowledged a batch and before its rows are marked published. For
   * crash tests: if it throws, the relay behaves as a process dying at that line would —
   * the batch transaction is rolled back and the relay stops in state 'crashed'.
   */
  afterPublishBeforeMark?: (batch: RelayBatchInfo) => void | Promise<void>;
}

export interface OutboxRelayOptions {
  readonly store: OutboxStore;
  readonly bus: Pick<EventBus, 'publish'>;
  /** Rows per batch. Default 500. */
  readonly batchSize?: number;
  /** Wait between polls when there was nothing (more) to publish. Default 100 ms. */
  readonly pollIntervalMs?: number;
  /** Wait after a failed batch (bus or database down). Default 200 ms doubling to 5 s. */
  readonly errorBackoff?: BackoffOptions;
  readonly metrics?: BusMetrics;
  readonly clock?: () => Date;
  readonly sleep?: Sleep;
  /** Told about every failed batch (the relay retries) and about a crash. */
  readonly onError?: (error: unknown) => void;
}

export type RelayState = 'new' | 'running' | 'stopping' | 'stopped' | 'crashed';

export interface BatchResult {
  /** Rows published (and marked) by this batch. */
  readonly published: number;
  /** True when the batch was full, so more rows are probably waiting. */
  readonly more: boolean;
}

export class OutboxRelay {
  /** Test hooks; see RelayHooks. */
  readonly hooks: RelayHooks = {};
  private currentState: RelayState = 'new';
  private loop: Promise<void> = Promise.resolve();
  private crashError: unknown;
  private readonly stopController = new AbortController();
  private wakeController = new AbortController();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly errorBackoff: BackoffOptions;
  private readonly clock: () => Date;
  private readonly sleep: Sleep;

  constructor(private readonly options: OutboxRelayOptions) {
    this.batchSize = options.batchSize ?? 500;
    this.pollIntervalMs = options.pollIntervalMs ?? 100;
    this.errorBackoff = options.errorBackoff ?? { initialMs: 200, maxMs: 5000, factor: 2 };
    this.clock = options.clock ?? (() => new Date());
    this.sleep = options.sleep ?? defaultSleep;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1) throw new RangeError(`OutboxRelay: batchSize must be an integer >= 1, got ${options.batchSize}`);
    if (!(this.pollIntervalMs >= 0)) throw new RangeError(`OutboxRelay: pollIntervalMs must be >= 0, got ${options.pollIntervalMs}`);
    backoffDelay(1, this.errorBackoff);
  }

  get state(): RelayState {
    return this.currentState;
  }

  /** Starts polling in the background. */
  start(): void {
    if (this.currentState !== 'new') throw new EventBusError('INVALID_ARGUMENT', `OutboxRelay.start: relay is ${this.currentState}; create a new relay`);
    this.currentState = 'running';
    this.loop = this.run();
  }

  /** Finishes the current batch and stops. */
  async stop(): Promise<void> {
    if (this.currentState === 'running') this.currentState = 'stopping';
    this.stopController.abort();
    await this.loop;
  }

  /** Resolves when the relay stopped; rejects with EventBusError('RELAY_CRASHED') if it crashed. */
  get done(): Promise<void> {
    return this.loop.then(() => {
      if (this.currentState === 'crashed') throw this.crashError;
    });
  }

  /** Skips the current poll wait (call after committing a transaction that enqueued events). */
  notify(): void {
    this.wakeController.abort();
  }

  /** One batch: claim, publish, mark. Used by the loop; callable directly by tests. */
  async publishBatch(): Promise<BatchResult> {
    const { store, bus, metrics } = this.options;
    const batch = await store.claim(this.batchSize);
    if (!batch) return { published: 0, more: false };
    let ids: string[] = [];
    try {
      const oldest = batch.rows[0];
      metrics?.relayLag?.(oldest ? Math.max(0, (this.clock().getTime() - oldest.createdAt.getTime()) / 1000) : 0, batch.rows.length);
      const rows = selectPublishable(batch.rows, batch.blockedFrom);
      if (rows.length === 0) {
        await batch.release();
        return { published: 0, more: false };
      }
      ids = rows.map((row) => row.id);
      await bus.publish(rows.map(toMessage));
    } catch (error) {
      await batch.release().catch(() => undefined);
      if (ids.length > 0) await store.recordFailure(ids, describeError(error).message).catch(() => undefined);
      throw error;
    }
    try {
      await this.hooks.afterPublishBeforeMark?.({ ids });
    } catch (cause) {
      await batch.release().catch(() => undefined);
      throw new EventBusError('RELAY_CRASHED', `outbox relay died after publishing ${ids.length} rows and before marking them`, { cause });
    }
    try {
      await batch.markPublished(ids);
    } catch (error) {
      await batch.release().catch(() => undefined);
      throw error;
    }
    return { published: ids.length, more: batch.rows.length >= this.batchSize };
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopController.signal.aborted) {
      let result: BatchResult;
      try {
        result = await this.publishBatch();
        failures = 0;
      } catch (error) {
        this.options.onError?.(error);
        if (error instanceof EventBusError && error.code === 'RELAY_CRASHED') {
          this.crashError = error;
          this.currentState = 'crashed';
          return;
        }
        failures += 1;
        await this.sleep(backoffDelay(failures, this.errorBackoff), this.stopController.signal);
        continue;
      }
      if (!result.more) {
        this.wakeController = new AbortController();
        await this.sleep(this.pollIntervalMs, AbortSignal.any([this.stopController.signal, this.wakeController.signal]));
      }
    }
    this.currentState = 'stopped';
  }
}

function toMessage(row: OutboxRow): OutgoingMessage {
  const headers: MessageHeaders = { [RelayHeaders.eventId]: row.id, [RelayHeaders.contentType]: ENVELOPE_CONTENT_TYPE };
  return { topic: row.topic, key: row.key, value: row.envelope, headers };
}
