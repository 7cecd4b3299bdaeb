// kafkajs 2.2.4 <-> broker compatibility smoke (evidence for docs/decisions/kafka-broker-version.md).
// Exercises the APIs the services use: admin (create/describe/delete topics, offsets, groups),
// idempotent + transactional produce, consumer-group consume with manual commit.
// Any kafkajs log line at WARN or ERROR counts as a failure.
//   node scripts/infra/kafka/smoke.cjs [127.0.0.1:19092]
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.argv[2] || '127.0.0.1:19092').split(',');
const problems = [];
const logCreator = () => ({ namespace, level, label, log }) => {
  if (level <= logLevel.WARN) problems.push(`${label} [${namespace}] ${log.message} ${log.error || ''}`);
};
process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1'; // the v2 default-partitioner notice is not a broker problem
const kafka = new Kafka({ clientId: 'infra-smoke', brokers, logLevel: logLevel.WARN, logCreator });
const run = Date.now().toString(36);
const topic = `infra-smoke-${run}`;
const groupId = `infra-smoke-g-${run}`;
const N = 10;

async function main() {
  const admin = kafka.admin();
  await admin.connect();
  const cluster = await admin.describeCluster();
  console.log('describeCluster:', JSON.stringify(cluster));
  console.log('createTopics:', await admin.createTopics({ topics: [{ topic, numPartitions: 3, replicationFactor: 1 }], waitForLeaders: true }));
  const cfg = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: 2 /* TOPIC */, name: topic, configNames: ['cleanup.policy'] }] });
  console.log('describeConfigs:', cfg.resources[0].configEntries.map((e) => `${e.configName}=${e.configValue}`).join(','));
  const md = await admin.fetchTopicMetadata({ topics: [topic] });
  console.log('partitions:', md.topics[0].partitions.length);

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const sent = Array.from({ length: N }, (_, i) => `msg-${i}-${run}`);
  const res = await producer.send({ topic, acks: -1, messages: sent.map((value, i) => ({ key: `k${i}`, value, headers: { h: 'v' } })) });
  console.log('idempotent send ok:', res.length, 'partition results');

  const txProducer = kafka.producer({ transactionalId: `infra-smoke-tx-${run}`, idempotent: true, maxInFlightRequests: 1 });
  await txProducer.connect();
  const tx = await txProducer.transaction();
  await tx.send({ topic, messages: [{ key: 'tx', value: `tx-${run}` }] });
  await tx.commit();
  console.log('transactional send + commit ok');

  const consumer = kafka.consumer({ groupId, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: got ${got.length}`)), 30000);
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic: t, partition, message }) => {
        got.push(message.value.toString());
        await consumer.commitOffsets([{ topic: t, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        if (got.length === N + 1) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  console.log('consumed:', got.length, 'all sent present:', sent.every((v) => got.includes(v)));
  await consumer.stop();
  const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
  const committed = offsets[0].partitions.reduce((a, p) => a + Number(p.offset), 0);
  console.log('committed offsets sum:', committed);
  console.log('describeGroups:', (await admin.describeGroups([groupId])).groups[0].state);
  const topicOffsets = await admin.fetchTopicOffsets(topic);
  console.log('fetchTopicOffsets high sum:', topicOffsets.reduce((a, p) => a + Number(p.high), 0));
  await consumer.disconnect();
  await producer.disconnect();
  await txProducer.disconnect();
  console.log('listGroups:', (await admin.listGroups()).groups.some((g) => g.groupId === groupId));
  await admin.deleteGroups([groupId]);
  await admin.deleteTopics({ topics: [topic] });
  console.log('deleteGroups + deleteTopics ok');
  await admin.disconnect();
  if (!sent.every((v) => got.includes(v))) throw new Error('missing messages');
}

main().then(() => {
  if (problems.length) { console.error('kafkajs WARN/ERROR logs:\n' + problems.join('\n')); process.exit(1); }
  console.log('SMOKE OK');
}, (err) => { console.error('SMOKE FAILED:', err); if (problems.length) console.error(problems.join('\n')); process.exit(1); });
