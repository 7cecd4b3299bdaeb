// Process entry: config from the environment, Kafka bus, migrations with the owner role
// are run by the deployment (a Job), then the ledger. SIGTERM/SIGINT stop it gracefully.
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { createLogger, createMetrics, startMetricsServer, warnIfCallersUnrestricted } from '@custody/platform';
import { loadLedgerConfig } from './config.js';
import { DEFAULT_FEE_ASSETS, GrpcChainSnapshotSource, startLedger } from './index.js';

const config = loadLedgerConfig();
const logger = createLogger({ service: 'ledger', level: config.logLevel });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: config.kafkaBrokers, clientId: 'ledger', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }) });
const registry = createMetrics('ledger');
const rc = config.reconciliation;
const chainCredentials = rc.tls ? grpcCredentials.createSsl(rc.tls.rootCa, rc.tls.privateKey ?? null, rc.tls.certChain ?? null) : grpcCredentials.createInsecure();
const source = new GrpcChainSnapshotSource(
  rc.targets.map((t) => ({ asset: t.asset, address: t.address, credentials: chainCredentials })),
  { timeoutMs: rc.timeoutMs },
);
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the client CA may call (loud, not fatal; the chart always sets it).
warnIfCallersUnrestricted(logger, config.grpc);
const ledger = await startLedger({
  bus,
  database: { url: config.databaseUrl },
  logger,
  grpc: config.grpc,
  registry,
  feeAssets: { ...DEFAULT_FEE_ASSETS, ...config.feeAssets },
  ...(rc.targets.length > 0
    ? { reconciliation: { targets: rc.targets.map((t) => ({ asset: t.asset, chain: t.chain, feeAsset: DEFAULT_FEE_ASSETS[t.chain] ?? t.asset })), source, intervalMs: rc.intervalMs } }
    : {}),
});
const metricsServer = await startMetricsServer({ registry, port: config.metricsPort });
logger.info({ grpcPort: ledger.grpcPort, reconciled: rc.targets.map((t) => t.asset) }, 'ledger started');
if (rc.targets.length === 0) logger.warn('reconciliation with the chain is OFF (CUSTODY_LEDGER_RECONCILE_TARGETS is empty): CustodyReconciliationDrift cannot fire');
const stop = async (): Promise<void> => {
  await metricsServer.close();
  source.close();
  await ledger.stop();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
