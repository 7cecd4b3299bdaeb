// Process entry: config from the environment, Kafka bus, migrations with the owner role
// are run by the deployment (a Job), then the gateway. SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { loadIntakeConfig } from './config.js';
import { GrpcDepositAddressProvider, startIntake } from './index.js';

const config = loadIntakeConfig();
const logger = createLogger({ service: 'intake', level: config.logLevel });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'intake', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }) });
const depositAddressProvider = config.signer
  ? new GrpcDepositAddressProvider({
      address: config.signer.address,
      timeoutMs: config.signer.timeoutMs,
      logger,
      credentials: config.signer.credentials,
    })
  : undefined;
const intake = await startIntake({
  bus,
  database: { url: config.databaseUrl },
  logger,
  grpc: config.grpc,
  timestampWindowMs: config.timestampWindowMs,
  maintenanceMinNoticeMs: config.maintenanceMinNoticeMs,
  perSourceLimit: config.perSourceLimit,
  ...(depositAddressProvider ? { depositAddressProvider } : {}),
  ...(config.admin ? { admin: config.admin } : {}),
});
logger.info({ grpcPort: intake.grpcPort, adminPort: intake.adminPort }, 'intake started');
const stop = async (): Promise<void> => {
  await intake.stop();
  depositAddressProvider?.close();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
