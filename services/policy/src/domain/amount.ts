/**
 * Amounts are integers in base units (satoshi, wei): bigint in TypeScript, decimal
 * strings on the wire and in policy input. 78 digits hold every uint256.
 */
const DECIMAL = /^(0|[1-9]\d{0,77})$/;

export const MAX_AMOUNT_DIGITS = 78;

/** The canonical decimal string of a non-negative amount. */
export function formatAmount(amount: bigint): string {
  if (amount < 0n) throw new RangeError('amount must not be negative');
  const text = amount.toString(10);
  if (text.length > MAX_AMOUNT_DIGITS) throw new RangeError(`amount must have at most ${MAX_AMOUNT_DIGITS} digits`);
  return text;
}

/** Parses a canonical decimal amount (no sign, no leading zeros); undefined otherwise. */
export function parseAmount(text: unknown): bigint | undefined {
  return typeof text === 'string' && DECIMAL.test(text) ? BigInt(text) : undefined;
}
