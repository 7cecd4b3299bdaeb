// How a service's Kafka client authenticates, from the environment: the one reader every
// services/<svc>/src/main.ts uses (names set by helm/custody/templates/_pod.tpl).
//
//   CUSTODY_KAFKA_SECURITY=tls            TLS, server verified against CUSTODY_KAFKA_CA_FILE; with
//                                         CUSTODY_KAFKA_CERT_FILE + CUSTODY_KAFKA_KEY_FILE the client
//                                         presents its certificate (mTLS: Strimzi KafkaUser
//                                         `authentication: tls`, principal = the certificate's CN)
//   CUSTODY_KAFKA_SECURITY=scram-sha-512  TLS as above (CA required) + SASL SCRAM-SHA-512 as
//                                         CUSTODY_KAFKA_USERNAME, password read from
//                                         CUSTODY_KAFKA_PASSWORD_FILE (Strimzi `scram-sha-512`)
//   CUSTODY_KAFKA_SECURITY=plaintext      no TLS, no authentication: refused unless EVERY broker is
//                                         a loopback address (local tests, dev). Also the meaning of
//                                         an unset CUSTODY_KAFKA_SECURITY, so an unconfigured pod
//                                         pointed at a real cluster fails at start, closed.
//
// Secrets (the password, the private key) are read from files, never from the environment;
// no error message carries a file's content, and the returned options hide them from
// JSON.stringify / util.inspect (a logged config shows "[REDACTED]").
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { inspect } from 'node:util';
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import { z } from 'zod';

export const KAFKA_SECURITY_MODES = ['plaintext', 'tls', 'scram-sha-512'] as const;
export type KafkaSecurityMode = (typeof KAFKA_SECURITY_MODES)[number];

/** The variables each mode requires (a deployment must set all of them) and may set. */
export const KAFKA_SECURITY_VARIABLES: Readonly<Record<KafkaSecurityMode, { readonly required: readonly string[]; readonly optional: readonly string[] }>> = {
  plaintext: { required: [], optional: ['CUSTODY_KAFKA_SECURITY'] },
  tls: { required: ['CUSTODY_KAFKA_SECURITY', 'CUSTODY_KAFKA_CA_FILE'], optional: ['CUSTODY_KAFKA_CERT_FILE', 'CUSTODY_KAFKA_KEY_FILE'] },
  'scram-sha-512': { required: ['CUSTODY_KAFKA_SECURITY', 'CUSTODY_KAFKA_CA_FILE', 'CUSTODY_KAFKA_USERNAME', 'CUSTODY_KAFKA_PASSWORD_FILE'], optional: [] },
};

/** kafkajs settings for createKafkaClient({ extra }). */
export type KafkaSecurityOptions = Pick<KafkaConfig, 'ssl' | 'sasl'>;

export interface KafkaSecurityProblem {
  readonly variable: string;
  /** Never contains a secret (file contents are not read into messages). */
  readonly message: string;
}

export class KafkaSecurityConfigError extends Error {
  override readonly name = 'KafkaSecurityConfigError';
  readonly problems: readonly KafkaSecurityProblem[];
  constructor(problems: readonly KafkaSecurityProblem[]) {
    super(`invalid Kafka client security (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  ${p.variable}: ${p.message}`).join('\n')}`);
    this.problems = Object.freeze([...problems]);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const file = z.string().trim().min(1, 'expected a file path');
const schema = z.discriminatedUnion('CUSTODY_KAFKA_SECURITY', [
  z.object({ CUSTODY_KAFKA_SECURITY: z.literal('plaintext') }),
  z.object({
    CUSTODY_KAFKA_SECURITY: z.literal('tls'),
    CUSTODY_KAFKA_CA_FILE: file,
    CUSTODY_KAFKA_CERT_FILE: file.optional(),
    CUSTODY_KAFKA_KEY_FILE: file.optional(),
  }),
  z.object({
    CUSTODY_KAFKA_SECURITY: z.literal('scram-sha-512'),
    CUSTODY_KAFKA_CA_FILE: file,
    CUSTODY_KAFKA_USERNAME: z.string().trim().min(1, 'expected the KafkaUser name').max(255),
    CUSTODY_KAFKA_PASSWORD_FILE: file,
  }),
]);

const REDACTED = '[REDACTED]';
const LOOPBACK_NAMES = new Set(['localhost', 'ip6-localhost']);

/** Host part of "host:port" / "[v6]:port"; undefined when the entry is not of that shape. */
function hostOf(broker: string): string | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:[0-9]{1,5}$/.exec(broker) ?? /^([^:\s[\]]+):[0-9]{1,5}$/.exec(broker);
  return m?.[1];
}

export function isLoopbackBroker(broker: string): boolean {
  const host = hostOf(broker.trim())?.toLowerCase();
  if (host === undefined) return false;
  if (LOOPBACK_NAMES.has(host)) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}

/** Hides the value from JSON.stringify and util.inspect (loggers) while kafkajs/tls still read it. */
function redacted<T extends object>(value: T, shown: (v: T) => Record<string, unknown>): T {
  Object.defineProperty(value, 'toJSON', { value: () => shown(value), enumerable: false });
  Object.defineProperty(value, inspect.custom, { value: () => shown(value), enumerable: false });
  return value;
}

/**
 * kafkajs `ssl`/`sasl` options for the brokers the client will use, from CUSTODY_KAFKA_*.
 * Reads the CA, certificate, key and password files now. Throws a
 * {@link KafkaSecurityConfigError} naming every bad variable (never a secret).
 */
export function kafkaSecurityFromEnv(env: Env, brokers: readonly string[]): KafkaSecurityOptions {
  const raw: Env & { readonly CUSTODY_KAFKA_SECURITY: string } = { ...env, CUSTODY_KAFKA_SECURITY: env.CUSTODY_KAFKA_SECURITY?.trim() || 'plaintext' };
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const problems = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const variable = typeof issue.path[0] === 'string' ? issue.path[0] : '(config)';
      const message =
        variable === 'CUSTODY_KAFKA_SECURITY'
          ? `expected one of ${KAFKA_SECURITY_MODES.join(' | ')}, got ${JSON.stringify(raw.CUSTODY_KAFKA_SECURITY.slice(0, 40))}`
          : raw[variable] === undefined
            ? `required when CUSTODY_KAFKA_SECURITY=${raw.CUSTODY_KAFKA_SECURITY}, got nothing (unset)`
            : issue.message;
      if (!problems.has(variable)) problems.set(variable, message);
    }
    throw new KafkaSecurityConfigError([...problems].map(([variable, message]) => ({ variable, message })));
  }
  const e = parsed.data;
  const problems: KafkaSecurityProblem[] = [];
  const read = (variable: string, path: string): Buffer | undefined => {
    try {
      const content = readFileSync(path);
      if (content.length === 0) problems.push({ variable, message: `file ${path} is empty` });
      return content;
    } catch (err) {
      problems.push({ variable, message: `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
      return undefined;
    }
  };

  if (brokers.length === 0) problems.push({ variable: 'KAFKA_BROKERS', message: 'expected at least one broker' });
  if (e.CUSTODY_KAFKA_SECURITY === 'plaintext') {
    const remote = brokers.filter((b) => !isLoopbackBroker(b));
    if (remote.length > 0) {
      problems.push({
        variable: 'CUSTODY_KAFKA_SECURITY',
        message: `plaintext (${env.CUSTODY_KAFKA_SECURITY?.trim() ? 'set' : 'the default when unset'}) is allowed only with loopback brokers, got ${remote.map((b) => JSON.stringify(b.slice(0, 100))).join(', ')}: set tls or scram-sha-512`,
      });
    }
    if (problems.length > 0) throw new KafkaSecurityConfigError(problems);
    return {};
  }

  const ca = read('CUSTODY_KAFKA_CA_FILE', e.CUSTODY_KAFKA_CA_FILE);
  if (e.CUSTODY_KAFKA_SECURITY === 'tls') {
    const hasCert = e.CUSTODY_KAFKA_CERT_FILE !== undefined;
    const hasKey = e.CUSTODY_KAFKA_KEY_FILE !== undefined;
    if (hasCert !== hasKey) {
      problems.push({ variable: hasCert ? 'CUSTODY_KAFKA_KEY_FILE' : 'CUSTODY_KAFKA_CERT_FILE', message: 'expected CUSTODY_KAFKA_CERT_FILE and CUSTODY_KAFKA_KEY_FILE together (mTLS) or neither' });
    }
    const cert = e.CUSTODY_KAFKA_CERT_FILE !== undefined && hasKey ? read('CUSTODY_KAFKA_CERT_FILE', e.CUSTODY_KAFKA_CERT_FILE) : undefined;
    const key = e.CUSTODY_KAFKA_KEY_FILE !== undefined && hasCert ? read('CUSTODY_KAFKA_KEY_FILE', e.CUSTODY_KAFKA_KEY_FILE) : undefined;
    if (problems.length > 0) throw new KafkaSecurityConfigError(problems);
    const ssl: ConnectionOptions = { rejectUnauthorized: true, ca: ca!, ...(cert && key ? { cert, key } : {}) };
    return { ssl: redacted(ssl, (s) => ({ rejectUnauthorized: true, ca: 'file', ...(s.key ? { cert: 'file', key: REDACTED } : {}) })) };
  }

  const password = read('CUSTODY_KAFKA_PASSWORD_FILE', e.CUSTODY_KAFKA_PASSWORD_FILE)
    ?.toString('utf8')
    .replace(/\r?\n$/, '');
  if (password !== undefined && password.length > 0 && /[\r\n]/.test(password)) {
    problems.push({ variable: 'CUSTODY_KAFKA_PASSWORD_FILE', message: `file ${e.CUSTODY_KAFKA_PASSWORD_FILE} must hold the password on one line` });
  } else if (password === '') {
    // a file holding only a newline
    if (!problems.some((p) => p.variable === 'CUSTODY_KAFKA_PASSWORD_FILE')) problems.push({ variable: 'CUSTODY_KAFKA_PASSWORD_FILE', message: `file ${e.CUSTODY_KAFKA_PASSWORD_FILE} is empty` });
  }
  if (problems.length > 0) throw new KafkaSecurityConfigError(problems);
  const ssl: ConnectionOptions = { rejectUnauthorized: true, ca: ca! };
  const sasl: SASLOptions = { mechanism: 'scram-sha-512', username: e.CUSTODY_KAFKA_USERNAME, password: password! };
  return {
    ssl: redacted(ssl, () => ({ rejectUnauthorized: true, ca: 'file' })),
    sasl: redacted(sasl, (s) => ({ mechanism: s.mechanism, username: e.CUSTODY_KAFKA_USERNAME, password: REDACTED })),
  };
}
