import { describe, expect, it } from '@jest/globals';
import { backoffDelay, sleep, sleepWithHeartbeat } from './backoff.js';

describe('backoff', () => {
  it('grows by the factor from initialMs and stops at maxMs', () => {
    const options = { initialMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 60].map((n) => backoffDelay(n, options))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoffDelay(3, { initialMs: 10, maxMs: 1000, factor: 3 })).toBe(90);
  });

  it('refuses nonsense', () => {
    expect(() => backoffDelay(0, { initialMs: 1, maxMs: 2 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { initialMs: 5, maxMs: 2 })).toThrow(RangeError);
    expect(() => backoffDelay(1, { initialMs: 1, maxMs: 2, factor: 0.5 })).toThrow(RangeError);
  });

  it('sleep resolves early when aborted', async () => {
    const controller = new AbortController();
    const pending = sleep(3_600_000, controller.signal); // an hour: only the abort can end it within the test timeout
    controller.abort();
    await expect(pending).resolves.toBeUndefined();
  });

  it('sleepWithHeartbeat slices a long wait and heartbeats between slices', async () => {
    const slices: number[] = [];
    let beats = 0;
    await sleepWithHeartbeat(
      2500,
      new AbortController().signal,
      async () => void beats++,
      async (ms) => void slices.push(ms),
    );
    expect(slices).toEqual([1000, 1000, 500]);
    expect(beats).toBe(2);
  });
});
