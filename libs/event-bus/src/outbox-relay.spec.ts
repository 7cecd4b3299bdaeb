import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { EventBus, OutgoingMessage } from './event-bus.js';
import { OutboxRelay, selectPublishable, type ClaimedBatch, type OutboxRow, type OutboxStore } from './outbox-relay.js';

const row = (seq: number, key: string): OutboxRow => ({
  id: `id-${seq}`,
  seq: BigInt(seq),
  topic: 't',
  key,
  envelope: new Uint8Array([seq & 0xff]),
  createdAt: new Date(1_000_000 + seq),
});

/**
 * In-memory OutboxStore with the Postgres store's semantics: claim() returns the oldest
 * unpublished rows not held by someone else (`heldElsewhere` ~ FOR UPDATE SKIP LOCKED),
 * and blockedFrom for their keys; `lockHeldElsewhere` ~ another relay inside its batch.
 */
class FakeStore implements OutboxStore {
  readonly published = new Set<string>();
  readonly heldElsewhere = new Set<string>();
  readonly failures: { ids: readonly string[]; error: string }[] = [];
  lockHeldElsewhere = false;
  openBatches = 0;
  claims = 0;

  constructor(readonly rows: OutboxRow[]) {}

  async claim(limit: number): Promise<ClaimedBatch | undefined> {
    this.claims++;
    if (this.lockHeldElsewhere) return undefined;
    if (this.openBatches > 0) throw new Error('fake: two batches open at once');
    const pending = this.rows.filter((r) => !this.published.has(r.id)).sort((a, b) => Number(a.seq - b.seq));
    const rows = pending.filter((r) => !this.heldElsewhere.has(r.id)).slice(0, limit);
    const claimed = new Set(rows.map((r) => r.id));
    const blockedFrom = new Map<string, bigint>();
    for (const r of pending) {
      if (claimed.has(r.id) || !rows.some((c) => c.key === r.key)) continue;
      const current = blockedFrom.get(r.key);
      if (current === undefined || r.seq < current) blockedFrom.set(r.key, r.seq);
    }
    this.openBatches++;
    let ended = false;
    return {
      rows,
      blockedFrom,
      markPublished: async (ids) => {
        if (ended) throw new Error('fake: batch already ended');
        ended = true;
        this.openBatches--;
        for (const id of ids) {
          if (!claimed.has(id)) throw new Error(`fake: ${id} was not claimed`);
          this.published.add(id);
        }
      },
      release: async () => {
        if (ended) return;
        ended = true;
        this.openBatches--;
      },
    };
  }

  async recordFailure(ids: readonly string[], error: string): Promise<void> {
    this.failures.push({ ids, error });
  }
}

class RecordingBus implements Pick<EventBus, 'publish'> {
  readonly batches: OutgoingMessage[][] = [];
  failNext = 0;
  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker down');
    }
    this.batches.push([...messages]);
  }
  get all(): OutgoingMessage[] {
    return this.batches.flat();
  }
}

describe('selectPublishable', () => {
  it('orders by seq and holds back, per key, everything from the first row someone else holds', () => {
    const rows = [row(5, 'a'), row(1, 'a'), row(2, 'b'), row(7, 'b'), row(3, 'c')];
    const blocked = new Map([['b', 4n]]);
    expect(selectPublishable(rows, blocked).map((r) => Number(r.seq))).toEqual([1, 2, 3, 5]);
  });

  it('publishes, for every key, exactly a prefix of that key’s pending rows (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { minLength: 1, maxLength: 40 }),
        fc.array(fc.boolean(), { minLength: 40, maxLength: 40 }),
        (keys, held) => {
          const pending = keys.map((key, i) => row(i + 1, key));
          const claimed = pending.filter((_, i) => !held[i]);
          const blocked = new Map<string, bigint>();
          for (const r of pending.filter((_, i) => held[i])) {
            if (!blocked.has(r.key)) blocked.set(r.key, r.seq);
          }
          const out = selectPublishable(claimed, blocked);
          for (const key of new Set(keys)) {
            const all = pending.filter((r) => r.key === key).map((r) => r.seq);
            const mine = out.filter((r) => r.key === key).map((r) => r.seq);
            expect(mine).toEqual(all.slice(0, mine.length));
          }
        },
      ),
    );
  });
});

describe('OutboxRelay', () => {
  it('publishes oldest first in batches, marking rows only after the bus acknowledged them', async () => {
    const rows = Array.from({ length: 7 }, (_, i) => row(i + 1, `k${i % 3}`));
    const store = new FakeStore(rows);
    const bus = new RecordingBus();
    const relay = new OutboxRelay({ store, bus, batchSize: 3 });
    const markedAtPublish: number[] = [];
    relay.hooks.afterPublishBeforeMark = () => void markedAtPublish.push(store.published.size);
    expect(await relay.publishBatch()).toEqual({ published: 3, more: true });
    expect(await relay.publishBatch()).toEqual({ published: 3, more: true });
    expect(await relay.publishBatch()).toEqual({ published: 1, more: false });
    expect(await relay.publishBatch()).toEqual({ published: 0, more: false });
    expect(bus.all.map((m) => m.headers?.['event-id'])).toEqual(rows.map((r) => r.id));
    expect(bus.all[0]).toMatchObject({ topic: 't', key: 'k0', value: rows[0]!.envelope });
    expect(markedAtPublish).toEqual([0, 3, 6]);
    expect(store.published.size).toBe(7);
    expect(store.openBatches).toBe(0);
  });

  it('does nothing while another relay holds the lock', async () => {
    const store = new FakeStore([row(1, 'a')]);
    store.lockHeldElsewhere = true;
    const bus = new RecordingBus();
    const relay = new OutboxRelay({ store, bus });
    expect(await relay.publishBatch()).toEqual({ published: 0, more: false });
    expect(bus.batches).toEqual([]);
  });

  it('never publishes a row of a key while an older row of that key is held elsewhere', async () => {
    const store = new FakeStore([row(1, 'a'), row(2, 'a'), row(3, 'b'), row(4, 'a')]);
    store.heldElsewhere.add('id-1');
    const bus = new RecordingBus();
    const relay = new OutboxRelay({ store, bus });
    await relay.publishBatch();
    expect(bus.all.map((m) => m.headers?.['event-id'])).toEqual(['id-3']);
    store.heldElsewhere.clear();
    await relay.publishBatch();
    expect(bus.all.map((m) => m.headers?.['event-id'])).toEqual(['id-3', 'id-1', 'id-2', 'id-4']);
  });

  it('on a bus failure: releases the batch, records the failure, marks nothing; the next batch republishes', async () => {
    const store = new FakeStore([row(1, 'a'), row(2, 'b')]);
    const bus = new RecordingBus();
    bus.failNext = 1;
    const relay = new OutboxRelay({ store, bus });
    await expect(relay.publishBatch()).rejects.toThrow('broker down');
    expect(store.published.size).toBe(0);
    expect(store.openBatches).toBe(0);
    expect(store.failures).toEqual([{ ids: ['id-1', 'id-2'], error: 'broker down' }]);
    await relay.publishBatch();
    expect(store.published.size).toBe(2);
  });

  it('a crash between publish and mark leaves the rows unpublished; a new relay publishes them again', async () => {
    const store = new FakeStore([row(1, 'a'), row(2, 'a')]);
    const bus = new RecordingBus();
    const dying = new OutboxRelay({ store, bus, pollIntervalMs: 1 });
    dying.hooks.afterPublishBeforeMark = () => {
      throw new Error('SIGKILL');
    };
    const errors: unknown[] = [];
    dying.start();
    await expect(dying.done).rejects.toMatchObject({ code: 'RELAY_CRASHED' });
    expect(dying.state).toBe('crashed');
    expect(store.published.size).toBe(0);
    expect(store.openBatches).toBe(0);

    const successor = new OutboxRelay({ store, bus, onError: (e) => errors.push(e) });
    await successor.publishBatch();
    expect(store.published.size).toBe(2);
    // published twice, same order both times: duplicates for the inbox, never a reordering
    expect(bus.all.map((m) => m.headers?.['event-id'])).toEqual(['id-1', 'id-2', 'id-1', 'id-2']);
    expect(errors).toEqual([]);
  });

  it('keeps running through failures with backoff and stops cleanly', async () => {
    const store = new FakeStore(Array.from({ length: 5 }, (_, i) => row(i + 1, 'k')));
    const bus = new RecordingBus();
    bus.failNext = 2;
    const sleeps: number[] = [];
    const errors: unknown[] = [];
    const relay = new OutboxRelay({
      store,
      bus,
      batchSize: 2,
      pollIntervalMs: 7,
      errorBackoff: { initialMs: 3, maxMs: 5 },
      onError: (e) => errors.push(e),
      sleep: async (ms) => {
        sleeps.push(ms);
        if (store.published.size === 5) void relay.stop();
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    relay.start();
    const deadline = Date.now() + 2000;
    while (relay.state === 'running' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 1));
    await relay.stop();
    await relay.done;
    expect(relay.state).toBe('stopped');
    expect(store.published.size).toBe(5);
    expect(errors).toHaveLength(2);
    expect(sleeps.slice(0, 2)).toEqual([3, 5]);
    expect(sleeps).toContain(7);
    expect(bus.all.map((m) => m.headers?.['event-id'])).toEqual(['id-1', 'id-2', 'id-3', 'id-4', 'id-5']);
  });

  it('reports relay lag from the oldest claimed row', async () => {
    const store = new FakeStore([row(1, 'a')]);
    const lags: [number, number][] = [];
    const relay = new OutboxRelay({
      store,
      bus: new RecordingBus(),
      clock: () => new Date(1_000_000 + 1 + 2500),
      metrics: { relayLag: (seconds, claimed) => void lags.push([seconds, claimed]) },
    });
    await relay.publishBatch();
    await relay.publishBatch();
    expect(lags).toEqual([
      [2.5, 1],
      [0, 0],
    ]);
  });

  it('validates its options', () => {
    expect(() => new OutboxRelay({ store: new FakeStore([]), bus: new RecordingBus(), batchSize: 0 })).toThrow(RangeError);
  });
});
