// Amounts are integers in base units, decimal strings on the wire (never floats).
import { InvalidArgumentError } from './errors.js';

/** Largest amount accepted: 2^256 - 1 (an EVM uint256), far above any real supply. */
export const MAX_AMOUNT = (1n << 256n) - 1n;

const DIGITS = /^[0-9]{1,78}$/;

/**
 * Parses a base-unit amount: a decimal integer string without sign, exponent, separators
 * or leading zeros, > 0 and <= MAX_AMOUNT. `field` names the request field in errors.
 */
export function parseBaseUnits(value: string, field = 'amount'): bigint {
  if (value.length === 0) throw new InvalidArgumentError(field, 'AMOUNT_REQUIRED', 'is required (base units as a decimal integer string)');
  if (!DIGITS.test(value)) {
    if (/^[0-9]*\.[0-9]*$/.test(value)) {
      throw new InvalidArgumentError(field, 'AMOUNT_NOT_INTEGER', 'must be an integer number of base units (no decimal point): convert with the asset decimals first');
    }
    throw new InvalidArgumentError(field, 'AMOUNT_MALFORMED', 'must be a decimal integer string of base units, digits only');
  }
  if (value.length > 1 && value.startsWith('0')) throw new InvalidArgumentError(field, 'AMOUNT_MALFORMED', 'must not have leading zeros');
  const amount = BigInt(value);
  if (amount <= 0n) throw new InvalidArgumentError(field, 'AMOUNT_NOT_POSITIVE', 'must be greater than zero');
  if (amount > MAX_AMOUNT) throw new InvalidArgumentError(field, 'AMOUNT_TOO_LARGE', 'exceeds the largest representable amount');
  return amount;
}

/** Human form of base units for messages, e.g. 1500000 with 6 decimals -> "1.5". */
export function formatUnits(amount: bigint, decimals: number): string {
  if (decimals === 0) return amount.toString();
  const s = amount.toString().padStart(decimals + 1, '0');
  const whole = s.slice(0, -decimals);
  const fraction = s.slice(-decimals).replace(/0+$/, '');
  return fraction.length > 0 ? `${whole}.${fraction}` : whole;
}
