// Process entry: config from the environment, Kafka bus, migrations with the owner role
// are run by the deployment (a Job), then the audit log. SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createLogger, warnIfCallersUnrestricted } from '@custody/platform';
import { loadAuditConfig, parseTrustedKeys, readSecretKeyFile } from './config.js';
import { LocalEd25519Signer, startAudit } from './index.js';

const config = loadAuditConfig();
const logger = createLogger({ service: 'audit', level: config.logLevel });
const signer = new LocalEd25519Signer(config.keyId, readSecretKeyFile(config.keyFile));
const trustedKeys = new Map([...parseTrustedKeys(config.extraTrustedKeys), [signer.keyId, signer.publicKey]]);
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'audit', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }) });
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the client CA may call (loud, not fatal; the chart always sets it).
warnIfCallersUnrestricted(logger, config.grpc);
const audit = await startAudit({
  bus,
  database: { url: config.databaseUrl },
  logger,
  signer,
  trustedKeys,
  grpc: config.grpc,
  checkpointIntervalMs: config.checkpointIntervalMs,
});
logger.info({ grpcPort: audit.grpcPort, keyId: signer.keyId }, 'audit started');
const stop = async (): Promise<void> => {
  await audit.checkpoint().catch((err: unknown) => logger.error({ err }, 'final checkpoint failed'));
  await audit.stop();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
