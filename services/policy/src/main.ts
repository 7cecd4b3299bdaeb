// Process entry: config from the environment, Kafka bus; migrations with the owner role
// are run by the deployment (a Job). Refuses to start without a valid bundle, key,
// operators and facts. SIGTERM/SIGINT stop it gracefully.
import { readFileSync } from 'node:fs';
import { KafkaBus, createKafkaClient } from '@custody/event-bus';
import { createLogger } from '@custody/platform';
import { decisionSignerFromFile } from './adapters/keys/local-decision-signer.js';
import { operatorDirectoryFromFile } from './adapters/operators/operator-file.js';
import { StaticFactsProvider, type StaticFactsDocument } from './adapters/facts/static-facts.js';
import { loadPolicyConfig } from './config.js';
import { startPolicy } from './index.js';

const config = loadPolicyConfig();
const logger = createLogger({ service: 'policy', level: config.logLevel });
const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: [...config.kafkaBrokers], clientId: 'policy' }) });
const policy = await startPolicy({
  bus,
  database: { url: config.databaseUrl },
  logger,
  grpc: config.grpc,
  ...(config.bundleFile ? { bootstrapBundle: new Uint8Array(readFileSync(config.bundleFile)) } : {}),
  signer: decisionSignerFromFile(config.decisionKey.keyId, config.decisionKey.file),
  operators: operatorDirectoryFromFile(config.operatorsFile),
  facts: new StaticFactsProvider(JSON.parse(readFileSync(config.factsFile, 'utf8')) as StaticFactsDocument),
  tokenTtlSeconds: config.tokenTtlSeconds,
  adminQuorum: config.adminQuorum,
});
logger.info({ grpcPort: policy.grpcPort }, 'policy started');
const stop = async (): Promise<void> => {
  await policy.stop();
  await bus.close();
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
