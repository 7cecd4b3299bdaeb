// The ledger as its own process, for other services' integration tests (they talk to it
// only over Kafka and gRPC, as in production; no service imports another). Run with
// `node --import services/ledger/test/process/ts-register.mjs services/ledger/test/process/run-ledger.ts`
// and env LEDGER_TOPIC_PREFIX, KAFKA_BROKERS, CUSTODY_PG_ADMIN_URL. Provisions a throw-away
// database, serves LedgerService on 127.0.0.1:<free port>, prints one JSON line
// {"grpcPort":N} when ready; SIGTERM stops it and drops the database.
import { KafkaBus, createKafkaClient } from '@custody/event-bus';
import { prefixedTopics, startLedger, type LedgerHandle } from '../../src/index.js';
import { createTestDatabase, quietLogger, rand, requireEnv } from '../integration/support.js';

const prefix = requireEnv('LEDGER_TOPIC_PREFIX');
const db = await createTestDatabase();
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: requireEnv('KAFKA_BROKERS').split(','), clientId: `ledger-proc-${rand()}`, logLevel: 'nothing' }) });
let ledger: LedgerHandle;
try {
  ledger = await startLedger({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `ledger-proc-${rand()}`,
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
  });
} catch (err) {
  await bus.close().catch(() => undefined);
  await db.drop();
  throw err;
}
process.stdout.write(`${JSON.stringify({ grpcPort: ledger.grpcPort })}\n`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await ledger.stop();
  await bus.close();
  await db.drop();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
