import { describe, expect, it } from '@jest/globals';
import { withDeadLetter } from './dead-letter.js';
import { DeadLetterHeaders } from './dead-letter-record.js';
import { NonRetryableError } from './errors.js';
import type { DeliveryContext, EventBus, IncomingMessage, OutgoingMessage } from './event-bus.js';
import { protobufDeadLetterCodec } from './protobuf-dead-letter-codec.js';

/** A strict fake: records publishes; fails the next `failNext` publishes. */
class FakeBus implements Pick<EventBus, 'publish'> {
  readonly published: OutgoingMessage[] = [];
  failNext = 0;
  async publish(messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('broker unavailable');
    }
    this.published.push(...messages);
  }
}

const original: IncomingMessage = Object.freeze({
  topic: 'custody.tx.signed.v1',
  partition: 2,
  offset: '41',
  key: 'wallet-1',
  value: new Uint8Array([1, 2, 3]),
  headers: { 'event-id': 'e-1' },
  timestamp: new Date('2026-11-24T10:00:00Z'),
});

function context(overrides: Partial<DeliveryContext> = {}): DeliveryContext & { beats: number } {
  const ctx = {
    groupId: 'ledger',
    attempt: 1,
    signal: new AbortController().signal,
    beats: 0,
    async heartbeat() {
      ctx.beats++;
    },
    ...overrides,
  };
  return ctx;
}

const failedAt = new Date('2026-11-24T12:00:00Z');
const noSleep = async (): Promise<void> => {};

function setup(handle: (decoded: string) => Promise<void>, options: { decodeFails?: boolean; maxAttempts?: number } = {}) {
  const bus = new FakeBus();
  const sleeps: number[] = [];
  const handler = withDeadLetter<string>({
    bus,
    decode: (m) => {
      if (options.decodeFails) throw new Error('bad bytes');
      return new TextDecoder().decode(m.value);
    },
    handle,
    maxAttempts: options.maxAttempts ?? 3,
    backoff: { initialMs: 10, maxMs: 25 },
    clock: () => failedAt,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { bus, handler, sleeps };
}

describe('withDeadLetter', () => {
  it('passes decoded messages to the handler and publishes nothing when it succeeds', async () => {
    const seen: string[] = [];
    const { bus, handler } = setup(async (d) => void seen.push(d));
    await handler(original, context());
    expect(seen).toEqual(['\u0001\u0002\u0003']);
    expect(bus.published).toEqual([]);
  });

  it('dead-letters an undecodable message at once, without calling the handler', async () => {
    let called = false;
    const { bus, handler } = setup(async () => void (called = true), { decodeFails: true });
    await handler(original, context());
    expect(called).toBe(false);
    expect(bus.published).toHaveLength(1);
    const [dead] = bus.published;
    expect(dead!.topic).toBe('custody.tx.signed.v1.dlq');
    expect(dead!.key).toBe('wallet-1');
    expect(dead!.headers?.[DeadLetterHeaders.code]).toBe('DECODE_FAILED');
    expect(dead!.headers?.[DeadLetterHeaders.errorMessage]).toBe('bad bytes');
  });

  it('dead-letters on a non-retryable error after one attempt, with the reason and the origin', async () => {
    const { bus, handler, sleeps } = setup(async () => {
      throw new NonRetryableError('amount does not match the approved decision');
    });
    await handler(original, context());
    expect(sleeps).toEqual([]);
    const [dead] = bus.published;
    expect(dead!.headers).toEqual({
      'event-id': 'e-1',
      [DeadLetterHeaders.code]: 'HANDLER_FAILED',
      [DeadLetterHeaders.errorClass]: 'NonRetryableError',
      [DeadLetterHeaders.errorMessage]: 'amount does not match the approved decision',
      [DeadLetterHeaders.originalTopic]: 'custody.tx.signed.v1',
      [DeadLetterHeaders.originalPartition]: '2',
      [DeadLetterHeaders.originalOffset]: '41',
      [DeadLetterHeaders.consumerGroup]: 'ledger',
      [DeadLetterHeaders.attempts]: '1',
      [DeadLetterHeaders.failedAt]: failedAt.toISOString(),
    });
    const record = protobufDeadLetterCodec.decode(dead!.value);
    expect(record).toEqual({
      originalValue: Buffer.from([1, 2, 3]),
      topic: 'custody.tx.signed.v1',
      partition: 2,
      offset: '41',
      code: 'HANDLER_FAILED',
      reason: 'NonRetryableError: amount does not match the approved decision',
      consumerGroup: 'ledger',
      attempts: 1,
      failedAt,
    });
  });

  it('retries a retryable error with backoff and heartbeats, then dead-letters after maxAttempts', async () => {
    let calls = 0;
    const { bus, handler, sleeps } = setup(async () => {
      calls++;
      throw new TypeError('db timeout');
    });
    const ctx = context();
    await handler(original, ctx);
    expect(calls).toBe(3);
    expect(sleeps).toEqual([10, 20]);
    expect(ctx.beats).toBe(2);
    expect(bus.published).toHaveLength(1);
    expect(bus.published[0]!.headers?.[DeadLetterHeaders.code]).toBe('RETRIES_EXHAUSTED');
    expect(bus.published[0]!.headers?.[DeadLetterHeaders.attempts]).toBe('3');
    expect(bus.published[0]!.headers?.[DeadLetterHeaders.errorClass]).toBe('TypeError');
  });

  it('does not dead-letter a message that succeeds on a later attempt', async () => {
    let calls = 0;
    const { bus, handler } = setup(async () => {
      if (++calls < 3) throw new Error('transient');
    });
    await handler(original, context());
    expect(calls).toBe(3);
    expect(bus.published).toEqual([]);
  });

  it('treats any error with retryable === false as non-retryable', async () => {
    const { bus, handler } = setup(async () => {
      throw Object.assign(new Error('refused'), { retryable: false, code: 'DECISION_EXPIRED' });
    });
    await handler(original, context());
    expect(bus.published[0]!.headers?.[DeadLetterHeaders.code]).toBe('HANDLER_FAILED');
    expect(bus.published[0]!.headers?.[DeadLetterHeaders.errorMessage]).toBe('[DECISION_EXPIRED] refused');
  });

  it('throws (so the bus does not commit) when the dead-letter publish fails; a redelivery dead-letters it', async () => {
    const { bus, handler } = setup(async () => {
      throw new NonRetryableError('poison');
    });
    bus.failNext = 1;
    await expect(handler(original, context())).rejects.toThrow('broker unavailable');
    expect(bus.published).toEqual([]);
    await handler(original, context());
    expect(bus.published).toHaveLength(1);
  });

  it('rethrows instead of dead-lettering when the subscription is stopping', async () => {
    const controller = new AbortController();
    const { bus, handler } = setup(async () => {
      controller.abort();
      throw new Error('interrupted');
    });
    await expect(handler(original, context({ signal: controller.signal }))).rejects.toThrow('interrupted');
    expect(bus.published).toEqual([]);
  });

  it('gives a keyless record a key on the dead-letter topic', async () => {
    const { bus, handler } = setup(async () => {}, { decodeFails: true });
    await handler({ ...original, key: '' }, context());
    expect(bus.published[0]!.key).toBe('custody.tx.signed.v1/2');
  });

  it('rejects a maxAttempts below 1', () => {
    expect(() => withDeadLetter({ bus: new FakeBus(), decode: () => 1, handle: async () => {}, maxAttempts: 0, sleep: noSleep })).toThrow(RangeError);
  });
});
