// Exponential backoff and an abortable sleep. No jitter: delays are deterministic, which
// keeps tests reproducible; the number of competing retriers here is small (one per
// partition, one relay), so synchronised retries are not a concern.
import type { BackoffOptions } from './event-bus.js';

/** Delay after the `attempt`-th failure (attempt >= 1): initialMs * factor^(attempt-1), capped. */
export function backoffDelay(attempt: number, options: BackoffOptions): number {
  const { initialMs, maxMs, factor = 2 } = options;
  if (!Number.isInteger(attempt) || attempt < 1) throw new RangeError(`backoffDelay: attempt must be an integer >= 1, got ${attempt}`);
  if (!(initialMs >= 0) || !(maxMs >= initialMs) || !(factor >= 1)) {
    throw new RangeError(`backoffDelay: need 0 <= initialMs <= maxMs and factor >= 1, got ${initialMs}/${maxMs}/${factor}`);
  }
  const delay = initialMs * factor ** (attempt - 1);
  return Math.min(maxMs, Number.isFinite(delay) ? delay : maxMs);
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Resolves after `ms`, or as soon as `signal` aborts (it never rejects; check signal.aborted). */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Waits `ms` in slices of at most `sliceMs`, calling `heartbeat` between slices, so a long
 * backoff does not get a Kafka consumer evicted from its group. Stops early on abort.
 */
export async function sleepWithHeartbeat(
  ms: number,
  signal: AbortSignal,
  heartbeat: () => Promise<void>,
  wait: Sleep = sleep,
  sliceMs = 1000,
): Promise<void> {
  let remaining = ms;
  while (remaining > 0 && !signal.aborted) {
    const slice = Math.min(remaining, sliceMs);
    await wait(slice, signal);
    remaining -= slice;
    if (remaining > 0 && !signal.aborted) await heartbeat();
  }
}
