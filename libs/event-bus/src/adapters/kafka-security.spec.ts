import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { KAFKA_SECURITY_VARIABLES, KafkaSecurityConfigError, isLoopbackBroker, kafkaSecurityFromEnv } from './kafka-security.js';

const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string): string => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};

const PASSWORD = 'Scr4m-pa55word-f0r-the-kafkauser';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYMATERIAL\n-----END PRIVATE KEY-----\n';
const CA = file('ca.crt', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
const CERT = file('user.crt', '-----BEGIN CERTIFICATE-----\nUSER\n-----END CERTIFICATE-----\n');
const KEY_FILE = file('user.key', KEY);
const PASSWORD_FILE = file('password', `${PASSWORD}\n`);
const REMOTE = ['custody-kafka-kafka-bootstrap.kafka.svc:9093'];
const LOOPBACK = ['127.0.0.1:19092'];

const tls = { CUSTODY_KAFKA_SECURITY: 'tls', CUSTODY_KAFKA_CA_FILE: CA, CUSTODY_KAFKA_CERT_FILE: CERT, CUSTODY_KAFKA_KEY_FILE: KEY_FILE };
const scram = { CUSTODY_KAFKA_SECURITY: 'scram-sha-512', CUSTODY_KAFKA_CA_FILE: CA, CUSTODY_KAFKA_USERNAME: 'custody-ledger', CUSTODY_KAFKA_PASSWORD_FILE: PASSWORD_FILE };

/** The error thrown, asserted to be a KafkaSecurityConfigError. */
function failure(env: Record<string, string | undefined>, brokers: readonly string[] = REMOTE): KafkaSecurityConfigError {
  try {
    kafkaSecurityFromEnv(env, brokers);
  } catch (err) {
    expect(err).toBeInstanceOf(KafkaSecurityConfigError);
    return err as KafkaSecurityConfigError;
  }
  throw new Error('expected kafkaSecurityFromEnv to throw');
}
const variables = (err: KafkaSecurityConfigError): string[] => err.problems.map((p) => p.variable).sort();
/** No secret (nor a recognisable piece of it) in the message, its problems or its stack. */
function expectNoSecret(err: KafkaSecurityConfigError): void {
  const text = `${err.message}\n${JSON.stringify(err.problems)}\n${err.stack ?? ''}\n${inspect(err)}`;
  for (const secret of [PASSWORD, PASSWORD.slice(0, 12), 'SECRETKEYMATERIAL', 'BEGIN PRIVATE KEY']) expect(text).not.toContain(secret);
}

describe('kafkaSecurityFromEnv: plaintext only on loopback (fail closed)', () => {
  it('plaintext, explicit or unset, with loopback brokers → no TLS, no SASL', () => {
    expect(kafkaSecurityFromEnv({ CUSTODY_KAFKA_SECURITY: 'plaintext' }, ['127.0.0.1:19092', 'localhost:9092', '[::1]:9092'])).toEqual({});
    expect(kafkaSecurityFromEnv({}, LOOPBACK)).toEqual({});
    expect(kafkaSecurityFromEnv({ CUSTODY_KAFKA_SECURITY: '' }, LOOPBACK)).toEqual({});
  });

  it('plaintext with a non-loopback broker is refused, naming the broker and the modes to use', () => {
    const err = failure({ CUSTODY_KAFKA_SECURITY: 'plaintext' }, ['127.0.0.1:9092', ...REMOTE]);
    expect(variables(err)).toEqual(['CUSTODY_KAFKA_SECURITY']);
    expect(err.message).toMatch(/plaintext \(set\) is allowed only with loopback brokers, got "custody-kafka-kafka-bootstrap\.kafka\.svc:9093": set tls or scram-sha-512/);
    expect(err.message).not.toContain('127.0.0.1:9092');
  });

  it('an unset CUSTODY_KAFKA_SECURITY against a real cluster is refused too (an unconfigured pod does not connect in the clear)', () => {
    const err = failure({}, ['10.0.0.7:9092']);
    expect(err.message).toMatch(/plaintext \(the default when unset\) is allowed only with loopback brokers/);
  });

  it('no brokers at all is refused', () => {
    expect(variables(failure({}, []))).toEqual(['KAFKA_BROKERS']);
  });

  it.each([
    ['127.0.0.1:9092', true],
    ['127.10.20.30:1', true],
    ['localhost:9092', true],
    ['[::1]:9092', true],
    ['10.0.0.1:9092', false],
    ['0.0.0.0:9092', false],
    ['127.0.0.1.example.com:9092', false],
    ['localhost.example.com:9092', false],
    ['kafka:9092', false],
    ['127.0.0.1', false],
    ['[::1]', false],
    ['[2001:db8::1]:9092', false],
  ])('isLoopbackBroker(%s) = %s', (broker, expected) => {
    expect(isLoopbackBroker(broker)).toBe(expected);
  });

  it('an unknown mode is refused with the modes allowed', () => {
    const err = failure({ CUSTODY_KAFKA_SECURITY: 'ssl' });
    expect(variables(err)).toEqual(['CUSTODY_KAFKA_SECURITY']);
    expect(err.message).toContain('expected one of plaintext | tls | scram-sha-512, got "ssl"');
  });
});

describe('kafkaSecurityFromEnv: tls (Strimzi KafkaUser authentication tls)', () => {
  it('CA + client certificate and key → mTLS options with the files\' bytes, certificate verification forced on', () => {
    const o = kafkaSecurityFromEnv(tls, REMOTE);
    expect(o.sasl).toBeUndefined();
    const ssl = o.ssl as { ca: Buffer; cert: Buffer; key: Buffer; rejectUnauthorized: boolean };
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(ssl.ca.toString()).toContain('CA');
    expect(ssl.cert.toString()).toContain('USER');
    expect(ssl.key.toString()).toBe(KEY);
    // what node:tls gets from kafkajs (Object.assign of the options): exactly these four
    expect(Object.keys(Object.assign({}, ssl)).sort()).toEqual(['ca', 'cert', 'key', 'rejectUnauthorized']);
  });

  it('CA only → server-authenticated TLS without a client certificate', () => {
    const o = kafkaSecurityFromEnv({ CUSTODY_KAFKA_SECURITY: 'tls', CUSTODY_KAFKA_CA_FILE: CA }, REMOTE);
    expect(Object.keys(Object.assign({}, o.ssl)).sort()).toEqual(['ca', 'rejectUnauthorized']);
  });

  it('without the CA file variable → refused (no fallback to the system trust store)', () => {
    const err = failure({ ...tls, CUSTODY_KAFKA_CA_FILE: undefined });
    expect(variables(err)).toEqual(['CUSTODY_KAFKA_CA_FILE']);
    expect(err.message).toContain('CUSTODY_KAFKA_CA_FILE: required when CUSTODY_KAFKA_SECURITY=tls, got nothing (unset)');
  });

  it('a certificate without its key (or the reverse) → refused; the key\'s content is never in the error', () => {
    const noKey = failure({ ...tls, CUSTODY_KAFKA_KEY_FILE: undefined });
    expect(variables(noKey)).toEqual(['CUSTODY_KAFKA_KEY_FILE']);
    const noCert = failure({ ...tls, CUSTODY_KAFKA_CERT_FILE: undefined });
    expect(variables(noCert)).toEqual(['CUSTODY_KAFKA_CERT_FILE']);
    expectNoSecret(noKey);
    expectNoSecret(noCert);
  });

  it('an unreadable file → refused with the variable, the path and the errno, nothing of the other files', () => {
    const err = failure({ ...tls, CUSTODY_KAFKA_CERT_FILE: join(dir, 'missing.crt') });
    expect(err.problems).toEqual([{ variable: 'CUSTODY_KAFKA_CERT_FILE', message: `cannot read ${join(dir, 'missing.crt')} (ENOENT)` }]);
    expectNoSecret(err);
  });

  it('an empty key file → refused', () => {
    expect(failure({ ...tls, CUSTODY_KAFKA_KEY_FILE: file('empty.key', '') }).problems).toEqual([{ variable: 'CUSTODY_KAFKA_KEY_FILE', message: `file ${join(dir, 'empty.key')} is empty` }]);
  });

  it('the options hide the private key from JSON.stringify and util.inspect (a logged config shows no key)', () => {
    const o = kafkaSecurityFromEnv(tls, REMOTE);
    for (const text of [JSON.stringify(o), inspect(o, { depth: 5 }), JSON.stringify({ kafka: { extra: o } })]) {
      expect(text).not.toContain('SECRETKEYMATERIAL');
      expect(text).toContain('[REDACTED]');
    }
  });
});

describe('kafkaSecurityFromEnv: scram-sha-512 (Strimzi KafkaUser authentication scram-sha-512)', () => {
  it('→ SASL SCRAM-SHA-512 as the user, password from the file (trailing newline dropped), over TLS with the CA', () => {
    const o = kafkaSecurityFromEnv(scram, REMOTE);
    expect({ ...(o.sasl as object) }).toEqual({ mechanism: 'scram-sha-512', username: 'custody-ledger', password: PASSWORD });
    expect(Object.keys(Object.assign({}, o.ssl)).sort()).toEqual(['ca', 'rejectUnauthorized']);
  });

  it('the password is never in JSON.stringify / util.inspect of the options', () => {
    const o = kafkaSecurityFromEnv(scram, REMOTE);
    for (const text of [JSON.stringify(o), inspect(o, { depth: 5 })]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).toContain('custody-ledger');
      expect(text).toContain('[REDACTED]');
    }
  });

  it.each(['CUSTODY_KAFKA_CA_FILE', 'CUSTODY_KAFKA_USERNAME', 'CUSTODY_KAFKA_PASSWORD_FILE'])('without %s → refused, and the password is not in the error', (name) => {
    const err = failure({ ...scram, [name]: undefined });
    expect(variables(err)).toEqual([name]);
    expectNoSecret(err);
  });

  it('a password file with two lines, or only a newline → refused without echoing the content', () => {
    const twoLines = failure({ ...scram, CUSTODY_KAFKA_PASSWORD_FILE: file('two-lines', `${PASSWORD}\nsecond-line-${PASSWORD}\n`) });
    expect(twoLines.problems).toEqual([{ variable: 'CUSTODY_KAFKA_PASSWORD_FILE', message: `file ${join(dir, 'two-lines')} must hold the password on one line` }]);
    expectNoSecret(twoLines);
    const newline = failure({ ...scram, CUSTODY_KAFKA_PASSWORD_FILE: file('newline', '\n') });
    expect(newline.problems).toEqual([{ variable: 'CUSTODY_KAFKA_PASSWORD_FILE', message: `file ${join(dir, 'newline')} is empty` }]);
  });

  it('the password in an environment variable is not a way in: only the file is read, and the value is never echoed', () => {
    const err = failure({ CUSTODY_KAFKA_SECURITY: 'scram-sha-512', CUSTODY_KAFKA_CA_FILE: CA, CUSTODY_KAFKA_USERNAME: 'custody-ledger', CUSTODY_KAFKA_PASSWORD: PASSWORD });
    expect(variables(err)).toEqual(['CUSTODY_KAFKA_PASSWORD_FILE']);
    expectNoSecret(err);
  });
});

describe('KAFKA_SECURITY_VARIABLES is what the reader requires (the chart test renders against it)', () => {
  const full: Record<string, Record<string, string>> = { tls, 'scram-sha-512': scram };
  it.each(Object.keys(full))('%s: every required variable missing → refused naming it; all present → accepted', (mode) => {
    const spec = KAFKA_SECURITY_VARIABLES[mode as 'tls' | 'scram-sha-512'];
    const env = full[mode]!;
    expect(Object.keys(env).sort()).toEqual([...spec.required, ...spec.optional].sort());
    expect(() => kafkaSecurityFromEnv(env, REMOTE)).not.toThrow();
    for (const name of spec.required.filter((n) => n !== 'CUSTODY_KAFKA_SECURITY')) expect(variables(failure({ ...env, [name]: undefined }))).toEqual([name]);
  });
});
