// Readiness probe for scripts/infra/kafka.sh (run from the repo root so `kafkajs` resolves).
// Exits 0 only if the broker
//   - accepts connections and answers metadata requests (describeCluster, a controller is known),
//   - has a leader for every partition of every existing topic,
//   - has loaded its group coordinator (DescribeGroups answers) and its transaction
//     coordinator (InitProducerId answers) — after a restart these load asynchronously and
//     answer COORDINATOR_LOAD_IN_PROGRESS until done. The broker is configured with one
//     partition per internal topic, so one probe of each covers all groups/transactions.
// The first probe also creates __consumer_offsets and __transaction_state.
//   node scripts/infra/kafka/ready.cjs 127.0.0.1:19092
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.argv[2] || '127.0.0.1:19092').split(',');
const kafka = new Kafka({
  clientId: 'infra-ready', brokers, logLevel: logLevel.NOTHING,
  connectionTimeout: 1500, requestTimeout: 5000, retry: { retries: 0 },
});

(async () => {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const cluster = await admin.describeCluster();
    if (!cluster.brokers.length || cluster.controller === null || cluster.controller < 0) throw new Error('no controller');
    const topics = await admin.listTopics();
    if (topics.length) {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      for (const t of meta) for (const p of t.partitions) {
        if (p.partitionErrorCode !== 0 || p.leader < 0) throw new Error(`${t.name}/${p.partitionId} has no leader`);
      }
    }
    await admin.describeGroups(['infra-ready-probe']);
  } finally {
    await admin.disconnect();
  }
  // kafkajs insists on retries >= 1 for idempotent/transactional producers; keep it short.
  const producer = kafka.producer({
    transactionalId: 'infra-ready-probe', idempotent: true, maxInFlightRequests: 1,
    retry: { retries: 1, initialRetryTime: 50, maxRetryTime: 100 },
  });
  try {
    await producer.connect();
    const tx = await producer.transaction(); // FindCoordinator + InitProducerId on the transaction coordinator
    await tx.abort(); // nothing was sent: ends the empty transaction
  } finally {
    await producer.disconnect().catch(() => {});
  }
})().then(() => process.exit(0), (err) => {
  if (process.env.KAFKA_READY_VERBOSE) console.error(String((err && err.message) || err));
  process.exit(1);
});
