// Every custody topic (+ its .dlq) under a per-test prefix on the real broker, and their removal.
import { ALL_TOPICS } from '@custody/contracts';
import { createKafkaClient, ensureTopics, withDeadLetterTopics } from '@custody/event-bus';
import { rand, requireEnv } from './env.js';

async function withAdmin<T>(clientId: string, work: (admin: ReturnType<ReturnType<typeof createKafkaClient>['admin']>) => Promise<T>): Promise<T> {
  const kafka = createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `${clientId}-${rand()}`, logLevel: 'nothing' });
  const admin = kafka.admin();
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Creates every custody topic (+ .dlq) under the prefix, 3 partitions each. */
export async function createPrefixedTopics(prefix: string): Promise<void> {
  await withAdmin('test-admin', async (admin) => {
    await ensureTopics(admin, withDeadLetterTopics(ALL_TOPICS.map((t) => ({ topic: `${prefix}${t}`, partitions: 3 }))));
  });
}

/** Deletes every topic whose name starts with the prefix. */
export async function deletePrefixedTopics(prefix: string): Promise<void> {
  await withAdmin('test-admin', async (admin) => {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  });
}
