import { describe, it, expect } from '@jest/globals';
import { envVar, parseDuration } from './config-fields.js';

function parse<T>(schema: { safeParse(input: unknown): { success: true; data: T } | { success: false } }, raw: unknown): T | 'invalid' {
  const result = schema.safeParse(raw);
  return result.success ? result.data : 'invalid';
}

describe('envVar', () => {
  it('port: integers 0-65535 only', () => {
    expect(parse(envVar.port(), '0')).toBe(0);
    expect(parse(envVar.port(), ' 8080 ')).toBe(8080);
    expect(parse(envVar.port(), '65535')).toBe(65535);
    for (const bad of ['65536', '-1', '80.5', 'http', '', '1e3', undefined]) expect(parse(envVar.port(), bad)).toBe('invalid');
  });

  it('port: default applies only when unset', () => {
    expect(parse(envVar.port().default(50051), undefined)).toBe(50051);
    expect(parse(envVar.port().default(50051), 'x')).toBe('invalid');
  });

  it('int: honours bounds', () => {
    const s = envVar.int({ min: 1, max: 10 });
    expect(parse(s, '10')).toBe(10);
    expect(parse(s, '0')).toBe('invalid');
    expect(parse(s, '11')).toBe('invalid');
    expect(parse(s, '3.2')).toBe('invalid');
    expect(parse(envVar.int(), '-42')).toBe(-42);
  });

  it('url: absolute with a host, optionally restricted to schemes', () => {
    expect(parse(envVar.url(), 'https://vault:8200')).toBe('https://vault:8200');
    expect(parse(envVar.url(), 'vault:8200')).toBe('invalid'); // parses as scheme "vault:" without a host
    expect(parse(envVar.url(), '/relative')).toBe('invalid');
    const pgUrl = envVar.url({ protocols: ['postgres:', 'postgresql:'] });
    expect(parse(pgUrl, 'postgresql://u@h/db')).toBe('postgresql://u@h/db');
    expect(parse(pgUrl, 'http://h/db')).toBe('invalid');
  });

  it('logLevel: pino levels, case-insensitive', () => {
    expect(parse(envVar.logLevel(), 'DEBUG')).toBe('debug');
    expect(parse(envVar.logLevel(), 'silent')).toBe('silent');
    expect(parse(envVar.logLevel(), 'verbose')).toBe('invalid');
  });

  it('bool: the usual spellings and nothing else', () => {
    for (const t of ['true', 'TRUE', '1', 'yes', 'on']) expect(parse(envVar.bool(), t)).toBe(true);
    for (const f of ['false', '0', 'No', 'off']) expect(parse(envVar.bool(), f)).toBe(false);
    for (const bad of ['', 'y', 'enabled', '2']) expect(parse(envVar.bool(), bad)).toBe('invalid');
  });

  it('string and list', () => {
    expect(parse(envVar.string(), '  ')).toBe('invalid');
    expect(parse(envVar.string({ minLength: 3 }), 'abc')).toBe('abc');
    expect(parse(envVar.list(), 'a, b,c')).toEqual(['a', 'b', 'c']);
    expect(parse(envVar.list(), 'a,,b')).toBe('invalid');
  });

  it('custom: any parser with its own expectation', () => {
    const hex = envVar.custom('expected 32 hex characters', (raw) => (/^[0-9a-f]{32}$/.test(raw) ? raw : undefined));
    expect(parse(hex, 'a'.repeat(32))).toBe('a'.repeat(32));
    const result = hex.safeParse('xyz');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('expected 32 hex characters');
  });
});

describe('parseDuration', () => {
  it.each([
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['2d', 172_800_000],
    [' 10s ', 10_000],
  ])('%s -> %d ms', (raw, ms) => {
    expect(parseDuration(raw)).toBe(ms);
  });

  it.each(['', '1.5s', '10 s', '5x', 's', '-5s', '1h-30m'])('rejects %j', (raw) => {
    expect(parseDuration(raw)).toBeUndefined();
  });
});
