// Process entry: config from the environment, Kafka bus, migrations with the owner role
// are run by the deployment (a Job), then the ledger. SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { loadLedgerConfig } from './config.js';
import { startLedger } from './index.js';

const config = loadLedgerConfig();
const logger = createLogger({ service: 'ledger', level: config.logLevel });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'ledger' }) });
const ledger = await startLedger({ bus, database: { url: config.databaseUrl }, logger, grpc: config.grpc });
logger.info({ grpcPort: ledger.grpcPort }, 'ledger started');
const stop = async (): Promise<void> => {
  await ledger.stop();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
