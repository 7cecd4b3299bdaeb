/**
 * Canonical UTC timestamps, the form the policies use: "YYYY-MM-DDTHH:MM:SSZ", second
 * precision, years 1970-9999 (policies/custody/lib/timestamps.rego).
 */
const CANONICAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** True for a canonical timestamp of a real calendar instant. */
export function isCanonicalTimestamp(value: unknown): value is string {
  if (typeof value !== 'string' || !CANONICAL.test(value)) return false;
  const ms = Date.parse(value);
  return Number.isFinite(ms) && ms >= 0 && toCanonicalTimestamp(new Date(ms)) === value;
}

/** The canonical form of a Date (milliseconds are dropped, towards the past). */
export function toCanonicalTimestamp(date: Date): string {
  const ms = date.getTime();
  if (!Number.isFinite(ms)) throw new RangeError('toCanonicalTimestamp: invalid Date');
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
