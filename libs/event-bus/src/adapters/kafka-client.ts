// A kafkajs client with the defaults this project relies on. Services pass their own
// logCreator (pino) — kafkajs logs to the console otherwise.
import { Kafka, logLevel as KafkaLogLevel, type KafkaConfig, type logCreator } from 'kafkajs';

export interface KafkaClientOptions {
  /** "host:port" list. */
  readonly brokers: readonly string[];
  readonly clientId: string;
  /** Default: warnings and errors. */
  readonly logLevel?: 'nothing' | 'error' | 'warn' | 'info' | 'debug';
  readonly logCreator?: logCreator;
  /** TLS/SASL and other kafkajs settings, as is. */
  readonly extra?: Omit<KafkaConfig, 'brokers' | 'clientId' | 'logLevel' | 'logCreator'>;
}

const LEVELS = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
} as const;

export function createKafkaClient(options: KafkaClientOptions): Kafka {
  return new Kafka({
    connectionTimeout: 3000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, maxRetryTime: 5000, retries: 8 },
    ...options.extra,
    brokers: [...options.brokers],
    clientId: options.clientId,
    logLevel: LEVELS[options.logLevel ?? 'warn'],
    ...(options.logCreator ? { logCreator: options.logCreator } : {}),
  });
}
