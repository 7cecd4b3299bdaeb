// Ledger's domain errors (stable codes).
import { DomainError } from '@custody/platform';

/** A posting that would break double-entry rules (a bug or a malformed event). */
export class LedgerInvariantError extends DomainError {
  constructor(message: string) {
    super('LEDGER_INVARIANT', message);
  }
}

export class InvalidAmountError extends DomainError {
  constructor(field: string, message: string) {
    super('AMOUNT_INVALID', `${field}: ${message}`);
  }
}

export class InvalidArgumentError extends DomainError {
  constructor(
    readonly field: string,
    code: string,
    message: string,
  ) {
    super(code, `${field}: ${message}`);
  }
}
