// Process entry: config from the environment, Kafka bus; migrations with the owner role
// are run by the deployment (a Job). Refuses to start without a valid bundle, key,
// operators and facts. SIGTERM/SIGINT stop it gracefully.
import { readFileSync } from 'node:fs';
import { KafkaBus, createKafkaClient, kafkaSecurityFromEnv } from '@custody/event-bus';
import { createLogger, createMetrics, operatorAuditGateFor, warnIfCallersUnrestricted } from '@custody/platform';
import { decisionSignerFromFile } from './adapters/keys/local-decision-signer.js';
import { operatorDirectoryFromFile } from './adapters/operators/operator-file.js';
import { StaticFactsProvider, type StaticFactsDocument } from './adapters/facts/static-facts.js';
import { LedgerFactsProvider, createLedgerClient, grpcHoldLookup, redeliveryFor, withLedgerHolds } from './adapters/facts/ledger-grpc-facts.js';
import { grpcWalletBalances } from './adapters/facts/ledger-wallet-balances.js';
import { LedgerOutflowProvider, grpcOutflowLookup, withLedgerOutflow } from './adapters/facts/ledger-outflow.js';
import { credentials as grpcCredentials } from '@grpc/grpc-js';
import { loadPolicyConfig } from './config.js';
import { createPolicyBusMetrics, startPolicy } from './index.js';

const config = loadPolicyConfig();
const logger = createLogger({ service: 'policy', level: config.logLevel });
const registry = createMetrics('policy');
const busMetrics = createPolicyBusMetrics(registry);
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: [...config.kafkaBrokers], clientId: 'policy', extra: kafkaSecurityFromEnv(process.env, config.kafkaBrokers) }), metrics: busMetrics });
// Account/wallet facts from the facts file; ledger holds from the ledger's LedgerService.
// Without a ledger address there is no hold source: every withdrawal is denied ledger_hold_missing.
const staticFacts = new StaticFactsProvider(JSON.parse(readFileSync(config.factsFile, 'utf8')) as StaticFactsDocument);
const ledgerClient = config.ledger
  ? createLedgerClient(
      config.ledger.address,
      config.ledger.tls ? grpcCredentials.createSsl(config.ledger.tls.rootCa, config.ledger.tls.privateKey ?? null, config.ledger.tls.certChain ?? null) : grpcCredentials.createInsecure(),
    )
  : undefined;
if (!config.ledger) logger.error({ alert: 'policy_no_ledger_holds' }, 'CUSTODY_POLICY_LEDGER_GRPC_ADDRESS is not set: no ledger holds, every withdrawal will be denied ledger_hold_missing');
// Operator votes are recorded by audit before they are applied (fail closed). No endpoint →
// every vote refused, unless CUSTODY_AUDIT_GATE=disabled (dev only, logged as an error).
const auditGate = operatorAuditGateFor(config.audit);
if (config.audit.mode === 'refuse') logger.error({ alert: 'policy_no_audit_endpoint' }, 'CUSTODY_POLICY_AUDIT_GRPC_ADDRESS is not set: every Approve/Reject will be refused (AUDIT_UNAVAILABLE)');
if (config.audit.mode === 'disabled') logger.error({ alert: 'policy_audit_gate_disabled' }, 'CUSTODY_AUDIT_GATE=disabled: approvals are applied WITHOUT an audit record — never in production');
// mTLS without CUSTODY_GRPC_ALLOWED_CALLERS: any certificate of the client CA may call (loud, not fatal; the chart always sets it).
warnIfCallersUnrestricted(logger, config.grpc);
const policy = await startPolicy({
  bus,
  database: { url: config.databaseUrl },
  logger,
  grpc: config.grpc,
  ...(config.bundleFile ? { bootstrapBundle: new Uint8Array(readFileSync(config.bundleFile)) } : {}),
  signer: decisionSignerFromFile(config.decisionKey.keyId, config.decisionKey.file),
  operators: operatorDirectoryFromFile(config.operatorsFile),
  facts:
    config.ledger && ledgerClient
      ? withLedgerOutflow(
          withLedgerHolds(
            staticFacts,
            new LedgerFactsProvider({ lookup: grpcHoldLookup(ledgerClient), callTimeoutMs: config.ledger.callTimeoutMs, holdWaitMs: config.ledger.holdWaitMs, logger }),
          ),
          // The 24 h outflow the rolling limits compare (max with the policy's own record); same bounds as the hold.
          new LedgerOutflowProvider({ lookup: grpcOutflowLookup(ledgerClient), callTimeoutMs: config.ledger.callTimeoutMs, waitMs: config.ledger.holdWaitMs, logger }),
        )
      : staticFacts,
  ...(config.ledger ? { redelivery: redeliveryFor(config.ledger.holdWaitMs) } : {}),
  tokenTtlSeconds: config.tokenTtlSeconds,
  adminQuorum: config.adminQuorum,
  metrics: { registry, busMetrics, port: config.metricsPort },
  ...(auditGate ? { operatorAudit: auditGate } : {}),
  // Hot-wallet cap monitor: the ledger's wallet balances (C-9.3.7.1-a).
  ...(config.ledger && ledgerClient ? { treasury: { balances: grpcWalletBalances(ledgerClient, config.ledger.callTimeoutMs), intervalMs: config.ledger.hotWalletMonitorIntervalMs } } : {}),
});
logger.info({ grpcPort: policy.grpcPort, metricsUrl: policy.metricsUrl }, 'policy started');
const stop = async (): Promise<void> => {
  await policy.stop();
  ledgerClient?.close();
  auditGate?.close();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
