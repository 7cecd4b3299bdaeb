import { describe, it, expect } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, defineConfig, isSecretVariable } from './config.js';
import { envVar } from './config-fields.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const schema = z.object({
  CUSTODY_GRPC_PORT: envVar.port(),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  CUSTODY_DB_PASSWORD: envVar.string({ minLength: 16 }),
  CUSTODY_TIMEOUT: envVar.duration().default(5_000),
});

describe('defineConfig', () => {
  it('returns the parsed, typed and deeply frozen configuration', () => {
    const config = defineConfig(
      schema.transform((env) => ({ grpc: { port: env.CUSTODY_GRPC_PORT }, db: { url: env.CUSTODY_DB_URL }, timeoutMs: env.CUSTODY_TIMEOUT, level: env.CUSTODY_LOG_LEVEL })),
      {
        CUSTODY_GRPC_PORT: '50051',
        CUSTODY_DB_URL: 'postgres://intake@127.0.0.1:5432/custody',
        CUSTODY_DB_PASSWORD: 'correct-horse-battery',
        CUSTODY_TIMEOUT: '1m30s',
        UNRELATED: 'ignored',
      },
    );
    expect(config).toEqual({ grpc: { port: 50051 }, db: { url: 'postgres://intake@127.0.0.1:5432/custody' }, timeoutMs: 90_000, level: 'info' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.grpc)).toBe(true);
    expect(() => {
      (config.grpc as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('keeps binary values (certificates read in a transform) and freezes everything around them', () => {
    const schema = z.object({ CUSTODY_TLS: z.literal('mtls') }).transform(() => ({ grpc: { credentials: { certChain: Buffer.from('-----BEGIN CERTIFICATE-----'), caList: [new Uint8Array([1, 2, 3])] } } }));
    const config = defineConfig(schema, { CUSTODY_TLS: 'mtls' });
    expect(config.grpc.credentials.certChain.toString()).toBe('-----BEGIN CERTIFICATE-----');
    expect([...config.grpc.credentials.caList[0]!]).toEqual([1, 2, 3]);
    expect(Object.isFrozen(config.grpc)).toBe(true);
    expect(Object.isFrozen(config.grpc.credentials)).toBe(true);
    expect(Object.isFrozen(config.grpc.credentials.caList)).toBe(true);
  });

  it('names every bad variable with what was expected and what was got', () => {
    const error = configError(() =>
      defineConfig(schema, { CUSTODY_GRPC_PORT: '70000', CUSTODY_LOG_LEVEL: 'loud', CUSTODY_DB_URL: 'mysql://h/db', CUSTODY_DB_PASSWORD: 'x'.repeat(20) }),
    );
    expect(error.problems.map((p) => p.variable)).toEqual(['CUSTODY_GRPC_PORT', 'CUSTODY_LOG_LEVEL', 'CUSTODY_DB_URL']);
    expect(error.message).toContain('CUSTODY_GRPC_PORT: expected a TCP port (integer 0-65535), got "70000"');
    expect(error.message).toContain('CUSTODY_LOG_LEVEL: expected a log level (fatal | error | warn | info | debug | trace | silent), got "loud"');
    expect(error.message).toContain('CUSTODY_DB_URL: expected a URL with scheme postgres or postgresql and a host, got "mysql://h/db"');
    expect(error.message).toMatch(/^invalid configuration \(3 problems\):/);
  });

  it('reports a missing variable as unset', () => {
    const error = configError(() => defineConfig(schema, { CUSTODY_DB_URL: 'postgres://h/db', CUSTODY_DB_PASSWORD: 'x'.repeat(20) }));
    expect(error.problems).toEqual([{ variable: 'CUSTODY_GRPC_PORT', message: 'expected a TCP port (integer 0-65535), got nothing (unset)' }]);
  });

  it('never prints the value of a secret-named variable, even inside custom messages', () => {
    const secret = 'hunter2-super-secret';
    const secretSchema = z.object({
      CUSTODY_DB_PASSWORD: envVar.string({ minLength: 32 }),
      CUSTODY_API_TOKEN: z.string().refine(() => false, { error: (issue) => `bad token ${String(issue.input)}` }),
      CUSTODY_SIGNER_KEY_ID: z.string().regex(/^k-/),
      CUSTODY_HSM_PIN: z.string().length(4),
    });
    const error = configError(() =>
      defineConfig(secretSchema, { CUSTODY_DB_PASSWORD: secret, CUSTODY_API_TOKEN: secret, CUSTODY_SIGNER_KEY_ID: secret, CUSTODY_HSM_PIN: secret }),
    );
    expect(error.problems.map((p) => p.variable)).toEqual(['CUSTODY_DB_PASSWORD', 'CUSTODY_API_TOKEN', 'CUSTODY_SIGNER_KEY_ID', 'CUSTODY_HSM_PIN']);
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain('hunter2');
    expect(error.message).toContain('CUSTODY_DB_PASSWORD: expected a string of at least 32 characters, got [Redacted] (secret value not shown)');
    expect(error.message).toContain('CUSTODY_HSM_PIN: expected string to have exactly 4 characters');
  });

  it('scrubs credentials embedded in non-secret values', () => {
    const error = configError(() =>
      defineConfig(z.object({ CUSTODY_DB_URL: envVar.url({ protocols: ['https:'] }) }), { CUSTODY_DB_URL: 'postgres://intake:s3cr3t-pw@db:5432/custody' }),
    );
    expect(error.message).not.toContain('s3cr3t-pw');
    expect(error.message).toContain('got "postgres://intake:[Redacted]@db:5432/custody"');
  });

  describe('discriminated unions (modes)', () => {
    const keys = z.discriminatedUnion('CUSTODY_KEYS_KIND', [
      z.object({ CUSTODY_KEYS_KIND: z.literal('vault'), CUSTODY_VAULT_ADDR: envVar.url() }),
      z.object({ CUSTODY_KEYS_KIND: z.literal('pkcs11'), CUSTODY_PKCS11_LIB: envVar.string() }),
      z.object({ CUSTODY_KEYS_KIND: z.literal('local') }),
    ]);
    const modeSchema = z
      .object({ CUSTODY_SERVICE: envVar.string() })
      .and(keys)
      .transform((env) => ({
        service: env.CUSTODY_SERVICE,
        keys:
          env.CUSTODY_KEYS_KIND === 'vault'
            ? { kind: 'vault' as const, addr: env.CUSTODY_VAULT_ADDR }
            : env.CUSTODY_KEYS_KIND === 'pkcs11'
              ? { kind: 'pkcs11' as const, library: env.CUSTODY_PKCS11_LIB }
              : { kind: 'local' as const },
      }));

    it('selects the branch by its discriminator variable', () => {
      const config = defineConfig(modeSchema, { CUSTODY_SERVICE: 'signer', CUSTODY_KEYS_KIND: 'pkcs11', CUSTODY_PKCS11_LIB: '/usr/lib/softhsm/libsofthsm2.so' });
      expect(config.keys).toEqual({ kind: 'pkcs11', library: '/usr/lib/softhsm/libsofthsm2.so' });
    });

    it('names the discriminator and its options when it is wrong', () => {
      // CUSTODY_KEYS_KIND matches /KEY/, so even this value is treated as secret.
      const error = configError(() => defineConfig(modeSchema, { CUSTODY_SERVICE: 'signer', CUSTODY_KEYS_KIND: 'hsm' }));
      expect(error.problems).toEqual([
        { variable: 'CUSTODY_KEYS_KIND', message: 'expected one of "vault" | "pkcs11" | "local", got [Redacted] (secret value not shown)' },
      ]);
    });

    it("names a missing variable of the chosen branch", () => {
      const error = configError(() => defineConfig(modeSchema, { CUSTODY_SERVICE: 'signer', CUSTODY_KEYS_KIND: 'vault', CUSTODY_VAULT_ADDR: 'not a url' }));
      expect(error.problems).toEqual([{ variable: 'CUSTODY_VAULT_ADDR', message: 'expected an absolute URL with a host, got "not a url"' }]);
    });
  });

  it('reports a cross-field rule without a path as (config)', () => {
    const error = configError(() =>
      defineConfig(
        z.object({ A: envVar.int(), B: envVar.int() }).refine((c) => c.A < c.B, { error: 'expected A < B' }),
        { A: '5', B: '1' },
      ),
    );
    expect(error.problems).toEqual([{ variable: '(config)', message: 'expected A < B' }]);
  });
});

describe('isSecretVariable', () => {
  it.each([
    ['CUSTODY_DB_PASSWORD', true],
    ['CUSTODY_CLIENT_SECRET', true],
    ['CUSTODY_API_TOKEN', true],
    ['CUSTODY_MASTER_KEY', true],
    ['CUSTODY_HSM_PIN', true],
    ['custody_db_password', true],
    ['CUSTODY_GRPC_PORT', false],
    ['CUSTODY_DB_URL', false],
  ])('%s -> %s', (name, expected) => {
    expect(isSecretVariable(name)).toBe(expected);
  });
});
