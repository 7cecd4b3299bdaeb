// Process entry: config from the environment, Kafka bus, migrations with the owner role
// are run by the deployment (a Job), then the gateway. SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createLogger, operatorAuditGateFor } from '@custody/platform';
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
// Operator admin actions are recorded by audit before they are stored (fail closed). No
// endpoint → every admin change refused, unless CUSTODY_AUDIT_GATE=disabled (dev only, logged).
const auditGate = operatorAuditGateFor(config.audit);
if (config.audit.mode === 'refuse') logger.error({ alert: 'intake_no_audit_endpoint' }, 'CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS is not set: every admin change will be refused (AUDIT_UNAVAILABLE)');
if (config.audit.mode === 'disabled') logger.error({ alert: 'intake_audit_gate_disabled' }, 'CUSTODY_AUDIT_GATE=disabled: admin changes are applied WITHOUT an audit record — never in production');
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
  ...(auditGate ? { operatorAudit: auditGate } : {}),
});
logger.info({ grpcPort: intake.grpcPort, adminPort: intake.adminPort }, 'intake started');
const stop = async (): Promise<void> => {
  await intake.stop();
  depositAddressProvider?.close();
  auditGate?.close();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
