// Errors with stable codes (CONVENTIONS.md §8). Handlers signal "retrying will not help"
// by throwing NonRetryableError (or any error with `retryable === false`).

export type EventBusErrorCode =
  | 'INVALID_ARGUMENT'
  | 'ENVELOPE_INVALID'
  | 'ENVELOPE_DECODE_FAILED'
  | 'OUTBOX_NOT_IN_TRANSACTION'
  | 'BUS_CLOSED'
  | 'TOPIC_PARTITIONS_MISMATCH'
  | 'RELAY_CRASHED';

export class EventBusError extends Error {
  override readonly name = 'EventBusError';
  constructor(
    readonly code: EventBusErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown by a handler when the message can never succeed (bad data, a rule refusal...): it goes to the DLQ at once. */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
  readonly retryable = false as const;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True for NonRetryableError and for any error object that says `retryable: false`. */
export function isNonRetryable(error: unknown): boolean {
  return (
    error instanceof NonRetryableError ||
    (typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false)
  );
}

/** `Name: message` of anything thrown, bounded in length (it travels in DLQ headers and logs). */
export function describeError(error: unknown, maxLength = 1000): { errorClass: string; message: string } {
  let errorClass = 'NonError';
  let message: string;
  if (error instanceof Error) {
    errorClass = error.constructor?.name && error.constructor.name !== 'Error' ? error.constructor.name : error.name;
    const code = (error as { code?: unknown }).code;
    message = typeof code === 'string' && !error.message.includes(code) ? `[${code}] ${error.message}` : error.message;
  } else {
    message = typeof error === 'string' ? error : safeJson(error);
  }
  if (message.length > maxLength) message = `${message.slice(0, maxLength - 1)}…`;
  return { errorClass, message };
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
