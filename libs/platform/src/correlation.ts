// Correlation context carried through async calls (AsyncLocalStorage). Adapters set it
// when a request or an event comes in; the logger adds it to every line.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface CorrelationContext {
  /** Id shared by every message and log line of one business flow (e.g. a withdrawal). */
  readonly correlationId: string;
  /** Id of the message that caused the current work. */
  readonly causationId?: string;
  /** W3C trace context header value. */
  readonly traceparent?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

/** Runs `fn` with `context` as the current correlation context (nested calls replace it). */
export function withCorrelation<T>(context: CorrelationContext, fn: () => T): T {
  const frozen: CorrelationContext = Object.freeze({ ...context });
  return storage.run(frozen, fn);
}

/** The correlation context of the running async call chain, if any. */
export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}
