// One Kafka principal per service on the local broker's SASL_SSL listener (scripts/infra/kafka.sh):
// a SCRAM-SHA-512 user and exactly the ACLs helm/custody/templates/kafka-users.yaml renders for
// the service's KafkaUser — both derived from helm/custody/files/flows.yaml (one source):
//   produces          -> WRITE, DESCRIBE on the topic
//   consumes          -> READ, DESCRIBE on the topic; WRITE, DESCRIBE on <topic>.dlq
//   readsDeadLetters  -> READ, DESCRIBE on <topic>.dlq of every topic of the flows (audit)
//   consumerGroups    -> READ on each group (literal names)
// Literal resources only, ALLOW only, host '*'. Idempotent: the credential is set only when the
// password does not authenticate, ACLs missing are created and ACLs of the principal that the
// flows no longer grant are deleted (a removed flow is revoked).
//
//   node scripts/infra/kafka-principals.mjs [--secrets DIR]   (default .local/distributed)
// writes DIR/kafka-<svc>.password (0600, generated once) for User:custody-<svc>, using
// KAFKA_BROKERS (PLAINTEXT, the super user: admin), KAFKA_SASL_BROKERS and KAFKA_SASL_CA_FILE
// from .local/infra.env (or the environment).
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import kafkajs from 'kafkajs';
import { parse } from 'yaml';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const FLOWS_FILE = join(ROOT, 'helm/custody/files/flows.yaml');
/** The KafkaUser name of a service in the chart (custody.fullname): also the local SCRAM user. */
export const principalName = (svc, prefix = 'custody-') => `${prefix}${svc}`;

/** { services: { <svc>: { produces, consumes, consumerGroups, readsDeadLetters, ... } } } */
export function loadFlows(path = FLOWS_FILE) {
  return parse(readFileSync(path, 'utf8'));
}

/**
 * The ACLs of one service, as { resourceType: 'topic' | 'group', name, operation }, sorted and
 * without duplicates. `topic`/`group` map the flows' names (identity; tests prefix them).
 */
export function serviceAcls(flows, svc, { topic = (t) => t, group = (g) => g } = {}) {
  const flow = flows.services?.[svc];
  if (!flow) throw new Error(`no service ${JSON.stringify(svc)} in flows.yaml`);
  const out = new Map();
  const add = (resourceType, name, ...operations) => {
    for (const operation of operations) out.set(`${resourceType}\0${name}\0${operation}`, { resourceType, name, operation });
  };
  for (const t of flow.produces ?? []) add('topic', topic(t), 'WRITE', 'DESCRIBE');
  for (const t of flow.consumes ?? []) {
    add('topic', topic(t), 'READ', 'DESCRIBE');
    add('topic', topic(`${t}.dlq`), 'WRITE', 'DESCRIBE');
  }
  if (flow.readsDeadLetters) {
    const all = new Set(Object.values(flows.services).flatMap((f) => [...(f.consumes ?? []), ...(f.produces ?? [])]));
    for (const t of all) add('topic', topic(`${t}.dlq`), 'READ', 'DESCRIBE');
  }
  if ((flow.consumes ?? []).length > 0 && !(flow.consumerGroups ?? []).length) throw new Error(`${svc} consumes topics but flows.yaml names no consumerGroups`);
  for (const g of flow.consumerGroups ?? []) {
    if (!/^[A-Za-z0-9._-]+$/.test(g)) throw new Error(`consumer group ${JSON.stringify(g)} of ${svc} must be a literal name`);
    add('group', group(g), 'READ');
  }
  return [...out.values()].sort((a, b) => `${a.resourceType} ${a.name} ${a.operation}`.localeCompare(`${b.resourceType} ${b.name} ${b.operation}`));
}

const RESOURCE = { topic: AclResourceTypes.TOPIC, group: AclResourceTypes.GROUP };
const RESOURCE_NAME = { [AclResourceTypes.TOPIC]: 'topic', [AclResourceTypes.GROUP]: 'group' };
const OPERATION_NAME = Object.fromEntries(Object.entries(AclOperationTypes).map(([k, v]) => [v, k]));
const key = (a) => `${a.resourceType}\0${a.name}\0${a.operation}`;
const toKafka = (principal) => (a) => ({
  resourceType: RESOURCE[a.resourceType],
  resourceName: a.name,
  resourcePatternType: ResourcePatternTypes.LITERAL,
  principal,
  host: '*',
  operation: AclOperationTypes[a.operation],
  permissionType: AclPermissionTypes.ALLOW,
});

/** The ACLs the broker holds for `principal` ('User:x'), in the form of serviceAcls (+ patternType/permission/host). */
export async function describePrincipalAcls(admin, principal) {
  const { resources } = await admin.describeAcls({
    resourceType: AclResourceTypes.ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    principal,
    host: undefined, // any host
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  return resources.flatMap((r) =>
    r.acls.map((a) => ({
      resourceType: RESOURCE_NAME[r.resourceType] ?? String(r.resourceType),
      name: r.resourceName,
      operation: OPERATION_NAME[a.operation] ?? String(a.operation),
      literal: r.resourcePatternType === ResourcePatternTypes.LITERAL,
      allow: a.permissionType === AclPermissionTypes.ALLOW,
      host: a.host,
    })),
  );
}

/** Makes the broker's ACLs of `principal` exactly `wanted`. Returns { created, deleted } counts. */
export async function ensurePrincipalAcls(admin, principal, wanted) {
  const have = await describePrincipalAcls(admin, principal);
  const exact = (a) => a.literal && a.allow && a.host === '*';
  const haveKeys = new Set(have.filter(exact).map(key));
  const wantedKeys = new Set(wanted.map(key));
  const missing = wanted.filter((a) => !haveKeys.has(key(a)));
  const extra = have.filter((a) => !exact(a) || !wantedKeys.has(key(a)));
  if (extra.length > 0) {
    await admin.deleteAcls({
      filters: extra.map((a) => ({
        resourceType: RESOURCE[a.resourceType] ?? AclResourceTypes.ANY,
        resourceName: a.name,
        resourcePatternType: a.literal ? ResourcePatternTypes.LITERAL : ResourcePatternTypes.ANY,
        principal,
        host: a.host,
        operation: AclOperationTypes[a.operation] ?? AclOperationTypes.ANY,
        permissionType: a.allow ? AclPermissionTypes.ALLOW : AclPermissionTypes.DENY,
      })),
    });
  }
  if (missing.length > 0) await admin.createAcls({ acl: missing.map(toKafka(principal)) });
  return { created: missing.length, deleted: extra.length };
}

/** kafkajs options for `user` on the SASL_SSL listener. */
export function saslClientConfig({ saslBrokers, caFile, user, password, clientId = user }) {
  return {
    clientId,
    brokers: saslBrokers,
    logLevel: logLevel.NOTHING,
    ssl: { rejectUnauthorized: true, ca: readFileSync(caFile) },
    sasl: { mechanism: 'scram-sha-512', username: user, password },
    connectionTimeout: 3000,
    retry: { retries: 0 },
  };
}

/** True if `user` authenticates with `password` (SCRAM-SHA-512); false on an authentication failure. */
export async function authenticates(opts) {
  const admin = new Kafka(saslClientConfig(opts)).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch (err) {
    if (err?.name === 'KafkaJSSASLAuthenticationError') return false;
    throw err;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/**
 * Sets `user`'s SCRAM-SHA-512 credential to the password in `passwordFile` unless it already
 * authenticates (kafka.sh scram-user: Kafka's ConfigCommand; kafkajs cannot alter SCRAM
 * credentials). Waits until the broker accepts it. Returns true if it was (re)set.
 */
export async function ensureScramUser({ saslBrokers, caFile, user, passwordFile }) {
  const password = readFileSync(passwordFile, 'utf8').replace(/\r?\n$/, '');
  if (await authenticates({ saslBrokers, caFile, user, password })) return false;
  // ~5 s of JVM each: callers run several at once (ensureServicePrincipals)
  await new Promise((res, rej) =>
    execFile('bash', [join(ROOT, 'scripts/infra/kafka.sh'), 'scram-user', user, passwordFile], { cwd: ROOT, encoding: 'utf8' }, (err, _stdout, stderr) =>
      err ? rej(new Error(`kafka.sh scram-user ${user} failed (exit ${err.code ?? err.signal}): ${String(stderr).trim().slice(-400)}`)) : res(),
    ),
  );
  for (let i = 0; i < 50; i++) {
    if (await authenticates({ saslBrokers, caFile, user, password })) return true;
    await new Promise((res) => setTimeout(res, 200));
  }
  throw new Error(`the SCRAM credential of ${user} was set but the broker does not accept it`);
}

/** A password generated once into `path` (0600) and reused. */
export function passwordFile(path) {
  if (!existsSync(path)) {
    mkdirSync(resolve(path, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(path, `${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  return path;
}

/** KAFKA_BROKERS, KAFKA_SASL_BROKERS, KAFKA_SASL_CA_FILE: the environment first, then .local/infra.env. */
export function kafkaInfra(env = process.env) {
  const file = {};
  const path = join(ROOT, '.local/infra.env');
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
      if (m) file[m[1]] = m[2];
    }
  }
  const get = (k) => env[k] || file[k];
  const missing = ['KAFKA_BROKERS', 'KAFKA_SASL_BROKERS', 'KAFKA_SASL_CA_FILE'].filter((k) => !get(k));
  if (missing.length > 0) throw new Error(`${missing.join(', ')} missing from .local/infra.env: the broker has no SASL_SSL listener yet — run bash scripts/infra/up.sh`);
  return { brokers: get('KAFKA_BROKERS').split(','), saslBrokers: get('KAFKA_SASL_BROKERS').split(','), caFile: get('KAFKA_SASL_CA_FILE') };
}

/**
 * For every service of flows.yaml: user `principalName(svc, prefix)` with the password in
 * `<secretsDir>/kafka-<svc>.password`, and its ACLs. Returns { <svc>: { user, passwordFile, acls, created, deleted, credentialSet } }.
 */
export async function ensureServicePrincipals({ secretsDir, prefix = 'custody-', flows = loadFlows(), topic, group, infra = kafkaInfra() }) {
  const admin = new Kafka({ clientId: 'custody-kafka-principals', brokers: infra.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  const out = {};
  try {
    const services = Object.keys(flows.services);
    const set = await Promise.all(
      services.map((svc) => ensureScramUser({ saslBrokers: infra.saslBrokers, caFile: infra.caFile, user: principalName(svc, prefix), passwordFile: passwordFile(join(secretsDir, `kafka-${svc}.password`)) })),
    );
    for (const [i, svc] of services.entries()) {
      const user = principalName(svc, prefix);
      const acls = serviceAcls(flows, svc, { topic, group });
      const { created, deleted } = await ensurePrincipalAcls(admin, `User:${user}`, acls);
      out[svc] = { user, passwordFile: join(secretsDir, `kafka-${svc}.password`), acls, created, deleted, credentialSet: set[i] };
    }
  } finally {
    await admin.disconnect();
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--secrets');
  const secretsDir = resolve(ROOT, i > 0 ? process.argv[i + 1] : '.local/distributed');
  ensureServicePrincipals({ secretsDir }).then(
    (r) => {
      for (const [svc, p] of Object.entries(r)) {
        process.stdout.write(`kafka-principals: User:${p.user} (${svc}) ${p.acls.length} ACLs (+${p.created} -${p.deleted})${p.credentialSet ? ', SCRAM credential set' : ''}\n`);
      }
    },
    (err) => {
      process.stderr.write(`kafka-principals: ${err.message}\n`);
      process.exit(1);
    },
  );
}
