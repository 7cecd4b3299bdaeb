// Process entry: config from the environment, Kafka bus, then the adapter (migrations run
// by the deployment with the owner role). SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createBusMetrics, createLogger, createMetrics, operatorAuditGateFor, startMetricsServer, warnIfCallersUnrestricted } from '@custody/platform';
import { loadChainAdapterConfig } from './config.js';
import { CHAIN_ADAPTER_CONSUMER_GROUPS } from './consumer-groups.js';
import { startChainAdapter } from './index.js';

const config = loadChainAdapterConfig();
const logger = createLogger({ service: 'chain-adapter', level: config.logLevel });
const registry = createMetrics('chain-adapter');
// Two consumer groups: withdrawals (policy.decided, tx.signed) and the wallet registry (key.lifecycle).
const busMetrics = createBusMetrics(registry, { groups: [...CHAIN_ADAPTER_CONSUMER_GROUPS] });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'chain-adapter', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }), metrics: busMetrics });
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the client CA may call (loud, not fatal; the chart always sets it).
warnIfCallersUnrestricted(logger, config.grpc);
// ResumeChain / CancelWithdrawal are recorded by audit before they are applied (fail closed). No
// endpoint → every admin change refused, unless CUSTODY_AUDIT_GATE=disabled (dev only, logged).
const auditGate = operatorAuditGateFor(config.audit);
if (config.audit.mode === 'refuse') logger.error({ alert: 'chain_adapter_no_audit_endpoint' }, 'CUSTODY_CHAIN_ADAPTER_AUDIT_GRPC_ADDRESS is not set: every chain admin change will be refused (AUDIT_UNAVAILABLE)');
if (config.audit.mode === 'disabled') logger.error({ alert: 'chain_adapter_audit_gate_disabled' }, 'CUSTODY_AUDIT_GATE=disabled: chain admin changes are applied WITHOUT an audit record — never in production');
const adapter = await startChainAdapter({
  bus,
  database: { url: config.databaseUrl },
  logger,
  rpcUrl: config.rpcUrl,
  rpcUrls: config.rpcUrls,
  rpcQuorum: config.rpcQuorum,
  profile: config.profile,
  ...(config.bitcoin ? { bitcoin: config.bitcoin } : {}),
  depositAddresses: new Map(config.depositAddresses.map((d) => [d.address, d.account])),
  custodyAddresses: config.custodyAddresses,
  pollIntervalMs: config.pollIntervalMs,
  maxHeadAgeMs: config.maxHeadAgeMs,
  stuckAfterMs: config.stuckAfterMs,
  breaker: config.breaker,
  adminOperators: config.adminOperators,
  ...(auditGate ? { operatorAudit: auditGate } : {}),
  registry,
  busMetrics,
  grpc: config.grpc,
});
const metricsServer = await startMetricsServer({ registry, port: config.metricsPort });
logger.info({ chain: config.profile.chain, grpcPort: adapter.grpcPort }, 'chain-adapter started');
const stop = async (): Promise<void> => {
  await metricsServer.close();
  await adapter.stop();
  auditGate?.close();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
