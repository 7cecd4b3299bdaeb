// Proves the real infrastructure from scripts/infra/up.sh is there and usable:
// PostgreSQL 18 via `pg`, Kafka via kafkajs cross-checked with kcat (a client that is not
// ours), the OPA CLI, and the SoftHSM token. Connection facts come from .local/infra.env
// (loaded by scripts/jest/integration-setup.mjs).
import { describe, it, expect, beforeAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import kafkajs from 'kafkajs';

const { Kafka, Partitioners, logLevel } = kafkajs;

function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run \`npm run infra:up\` (writes .local/infra.env)`);
  return value;
}

beforeAll(() => {
  // globalSetup already loaded the file into the parent process; load it again in case this
  // worker's environment was captured before that.
  const file = resolve(process.cwd(), '.local/infra.env');
  if (!existsSync(file)) return;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(?:export\s+)?([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined && process.env[m[1]] === undefined) process.env[m[1]] = m[2];
  }
});

describe('local infrastructure (scripts/infra/up.sh)', () => {
  it('PostgreSQL answers select version() and is 18.x', async () => {
    const client = new pg.Client({ connectionString: env('CUSTODY_PG_ADMIN_URL') });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string }>('select version() as version');
      expect(rows[0]?.version).toMatch(/^PostgreSQL 18\.\d+/);
      const { rows: settings } = await client.query<{ max_connections: string }>('show max_connections');
      expect(Number(settings[0]?.max_connections)).toBeGreaterThanOrEqual(200);
    } finally {
      await client.end();
    }
  });

  it('Kafka: kafkajs creates a topic, produces 10 messages, a consumer group reads them, kcat sees the same', async () => {
    const kafka = new Kafka({ clientId: 'infra-test', brokers: env('KAFKA_BROKERS').split(','), logLevel: logLevel.WARN });
    const topic = `infra-test-${randomUUID()}`;
    const groupId = `infra-test-${randomUUID()}`;
    const payloads = Array.from({ length: 10 }, (_, i) => `payload-${i}-${topic}`);

    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true })).toBe(true);

      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      await producer.send({ topic, acks: -1, messages: payloads.map((value, i) => ({ key: `k${i}`, value })) });
      await producer.disconnect();

      const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      const received: string[] = [];
      await new Promise<void>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`timed out with ${received.length}/10 messages`)), 60000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              received.push(message.value?.toString() ?? '');
              if (received.length === payloads.length) {
                clearTimeout(timer);
                done();
              }
            },
          })
          .catch(fail);
      });
      await consumer.stop();
      await consumer.disconnect();
      expect([...received].sort()).toEqual([...payloads].sort());

      // the group committed its position (auto-commit flushes on stop)
      const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(committed[0]!.partitions.reduce((sum, p) => sum + Number(p.offset), 0)).toBe(payloads.length);

      // an independent client (librdkafka's kcat) reads the same 10 payloads
      const out = execFileSync(env('KCAT_BIN'), ['-b', env('KAFKA_BROKERS'), '-C', '-t', topic, '-o', 'beginning', '-e', '-q'], {
        encoding: 'utf8',
        timeout: 30000,
      });
      const viaKcat = out.split('\n').filter((line) => line.length > 0);
      expect(viaKcat.sort()).toEqual([...payloads].sort());
    } finally {
      await admin.deleteGroups([groupId]).catch(() => undefined);
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
  });

  it('the OPA CLI runs', () => {
    const out = execFileSync(env('OPA_BIN'), ['version'], { encoding: 'utf8', timeout: 30000 });
    expect(out).toMatch(/^Version: 1\.\d+\.\d+/m);
  });

  it('SoftHSM lists the custody-test token', () => {
    expect(existsSync(env('PKCS11_MODULE'))).toBe(true);
    const out = execFileSync('softhsm2-util', ['--show-slots'], {
      encoding: 'utf8',
      timeout: 30000,
      env: { ...process.env, SOFTHSM2_CONF: env('SOFTHSM2_CONF') },
    });
    const labels = [...out.matchAll(/^\s*Label:\s+(.*?)\s*$/gm)].map((m) => m[1]);
    expect(labels).toContain(env('PKCS11_TOKEN_LABEL'));
  });
});
