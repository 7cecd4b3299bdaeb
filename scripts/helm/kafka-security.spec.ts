// Kafka client security, chart side: every pod gets exactly the CUSTODY_KAFKA_* variables the
// shared reader (kafkaSecurityFromEnv, libs/event-bus/src/adapters/kafka-security.ts) requires
// for the chart's kafka.authentication, each *_FILE points into a mounted Secret item, the reader
// accepts the rendered environment (files materialised under a temporary root) and turns it into
// the authentication the service's KafkaUser expects; and every service's main.ts builds its
// kafkajs client through that reader. Needs .local/bin/helm.
import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { KAFKA_SECURITY_MODES, KAFKA_SECURITY_VARIABLES, KafkaSecurityConfigError, kafkaSecurityFromEnv, type KafkaSecurityMode } from '@custody/event-bus';
import { ROOT, SERVICES, one, render, type Manifest, type ServiceName } from './harness.js';

interface EnvVar {
  name: string;
  value?: string;
}
interface Volume {
  name: string;
  secret?: { secretName: string; items?: { key: string; path: string }[] };
}

const CHART_MODES = ['tls', 'scram-sha-512'] as const satisfies readonly KafkaSecurityMode[];
const rendered: Record<(typeof CHART_MODES)[number], Manifest[]> = {
  tls: render(),
  'scram-sha-512': render(['--set', 'kafka.authentication=scram-sha-512']),
};
const root = mkdtempSync(join(tmpdir(), 'custody-kafka-security-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function pod(ms: readonly Manifest[], svc: ServiceName): { env: Record<string, string>; mounts: { name: string; mountPath: string }[]; volumes: Volume[] } {
  const w = ms.filter((m) => (m.kind === 'Deployment' || m.kind === 'StatefulSet') && m.metadata.name === `custody-${svc}`);
  expect(w).toHaveLength(1);
  const spec = w[0]!.spec.template.spec;
  const c = spec.containers[0];
  return {
    env: Object.fromEntries((c.env as EnvVar[]).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!])),
    mounts: c.volumeMounts,
    volumes: spec.volumes,
  };
}

/** The Secret item a file path resolves to (mount + item path), or undefined. */
function secretItem(p: ReturnType<typeof pod>, file: string): { secretName: string; key: string } | undefined {
  for (const m of p.mounts) {
    if (posix.dirname(file) !== m.mountPath) continue;
    const v = p.volumes.find((x) => x.name === m.name);
    const item = v?.secret?.items?.find((i) => i.path === posix.basename(file));
    if (v?.secret && item) return { secretName: v.secret.secretName, key: item.key };
  }
  return undefined;
}

const ALL_KAFKA_SECURITY_VARIABLES = new Set(KAFKA_SECURITY_MODES.flatMap((m) => [...KAFKA_SECURITY_VARIABLES[m].required, ...KAFKA_SECURITY_VARIABLES[m].optional]));

describe.each(CHART_MODES.map((m) => [m]))('kafka.authentication=%s: every pod gets what kafkaSecurityFromEnv requires', (mode) => {
  const ms = rendered[mode];

  it.each(SERVICES.map((s) => [s]))('%s: the mode\'s required variables (the chart\'s tls also sets the client certificate), no variable of another mode', (svc) => {
    const { env } = pod(ms, svc);
    expect(env.CUSTODY_KAFKA_SECURITY).toBe(mode);
    const spec = KAFKA_SECURITY_VARIABLES[mode];
    for (const name of spec.required) expect([name, env[name]]).toEqual([name, expect.any(String)]);
    if (mode === 'tls') for (const name of spec.optional) expect([name, env[name]]).toEqual([name, expect.any(String)]); // mTLS: the KafkaUser authenticates by certificate
    const set = Object.keys(env).filter((n) => ALL_KAFKA_SECURITY_VARIABLES.has(n));
    for (const name of set) expect([name, [...spec.required, ...spec.optional].includes(name)]).toEqual([name, true]);
    expect(Object.keys(env).filter((n) => /^CUSTODY_KAFKA_/.test(n) && !ALL_KAFKA_SECURITY_VARIABLES.has(n))).toEqual(['CUSTODY_KAFKA_CLIENT_ID']);
    expect(env.CUSTODY_KAFKA_PASSWORD).toBeUndefined();
  });

  it.each(SERVICES.map((s) => [s]))('%s: each *_FILE is an item of a mounted Secret (the KafkaUser\'s own Secret for the credentials, the cluster CA for the CA)', (svc) => {
    const p = pod(ms, svc);
    const files = Object.entries(p.env).filter(([n]) => ALL_KAFKA_SECURITY_VARIABLES.has(n) && n.endsWith('_FILE'));
    expect(files.length).toBe(mode === 'tls' ? 3 : 2);
    for (const [name, path] of files) {
      const item = secretItem(p, path);
      expect([name, item]).toEqual([name, expect.objectContaining({ secretName: name === 'CUSTODY_KAFKA_CA_FILE' ? 'custody-kafka-cluster-ca-cert' : `custody-${svc}` })]);
    }
    const user = p.volumes.find((v) => v.name === 'kafka-user')!.secret!;
    expect(user.items!.map((i) => i.key).sort()).toEqual(mode === 'tls' ? ['user.crt', 'user.key'] : ['password']);
  });

  it.each(SERVICES.map((s) => [s]))('%s: the reader accepts the rendered environment and authenticates the way the KafkaUser is set up', (svc) => {
    const p = pod(ms, svc);
    const user = one(ms, 'KafkaUser', `custody-${svc}`);
    expect(user.spec.authentication).toEqual({ type: mode });
    // materialise the mounted files under a temporary root, and point the variables there
    const env: Record<string, string> = { ...p.env };
    for (const [name, path] of Object.entries(p.env).filter(([n]) => ALL_KAFKA_SECURITY_VARIABLES.has(n) && n.endsWith('_FILE'))) {
      const local = join(root, mode, svc, path);
      mkdirSync(dirname(local), { recursive: true });
      writeFileSync(local, name === 'CUSTODY_KAFKA_PASSWORD_FILE' ? 'generated-by-strimzi' : `-----BEGIN ${name}-----\n`);
      env[name] = local;
    }
    const brokers = env.KAFKA_BROKERS!.split(',');
    const options = kafkaSecurityFromEnv(env, brokers);
    expect((options.ssl as { rejectUnauthorized?: boolean }).rejectUnauthorized).toBe(true);
    if (mode === 'tls') {
      expect(Object.keys(Object.assign({}, options.ssl)).sort()).toEqual(['ca', 'cert', 'key', 'rejectUnauthorized']);
      expect(options.sasl).toBeUndefined();
    } else {
      // the SCRAM user is the KafkaUser (principal User:custody-<svc>, the one the ACLs name)
      expect({ ...(options.sasl as object) }).toEqual({ mechanism: 'scram-sha-512', username: user.metadata.name, password: 'generated-by-strimzi' });
    }
    // and the chart's brokers are not loopback: plaintext would be refused, not silently used
    expect(() => kafkaSecurityFromEnv({ ...env, CUSTODY_KAFKA_SECURITY: 'plaintext' }, brokers)).toThrow(KafkaSecurityConfigError);
  });
});

describe('every service builds its Kafka client through kafkaSecurityFromEnv', () => {
  it.each(SERVICES.map((s) => [s]))('%s: main.ts passes kafkaSecurityFromEnv(process.env, <its brokers>) to every createKafkaClient', (svc) => {
    const main = readFileSync(join(ROOT, 'services', svc, 'src/main.ts'), 'utf8');
    const calls = [...main.matchAll(/createKafkaClient\(\{([^}]*)\}\)/g)].map((m) => m[1]!);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/brokers: (\[\.\.\.)?config\.kafkaBrokers\]?/);
    expect(calls[0]).toMatch(/extra: kafkaSecurityFromEnv\(process\.env, config\.kafkaBrokers\)/);
    expect(main).not.toMatch(/new Kafka\(/);
  });
});
