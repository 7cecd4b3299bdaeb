// Process entry: config from the environment, Kafka bus, then the adapter (migrations run
// by the deployment with the owner role). SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createBusMetrics, createLogger, createMetrics, startMetricsServer, warnIfCallersUnrestricted } from '@custody/platform';
import { loadChainAdapterConfig } from './config.js';
import { startChainAdapter } from './index.js';

const config = loadChainAdapterConfig();
const logger = createLogger({ service: 'chain-adapter', level: config.logLevel });
const registry = createMetrics('chain-adapter');
// Two consumer groups: withdrawals (policy.decided, tx.signed) and the wallet registry (key.lifecycle).
const busMetrics = createBusMetrics(registry, { groups: ['chain-adapter', 'chain-adapter.wallets'] });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'chain-adapter', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }), metrics: busMetrics });
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the client CA may call (loud, not fatal; the chart always sets it).
warnIfCallersUnrestricted(logger, config.grpc);
const adapter = await startChainAdapter({
  bus,
  database: { url: config.databaseUrl },
  logger,
  rpcUrl: config.rpcUrl,
  rpcUrls: config.rpcUrls,
  rpcQuorum: config.rpcQuorum,
  profile: config.profile,
  depositAddresses: new Map(config.depositAddresses.map((d) => [d.address, d.account])),
  custodyAddresses: config.custodyAddresses,
  pollIntervalMs: config.pollIntervalMs,
  maxHeadAgeMs: config.maxHeadAgeMs,
  stuckAfterMs: config.stuckAfterMs,
  breaker: config.breaker,
  adminOperators: config.adminOperators,
  registry,
  busMetrics,
  grpc: config.grpc,
});
const metricsServer = await startMetricsServer({ registry, port: config.metricsPort });
logger.info({ chain: config.profile.chain, grpcPort: adapter.grpcPort }, 'chain-adapter started');
const stop = async (): Promise<void> => {
  await metricsServer.close();
  await adapter.stop();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
