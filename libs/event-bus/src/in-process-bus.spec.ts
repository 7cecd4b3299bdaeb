import { afterEach, describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { EventBusError } from './errors.js';
import type { DeliveryContext, IncomingMessage, MessageHandler, OutgoingMessage } from './event-bus.js';
import { InProcessBus } from './in-process-bus.js';
import { partitionForKey } from './partitioner.js';

const text = new TextEncoder();
const fromBytes = new TextDecoder();

const msg = (topic: string, key: string, value: string, headers?: Record<string, string>): OutgoingMessage => ({
  topic,
  key,
  value: text.encode(value),
  ...(headers ? { headers } : {}),
});
const valueOf = (m: IncomingMessage): string => fromBytes.decode(m.value);

/** Polls `condition` on the event loop until it holds; fails after `ms`. */
async function eventually(condition: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const FAST = { initialMs: 1, maxMs: 5 } as const;

let bus: InProcessBus;
afterEach(async () => {
  await bus?.close();
});

describe('InProcessBus', () => {
  it('routes a key to the partition Kafka would choose and keeps per-key order', async () => {
    bus = new InProcessBus({ defaultPartitions: 4 });
    bus.ensureTopic('t', 4);
    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const sent = keys.flatMap((key) => Array.from({ length: 30 }, (_, i) => msg('t', key, `${key}:${i}`)));
    // interleave keys, in several publish calls
    for (let i = 0; i < 30; i++) await bus.publish(sent.filter((_, j) => j % 30 === i));
    const seen: IncomingMessage[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async (m) => void seen.push(m) });
    await eventually(() => seen.length === sent.length);
    for (const m of seen) expect(m.partition).toBe(partitionForKey(m.key, 4));
    for (const key of keys) {
      const order = seen.filter((m) => m.key === key).map((m) => Number(valueOf(m).split(':')[1]));
      expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    }
    // offsets are dense per partition, starting at 0
    for (let p = 0; p < 4; p++) {
      const offsets = seen.filter((m) => m.partition === p).map((m) => Number(m.offset));
      expect(offsets).toEqual(offsets.map((_, i) => i));
    }
    expect(bus.committedOffsets('g', 't')).toEqual(bus.endOffsets('t'));
  });

  it('keeps per-key order for any interleaving of publishes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.constantFrom('k1', 'k2', 'k3', 'k4', 'k5'), { minLength: 1, maxLength: 60 }), fc.integer({ min: 1, max: 5 }), async (keys, partitions) => {
        const local = new InProcessBus({ defaultPartitions: partitions });
        try {
          const seq = new Map<string, number>();
          await local.publish(keys.map((key) => {
            const n = (seq.get(key) ?? 0) + 1;
            seq.set(key, n);
            return msg('p', key, String(n));
          }));
          const last = new Map<string, number>();
          let count = 0;
          let violations = 0;
          await local.subscribe({
            groupId: 'g',
            topics: ['p'],
            handler: async (m) => {
              const n = Number(valueOf(m));
              if (n !== (last.get(m.key) ?? 0) + 1) violations++;
              last.set(m.key, n);
              count++;
            },
          });
          await eventually(() => count === keys.length);
          expect(violations).toBe(0);
        } finally {
          await local.close();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('handles one message at a time per partition (never two in flight)', async () => {
    bus = new InProcessBus({ defaultPartitions: 2 });
    let inFlight = new Map<number, number>();
    let maxInFlight = 0;
    let done = 0;
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (m) => {
        const n = (inFlight.get(m.partition) ?? 0) + 1;
        inFlight.set(m.partition, n);
        maxInFlight = Math.max(maxInFlight, n);
        await new Promise((resolve) => setTimeout(resolve, 1));
        inFlight.set(m.partition, n - 1);
        done++;
      },
    });
    await bus.publish(Array.from({ length: 40 }, (_, i) => msg('t', `k${i % 7}`, String(i))));
    await eventually(() => done === 40);
    expect(maxInFlight).toBe(1);
    inFlight = new Map();
  });

  it('gives every group every message, each from its own committed offset', async () => {
    bus = new InProcessBus({ defaultPartitions: 3 });
    const a: string[] = [];
    const b: string[] = [];
    await bus.subscribe({ groupId: 'A', topics: ['t'], handler: async (m) => void a.push(valueOf(m)) });
    await bus.subscribe({ groupId: 'B', topics: ['t'], handler: async (m) => void b.push(valueOf(m)) });
    await bus.publish(Array.from({ length: 25 }, (_, i) => msg('t', `k${i}`, String(i))));
    await eventually(() => a.length === 25 && b.length === 25);
    expect(new Set(a).size).toBe(25);
    expect([...a].sort()).toEqual([...b].sort());
  });

  it('splits partitions between the members of one group, and re-splits when one leaves', async () => {
    bus = new InProcessBus();
    bus.ensureTopic('t', 4);
    const byMember: Record<string, Set<number>> = { one: new Set(), two: new Set() };
    const handled: string[] = [];
    const handler = (name: 'one' | 'two'): MessageHandler => async (m) => {
      byMember[name]!.add(m.partition);
      handled.push(valueOf(m));
    };
    const one = await bus.subscribe({ groupId: 'g', topics: ['t'], handler: handler('one') });
    await bus.subscribe({ groupId: 'g', topics: ['t'], handler: handler('two') });
    const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
    await bus.publish(keys.map((key) => msg('t', key, key)));
    await eventually(() => handled.length === 40);
    expect([...byMember.one!].sort()).toEqual([0, 2]);
    expect([...byMember.two!].sort()).toEqual([1, 3]);
    expect(new Set(handled).size).toBe(40);

    await one.stop();
    byMember.two!.clear();
    await bus.publish(keys.map((key) => msg('t', key, `${key}-again`)));
    await eventually(() => handled.length === 80);
    expect([...byMember.two!].sort()).toEqual([0, 1, 2, 3]);
  });

  it('redelivers a message whose handler threw, in place, before anything after it on the partition', async () => {
    bus = new InProcessBus({ defaultPartitions: 1, redeliveryBackoff: FAST });
    const log: string[] = [];
    const attempts: number[] = [];
    let failuresLeft = 3;
    await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (m, ctx) => {
        if (valueOf(m) === 'second' && failuresLeft > 0) {
          failuresLeft--;
          attempts.push(ctx.attempt);
          throw new Error('transient');
        }
        if (valueOf(m) === 'second') attempts.push(ctx.attempt);
        log.push(valueOf(m));
      },
    });
    await bus.publish([msg('t', 'k', 'first'), msg('t', 'k', 'second'), msg('t', 'k', 'third')]);
    await eventually(() => log.length === 3);
    expect(log).toEqual(['first', 'second', 'third']);
    expect(attempts).toEqual([1, 2, 3, 4]);
  });

  it('does not commit a failing message: a later member of the group gets it again', async () => {
    bus = new InProcessBus({ defaultPartitions: 1, redeliveryBackoff: FAST });
    let failing = 0;
    const first = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async () => {
        failing++;
        throw new Error('always');
      },
    });
    await bus.publish([msg('t', 'k', 'x')]);
    await eventually(() => failing >= 2);
    await first.stop();
    expect(bus.committedOffsets('g', 't')).toEqual([0]);
    const got: string[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async (m) => void got.push(valueOf(m)) });
    await eventually(() => got.length === 1);
    expect(got).toEqual(['x']);
    await eventually(() => bus.committedOffsets('g', 't')[0] === 1);
  });

  it('lets a group created later read the retained log from the beginning; fromBeginning:false starts at the end', async () => {
    bus = new InProcessBus({ defaultPartitions: 2 });
    await bus.publish(Array.from({ length: 10 }, (_, i) => msg('t', `k${i}`, `old-${i}`)));
    const early: string[] = [];
    const late: string[] = [];
    await bus.subscribe({ groupId: 'from-start', topics: ['t'], handler: async (m) => void early.push(valueOf(m)) });
    await bus.subscribe({ groupId: 'from-now', topics: ['t'], fromBeginning: false, handler: async (m) => void late.push(valueOf(m)) });
    await bus.publish([msg('t', 'k1', 'new')]);
    await eventually(() => early.length === 11 && late.length === 1);
    expect(late).toEqual(['new']);
  });

  it('stop() aborts the signal of an in-flight handler and waits for it; the message is not committed', async () => {
    bus = new InProcessBus({ defaultPartitions: 1 });
    let started = false;
    let sawAbort = false;
    const sub = await bus.subscribe({
      groupId: 'g',
      topics: ['t'],
      handler: async (_m, ctx: DeliveryContext) => {
        started = true;
        await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        sawAbort = true;
        throw new Error('aborted');
      },
    });
    await bus.publish([msg('t', 'k', 'x')]);
    await eventually(() => started);
    await sub.stop();
    expect(sawAbort).toBe(true);
    expect(bus.committedOffsets('g', 't')).toEqual([0]);
  });

  it('copies values and headers: a caller mutating its buffer cannot change the log', async () => {
    bus = new InProcessBus({ defaultPartitions: 1 });
    const value = text.encode('abc');
    await bus.publish([{ topic: 't', key: 'k', value, headers: { h: '1' } }]);
    value[0] = 0x7a;
    const got: IncomingMessage[] = [];
    await bus.subscribe({ groupId: 'g', topics: ['t'], handler: async (m) => void got.push(m) });
    await eventually(() => got.length === 1);
    expect(valueOf(got[0]!)).toBe('abc');
    expect(got[0]!.headers).toEqual({ h: '1' });
  });

  it('refuses bad input with precise errors', async () => {
    bus = new InProcessBus();
    await expect(bus.publish([{ topic: '', key: 'k', value: new Uint8Array() }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(bus.publish([{ topic: 't', key: '', value: new Uint8Array() }])).rejects.toThrow(/key must be a non-empty string/);
    await expect(bus.subscribe({ groupId: '', topics: ['t'], handler: async () => {} })).rejects.toThrow(/groupId/);
    bus.ensureTopic('fixed', 2);
    expect(() => bus.ensureTopic('fixed', 3)).toThrow(expect.objectContaining({ code: 'TOPIC_PARTITIONS_MISMATCH' }) as unknown as Error);
    await bus.close();
    await expect(bus.publish([msg('t', 'k', 'v')])).rejects.toBeInstanceOf(EventBusError);
  });
});
