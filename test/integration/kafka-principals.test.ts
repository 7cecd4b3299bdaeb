// Per-service Kafka principals on a real broker: the SASL_SSL listener of scripts/infra/kafka.sh
// (SCRAM-SHA-512 over TLS, KRaft StandardAuthorizer, no allow-if-no-ACL) with the users and ACLs
// scripts/infra/kafka-principals.mjs derives from helm/custody/files/flows.yaml — the same file
// the chart's KafkaUsers come from (compared below with `helm template`).
//
// Each run uses its own users, topics and groups: every flows.yaml name gets the prefix
// `kp-<random>-` (so parallel runs and the distributed deployment's custody-<svc> users are not
// touched). The clients are built the way every services/<svc>/src/main.ts builds its own:
// createKafkaClient({ extra: kafkaSecurityFromEnv(CUSTODY_KAFKA_*) }).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import {
  describePrincipalAcls,
  ensurePrincipalAcls,
  ensureServicePrincipals,
  loadFlows,
  principalName,
  serviceAcls,
  type Flows,
  type KafkaInfra,
  type ServicePrincipal,
} from '../../scripts/infra/kafka-principals.mjs';
import { createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { one, render } from '../../scripts/helm/harness.js';

const ROOT = process.cwd();

function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run bash scripts/infra/up.sh (it writes .local/infra.env with the SASL_SSL listener)`);
  return value;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
const rand = (): string => randomBytes(5).toString('hex');
const prefix = `kp-${rand()}-`;
const topic = (t: string): string => `${prefix}${t}`;
const group = (g: string): string => `${prefix}${g}`;

const flows: Flows = loadFlows();
// intake produces withdrawal.requested, risk consumes it (group risk-screening) and produces
// risk.assessed; neither may touch the other's topics or groups, nor signer's key.lifecycle.
const SUBSET: Flows = { services: { intake: flows.services.intake!, risk: flows.services.risk! } };
const REQUESTED = 'custody.withdrawal.requested.v1';
const ASSESSED = 'custody.risk.assessed.v1';
const FOREIGN = 'custody.key.lifecycle.v1'; // signer's, read by neither intake nor risk
const RISK_GROUP = flows.services.risk!.consumerGroups![0]!;
const INTAKE_GROUP = flows.services.intake!.consumerGroups![0]!;

const infra = (): KafkaInfra => ({ brokers: requireEnv('KAFKA_BROKERS').split(','), saslBrokers: requireEnv('KAFKA_SASL_BROKERS').split(','), caFile: requireEnv('KAFKA_SASL_CA_FILE') });

/** A service's client exactly as its main.ts makes it, from CUSTODY_KAFKA_* (scram-sha-512). */
function serviceClient(user: string, passwordFile: string): Kafka {
  const brokers = infra().saslBrokers;
  const env = { CUSTODY_KAFKA_SECURITY: 'scram-sha-512', CUSTODY_KAFKA_CA_FILE: infra().caFile, CUSTODY_KAFKA_USERNAME: user, CUSTODY_KAFKA_PASSWORD_FILE: passwordFile };
  return createKafkaClient({ brokers, clientId: `${user}-test`, logLevel: 'nothing', extra: kafkaSecurityFromEnv(env, brokers) });
}

/** The Kafka error code kafkajs carries (on the error or the one it wraps), else the error's name. */
function errorType(err: unknown): string {
  for (let e = err as { type?: string; name?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.type) return e.type;
    e = (e.cause ?? e.originalError) as typeof e;
  }
  return (err as Error).name;
}

/** Sends one record; resolves to the kafkajs error type ('OK' if it was written). */
async function produce(kafka: Kafka, topicName: string, value: string): Promise<string> {
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
  try {
    await producer.connect();
    await producer.send({ topic: topicName, acks: -1, messages: [{ key: 'k', value }] });
    return 'OK';
  } catch (err) {
    return errorType(err);
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

/** Joins `groupId` on `topicName` and waits for a record with `value`, or for the consumer to crash: 'OK' | the error type. */
async function consumeOne(kafka: Kafka, groupId: string, topicName: string, value: string): Promise<string> {
  const consumer: Consumer = kafka.consumer({ groupId, retry: { retries: 0, restartOnFailure: async () => false } });
  let outcome: string | undefined;
  consumer.on(consumer.events.CRASH, (e) => {
    outcome ??= errorType(e.payload.error);
  });
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topicName], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value?.toString() === value) outcome ??= 'OK';
      },
    });
    await waitFor(async () => outcome !== undefined, 60_000, () => `no record ${value} and no error on ${topicName} in group ${groupId}`);
    return outcome!;
  } catch (err) {
    return outcome ?? errorType(err);
  } finally {
    await consumer.disconnect().catch(() => undefined);
  }
}

/**
 * One of Kafka's own CLI tools (the Java client, not ours: kafka.sh tool) as `user` on the
 * SASL_SSL listener: exit status and stderr (the Java exceptions name the refusal exactly).
 */
function javaTool(tool: 'ConsoleProducer' | 'consumer.ConsoleConsumer', user: string, password: string, args: readonly string[], input = ''): { status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kafka-principals-java-'));
  const config = join(dir, 'client.properties');
  writeFileSync(
    config,
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${infra().caFile}`,
      'max.block.ms=10000',
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  try {
    const r = spawnSync('bash', [join(ROOT, 'scripts/infra/kafka.sh'), 'tool', tool, '--bootstrap-server', infra().saslBrokers[0]!, '--command-config', config, ...args], {
      cwd: ROOT,
      input,
      encoding: 'utf8',
      timeout: 90_000,
    });
    return { status: r.status, stderr: r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
const javaProduce = (user: string, password: string, topicName: string, value: string) => javaTool('ConsoleProducer', user, password, ['--topic', topicName, '--sync'], `${value}\n`);
const javaConsume = (user: string, password: string, topicName: string, groupId: string) =>
  javaTool('consumer.ConsoleConsumer', user, password, ['--topic', topicName, '--group', groupId, '--from-beginning', '--max-messages', '1', '--timeout-ms', '20000']);

let admin: Admin;
let secrets: string;
let principals: Record<string, ServicePrincipal>;
const password = (svc: string): string => readFileSync(principals[svc]!.passwordFile, 'utf8').trim();
const user = (svc: string): string => principalName(svc, prefix);

beforeAll(async () => {
  secrets = mkdtempSync(join(tmpdir(), 'kafka-principals-'));
  admin = createKafkaClient({ brokers: infra().brokers, clientId: `${prefix}admin`, logLevel: 'nothing' }).admin();
  await admin.connect();
  // the deployment's topic creation: the admin (PLAINTEXT listener, super user), not a service
  await admin.createTopics({ topics: [REQUESTED, ASSESSED, FOREIGN, `${REQUESTED}.dlq`].map((t) => ({ topic: topic(t), numPartitions: 1 })), waitForLeaders: true });
  principals = await ensureServicePrincipals({ secretsDir: secrets, prefix, flows: SUBSET, topic, group, infra: infra() });
}, 180_000);

afterAll(async () => {
  for (const svc of Object.keys(SUBSET.services)) {
    await ensurePrincipalAcls(admin, `User:${user(svc)}`, []).catch(() => undefined); // the test's ACLs go; its SCRAM users stay (harmless, random names)
  }
  await admin.deleteGroups([group(RISK_GROUP), group(INTAKE_GROUP)]).catch(() => undefined);
  await admin.deleteTopics({ topics: [REQUESTED, ASSESSED, FOREIGN, `${REQUESTED}.dlq`].map(topic), timeout: 10_000 }).catch(() => undefined);
  await admin.disconnect();
  rmSync(secrets, { recursive: true, force: true });
});

describe('C-9.3.10.2-a message bus: per-service Kafka principals with exactly the flows of helm/custody/files/flows.yaml, default deny', () => {
  it('the ACLs derived for every service are the ones the chart renders for its KafkaUser (one source: flows.yaml)', () => {
    const manifests = render();
    for (const svc of Object.keys(flows.services)) {
      const rendered = (one(manifests, 'KafkaUser', `custody-${svc}`).spec.authorization.acls as Array<{ resource: { type: string; name: string; patternType: string }; operations: string[] }>).flatMap((a) =>
        a.operations.map((op) => `${a.resource.type} ${a.resource.patternType} ${a.resource.name} ${op.toUpperCase()}`),
      );
      const derived = serviceAcls(flows, svc).map((a) => `${a.resourceType} literal ${a.name} ${a.operation}`);
      expect({ svc, acls: [...new Set(rendered)].sort() }).toEqual({ svc, acls: derived.sort() });
    }
  });

  it('the broker holds exactly the derived ACLs for each principal; a second run changes nothing; an ACL the flows do not grant is revoked', async () => {
    for (const svc of Object.keys(SUBSET.services)) {
      const held = await describePrincipalAcls(admin, `User:${user(svc)}`);
      expect(held.every((a) => a.literal && a.allow && a.host === '*')).toBe(true);
      expect(held.map((a) => `${a.resourceType} ${a.name} ${a.operation}`).sort()).toEqual(serviceAcls(SUBSET, svc, { topic, group }).map((a) => `${a.resourceType} ${a.name} ${a.operation}`).sort());
    }
    // a stray grant (READ on signer's key.lifecycle) is removed by the next run
    await ensurePrincipalAcls(admin, `User:${user('intake')}`, [...serviceAcls(SUBSET, 'intake', { topic, group }), { resourceType: 'topic', name: topic(FOREIGN), operation: 'READ' }]);
    const strayHeld = async (): Promise<boolean> => (await describePrincipalAcls(admin, `User:${user('intake')}`)).some((a) => a.name === topic(FOREIGN));
    await waitFor(strayHeld, 10_000, () => 'the stray ACL to be visible'); // ACL changes reach the broker through the metadata log
    const again = await ensureServicePrincipals({ secretsDir: secrets, prefix, flows: SUBSET, topic, group, infra: infra() });
    expect(Object.values(again).map((p) => [p.user, p.credentialSet, p.created])).toEqual(Object.values(principals).map((p) => [p.user, false, 0]));
    expect(again.intake!.deleted).toBe(1);
    expect(again.risk!.deleted).toBe(0);
    await waitFor(async () => !(await strayHeld()), 10_000, () => 'the stray ACL to be gone');
  }, 120_000);

  it('a service produces to its own topic and the consuming service reads it in its own group', async () => {
    const value = `requested-${rand()}`;
    expect(await produce(serviceClient(user('intake'), principals.intake!.passwordFile), topic(REQUESTED), value)).toBe('OK');
    expect(await consumeOne(serviceClient(user('risk'), principals.risk!.passwordFile), group(RISK_GROUP), topic(REQUESTED), value)).toBe('OK');
  }, 120_000);

  it("producing to another service's topic is refused: TOPIC_AUTHORIZATION_FAILED", async () => {
    const intake = serviceClient(user('intake'), principals.intake!.passwordFile);
    expect(await produce(intake, topic(ASSESSED), 'forged risk assessment')).toBe('TOPIC_AUTHORIZATION_FAILED');
    expect(await produce(intake, topic(FOREIGN), 'forged key event')).toBe('TOPIC_AUTHORIZATION_FAILED');
    // risk consumes withdrawal.requested: reading it does not let it write it
    expect(await produce(serviceClient(user('risk'), principals.risk!.passwordFile), topic(REQUESTED), 'forged request')).toBe('TOPIC_AUTHORIZATION_FAILED');
  }, 120_000);

  it("consuming in another service's consumer group is refused: GROUP_AUTHORIZATION_FAILED (a topic it may read, a group it may not)", async () => {
    // Kafka's Java client reports the broker's error code as it is
    // (the console consumer logs the error, terminates and exits 0)
    const java = javaConsume(user('risk'), password('risk'), topic(REQUESTED), group(INTAKE_GROUP));
    expect(java.stderr).toContain(`GroupAuthorizationException: Not authorized to access group: ${group(INTAKE_GROUP)}`);
    expect(java.stderr).toContain('Processed a total of 0 messages');
    // kafkajs (the services' client) never joins: it reports the refused FindCoordinator as "coordinator not found"
    expect(await consumeOne(serviceClient(user('risk'), principals.risk!.passwordFile), group(INTAKE_GROUP), topic(REQUESTED), 'never')).toBe('KafkaJSGroupCoordinatorNotFound');
    // the same principal in its own group reads the same topic (a new record: the group has committed offsets)
    expect(await produce(serviceClient(user('intake'), principals.intake!.passwordFile), topic(REQUESTED), `more-${rand()}`)).toBe('OK');
    const own = javaConsume(user('risk'), password('risk'), topic(REQUESTED), group(RISK_GROUP));
    expect({ status: own.status, exception: /Exception/.test(own.stderr), processed: /Processed a total of 1 messages/.test(own.stderr) }).toEqual({ status: 0, exception: false, processed: true });
  }, 180_000);

  it("reading a topic outside the service's flows is refused, even in its own group: TOPIC_AUTHORIZATION_FAILED", async () => {
    const java = javaConsume(user('intake'), password('intake'), topic(FOREIGN), group(INTAKE_GROUP));
    expect(java.stderr).toContain('Processed a total of 0 messages');
    expect(java.stderr).toContain(`TopicAuthorizationException: Not authorized to access topics: [${topic(FOREIGN)}]`);
    const a = serviceClient(user('intake'), principals.intake!.passwordFile).admin();
    await a.connect();
    try {
      await expect(a.fetchTopicMetadata({ topics: [topic(FOREIGN)] })).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED' });
    } finally {
      await a.disconnect();
    }
  }, 180_000);
});

describe('C-9.3.10.2-b message bus: a client without the service identity is rejected (SCRAM-SHA-512 over TLS on the real broker)', () => {
  it('a wrong password or an unknown user fails SASL authentication; the right one connects', async () => {
    const wrong = join(secrets, 'wrong.password');
    writeFileSync(wrong, `${rand()}${rand()}\n`, { mode: 0o600 });
    const connect = async (u: string, file: string): Promise<string> => {
      const a = serviceClient(u, file).admin();
      try {
        await a.connect();
        await a.describeCluster();
        return 'OK';
      } catch (err) {
        return (err as Error).name;
      } finally {
        await a.disconnect().catch(() => undefined);
      }
    };
    expect(await connect(user('intake'), wrong)).toBe('KafkaJSSASLAuthenticationError');
    expect(await connect(`${prefix}nobody`, principals.intake!.passwordFile)).toBe('KafkaJSSASLAuthenticationError');
    expect(await connect(user('intake'), principals.risk!.passwordFile)).toBe('KafkaJSSASLAuthenticationError');
    expect(await connect(user('intake'), principals.intake!.passwordFile)).toBe('OK');
  }, 60_000);

  it('the credentials are generated into 0600 files, one per service, all different', () => {
    const files = Object.values(principals).map((p) => p.passwordFile);
    for (const f of files) expect((spawnSync('stat', ['-c', '%a', f], { encoding: 'utf8' }).stdout ?? '').trim()).toBe('600');
    expect(new Set(Object.keys(principals).map(password)).size).toBe(files.length);
  });

  it("interop: Kafka's own Java console producer (not ours) authenticates with SCRAM, writes its topic, is refused a foreign one and a wrong password", async () => {
    const value = `java-${rand()}`;
    const own = javaProduce(user('intake'), password('intake'), topic(REQUESTED), value);
    expect({ status: own.status, exception: /Exception/.test(own.stderr) }).toEqual({ status: 0, exception: false });
    expect(await consumeOne(serviceClient(user('risk'), principals.risk!.passwordFile), group(RISK_GROUP), topic(REQUESTED), value)).toBe('OK');

    const foreign = javaProduce(user('intake'), password('intake'), topic(ASSESSED), 'forged');
    expect(foreign.status).not.toBe(0);
    expect(foreign.stderr).toContain(`TopicAuthorizationException: Not authorized to access topics: [${topic(ASSESSED)}]`);

    const bad = javaProduce(user('intake'), `${rand()}${rand()}`, topic(REQUESTED), 'x');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toContain('SaslAuthenticationException: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512');
  }, 240_000);
});
