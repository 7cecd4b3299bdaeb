// Amounts on the wire are decimal integer strings in base units; in the ledger, bigint.
import { InvalidAmountError } from './errors.js';

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

export function parseAmount(value: string, field: string, options: { allowZero?: boolean } = {}): bigint {
  if (!DECIMAL.test(value)) throw new InvalidAmountError(field, 'must be a decimal integer in base units (at most 78 digits)');
  const amount = BigInt(value);
  if (amount === 0n && !options.allowZero) throw new InvalidAmountError(field, 'must be positive');
  return amount;
}
