// zod schemas for the usual kinds of environment variable. Each one parses the raw string
// and, on failure, says what it expected in words (the config error adds what it got).
import { z } from 'zod';
import { LOG_LEVELS, type LogLevel } from './logger.js';

/**
 * A variable parsed by `parse` (return `undefined` to reject). `expectation` starts with
 * "expected" and is the whole error text, e.g. "expected a hex key id".
 */
function custom<T>(expectation: string, parse: (raw: string) => T | undefined) {
  return z.string({ error: expectation }).transform((raw, ctx): T => {
    const value = parse(raw.trim());
    if (value === undefined) {
      ctx.issues.push({ code: 'custom', message: expectation, input: raw });
      return z.NEVER;
    }
    return value;
  });
}

/** TCP port, 0-65535 (0 = let the OS choose; useful in tests). */
function port() {
  return custom('expected a TCP port (integer 0-65535)', (raw) => {
    if (!/^\d{1,5}$/.test(raw)) return undefined;
    const n = Number(raw);
    return n <= 65535 ? n : undefined;
  });
}

function int(options: { min?: number; max?: number } = {}) {
  const min = options.min ?? Number.MIN_SAFE_INTEGER;
  const max = options.max ?? Number.MAX_SAFE_INTEGER;
  const range = options.min !== undefined || options.max !== undefined ? ` in [${options.min ?? '-∞'}, ${options.max ?? '∞'}]` : '';
  return custom(`expected an integer${range}`, (raw) => {
    if (!/^-?\d+$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

/**
 * An absolute URL with a host (so 'vault:8200', which parses as scheme "vault:", is refused),
 * returned as the string given. `protocols` like ['postgres:', 'postgresql:'].
 */
function url(options: { protocols?: readonly string[] } = {}) {
  const protocols = options.protocols;
  const expectation = protocols
    ? `expected a URL with scheme ${protocols.map((p) => p.replace(/:$/, '')).join(' or ')} and a host`
    : 'expected an absolute URL with a host';
  return custom(expectation, (raw) => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      return undefined;
    }
    if (parsed.host === '') return undefined;
    if (protocols && !protocols.includes(parsed.protocol)) return undefined;
    return raw;
  });
}

function logLevel() {
  return custom<LogLevel>(`expected a log level (${LOG_LEVELS.join(' | ')})`, (raw) => {
    const level = raw.toLowerCase();
    return (LOG_LEVELS as readonly string[]).includes(level) ? (level as LogLevel) : undefined;
  });
}

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** true/false, 1/0, yes/no, on/off (any case). */
function bool() {
  return custom('expected a boolean (true|false|1|0|yes|no|on|off)', (raw) => {
    const v = raw.toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    return undefined;
  });
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses "250ms", "30s", "5m", "1h30m", "2d" or a bare integer of milliseconds into milliseconds. */
export function parseDuration(raw: string): number | undefined {
  const text = raw.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+(ms|s|m|h|d))+$/.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d)/g)) total += Number(m[1]) * (UNIT_MS[m[2] as string] as number);
  return Number.isSafeInteger(total) ? total : undefined;
}

/** A duration in milliseconds (see {@link parseDuration}). */
function duration() {
  return custom('expected a duration like 250ms, 30s, 5m, 1h30m or integer milliseconds', parseDuration);
}

/** A non-empty string (after trimming). */
function string(options: { minLength?: number } = {}) {
  const minLength = Math.max(1, options.minLength ?? 1);
  return custom(minLength === 1 ? 'expected a non-empty string' : `expected a string of at least ${minLength} characters`, (raw) =>
    raw.length >= minLength ? raw : undefined,
  );
}

/** Comma-separated list of non-empty items. */
function list() {
  return custom('expected a comma-separated list', (raw) => {
    const items = raw.split(',').map((s) => s.trim());
    return items.length > 0 && items.every((s) => s.length > 0) ? items : undefined;
  });
}

/** Field schemas for `defineConfig`; add `.default(value)` (output type) or `.optional()`. */
export const envVar = Object.freeze({ port, int, url, logLevel, bool, duration, string, list, custom });
