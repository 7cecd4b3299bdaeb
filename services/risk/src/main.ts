// Runs the risk service on Kafka with the environment's configuration (config.ts).
import { readFileSync } from 'node:fs';
import { createKafkaClient, KafkaBus, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createBusMetrics, createLogger, createMetrics, operatorAuditGateFor, warnIfCallersUnrestricted } from '@custody/platform';
import { loadRiskConfig, readJsonFile } from './config.js';
import { DEFAULT_RULE_SET, DEFAULT_TRAVEL_RULE } from './domain/default-rules.js';
import { parseRuleSet } from './domain/rules.js';
import { parseTravelRuleConfig } from './domain/travel-rule.js';
import { HttpAddressRiskProvider } from './adapters/provider/http-address-risk-provider.js';
import { mtlsOperator } from './adapters/grpc/case-service.js';
import { startRisk } from './index.js';

const config = loadRiskConfig();
const logger = createLogger({ service: 'risk', level: config.logLevel });
const registry = createMetrics('risk');
const busMetrics = createBusMetrics(registry, { groups: ['risk-screening'] });
const bus = new KafkaBus({ kafka: createKafkaClient({ clientId: 'risk', brokers: [...config.kafkaBrokers], extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }), metrics: busMetrics });
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the client CA may call (loud, not fatal; the chart always sets it).
warnIfCallersUnrestricted(logger, { credentials: { kind: 'tls', requireClientCertificate: true }, ...(config.grpc.allowedCallers ? { allowedCallers: config.grpc.allowedCallers } : {}) });
// CustomerProfileService upserts are recorded in audit first (refused when it is unreachable).
const auditGate = operatorAuditGateFor(config.audit);
const service = await startRisk({
  bus,
  ...(auditGate ? { operatorAudit: auditGate } : {}),
  logger,
  database: config.database,
  settings: {
    ruleSet: parseRuleSet(config.rulesFile ? readJsonFile(config.rulesFile) : DEFAULT_RULE_SET),
    travelRule: parseTravelRuleConfig(config.travelRuleFile ? readJsonFile(config.travelRuleFile) : DEFAULT_TRAVEL_RULE),
    providerThresholds: config.providerThresholds,
    providerTimeoutMs: config.providerTimeoutMs,
    listMaxAgeSeconds: config.listMaxAgeSeconds,
  },
  provider: config.provider ? new HttpAddressRiskProvider({ baseUrl: config.provider.url, apiKey: config.provider.apiKeyFile ? readFileSync(config.provider.apiKeyFile, 'utf8').trim() : undefined }) : undefined,
  grpc: {
    port: config.grpc.port,
    host: config.grpc.host,
    credentials: { kind: 'tls', certChain: readFileSync(config.grpc.certFile), privateKey: readFileSync(config.grpc.keyFile), clientCa: readFileSync(config.grpc.clientCaFile), requireClientCertificate: true },
    authenticate: mtlsOperator,
    maxReceiveMessageBytes: config.grpc.maxReceiveMessageBytes,
    ...(config.grpc.allowedCallers ? { allowedCallers: config.grpc.allowedCallers } : {}),
  },
  metrics: { registry, busMetrics, port: config.metricsPort },
});
// Start-up import is optional: operators refresh the list at run time over
// custody.risk.v1.ScreeningListService/ImportOfacList (no restart needed when it goes stale).
if (config.ofacFile) await service.importOfac(readFileSync(config.ofacFile, 'utf8'), 'risk:startup');
const shutdown = async (signal: string): Promise<void> => {
  logger.info({ signal }, 'stopping');
  await service.stop();
  auditGate?.close();
  await bus.close();
  process.exit(0);
};
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));
