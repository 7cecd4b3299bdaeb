// Base class for domain errors: plain TypeScript, no framework. A subclass fixes a stable
// string `code` (the reason a caller can act on, e.g. 'WITHDRAWAL_LIMIT_EXCEEDED') and a
// message written for the caller. Internal detail goes in `cause`, which is logged and
// never sent over the wire.

const CODE = /^[A-Z][A-Z0-9_]{1,62}$/;

export interface DomainErrorOptions {
  /** The underlying failure; kept for logs, never shown to callers. */
  readonly cause?: unknown;
}

export class DomainError extends Error {
  /** Stable, UPPER_SNAKE reason code; part of the public contract. */
  readonly code: string;

  constructor(code: string, publicMessage: string, options: DomainErrorOptions = {}) {
    if (!CODE.test(code)) throw new TypeError(`DomainError code must be UPPER_SNAKE_CASE, got ${JSON.stringify(code)}`);
    super(publicMessage, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
  }

  /** The message a caller may see (the constructor's `publicMessage`). */
  get publicMessage(): string {
    return this.message;
  }
}

export function isDomainError(value: unknown): value is DomainError {
  return value instanceof DomainError;
}
