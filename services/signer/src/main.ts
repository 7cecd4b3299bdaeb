// Process entry: config from the environment, Kafka bus, then the signer (migrations with
// the owner role are run by the deployment, a Job). SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createBusMetrics, createLogger, createMetrics, operatorAuditGateFor, startMetricsServer, warnIfCallersUnrestricted } from '@custody/platform';
import { createSignerMetrics } from './adapters/metrics.js';
import { loadSignerConfig } from './config.js';
import { startSigner } from './index.js';

const config = loadSignerConfig();
const logger = createLogger({ service: 'signer', level: config.logLevel });
const registry = createMetrics('signer');
const busMetrics = createBusMetrics(registry, { groups: ['signer.tx-prepared'] });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: [...config.kafkaBrokers], clientId: 'signer', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }), metrics: busMetrics });
// Key admin actions are recorded by audit before they are applied (fail closed). No endpoint
// → every key admin change refused, unless CUSTODY_AUDIT_GATE=disabled (dev only, logged).
const auditGate = operatorAuditGateFor(config.audit);
if (config.audit.mode === 'refuse') logger.error({ alert: 'signer_no_audit_endpoint' }, 'CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS is not set: every key admin change will be refused (AUDIT_UNAVAILABLE)');
if (config.audit.mode === 'disabled') logger.error({ alert: 'signer_audit_gate_disabled' }, 'CUSTODY_AUDIT_GATE=disabled: key admin changes are applied WITHOUT an audit record — never in production');
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the CA may call (loud, not fatal; the chart sets it).
warnIfCallersUnrestricted(logger, config.healthGrpc);
const signer = await startSigner({
  onOutcome: createSignerMetrics(registry, [...config.assets.values()].map((a) => a.chain)),
  busMetrics,
  bus,
  database: { url: config.databaseUrl },
  logger,
  trustedPolicyKeys: config.trustedPolicyKeys,
  operators: config.operators,
  assets: config.assets,
  adminRoles: config.adminRoles,
  ...(config.localSealed ? { localSealed: config.localSealed } : {}),
  ...(config.pkcs11 ? { pkcs11: config.pkcs11 } : {}),
  ...(config.vault ? { vault: config.vault } : {}),
  ...(config.grpc ? { grpc: config.grpc, depositXpubs: config.depositXpubs } : {}),
  ...(config.adminGrpc ? { adminGrpc: config.adminGrpc } : {}),
  ...(auditGate ? { operatorAudit: auditGate } : {}),
  healthGrpc: config.healthGrpc,
});
const metrics = await startMetricsServer({ registry, port: config.metricsPort });
logger.info({ custody: [...signer.custody.keys()], grpcPort: signer.grpcPort, adminGrpcPort: signer.adminGrpcPort, healthGrpcPort: signer.healthGrpcPort, depositAssets: [...config.depositXpubs.keys()] }, 'signer started');
const stop = async (): Promise<void> => {
  await signer.stop();
  auditGate?.close();
  await metrics.close();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
