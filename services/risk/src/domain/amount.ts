import { RiskError } from './errors.js';

const DECIMAL = /^(0|[1-9][0-9]{0,77})$/;

/** Decimal base-unit string -> bigint; throws RiskError('INVALID_AMOUNT'). Never a float. */
export function parseAmount(value: string, what = 'amount'): bigint {
  if (typeof value !== 'string' || !DECIMAL.test(value)) throw new RiskError('INVALID_AMOUNT', `${what} must be a non-negative integer in base units (decimal string), got ${JSON.stringify(value)}`);
  return BigInt(value);
}
