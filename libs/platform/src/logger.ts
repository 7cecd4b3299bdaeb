// Structured JSON logging (pino) with the service name, correlation ids from the async
// context, and two layers of secret redaction (see redact.ts and docs/platform.md).
import { pino, stdTimeFunctions, type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { currentCorrelation } from './correlation.js';
import { REDACTED, SECRET_KEY_NAMES, redactDeep, scrubString } from './redact.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface CreateLoggerOptions {
  /** Service name, written as `service` on every line. */
  readonly service: string;
  readonly level?: LogLevel;
  /** Where lines go; stdout by default. Tests pass an in-memory stream. */
  readonly destination?: DestinationStream;
  /** Extra fixed fields (e.g. version); scrubbed like everything else. */
  readonly base?: Readonly<Record<string, unknown>>;
}

export type { Logger };

/** pino paths for the common secret keys at the top level and up to three levels down. */
function redactPaths(): string[] {
  const paths: string[] = [];
  for (const key of SECRET_KEY_NAMES) {
    paths.push(key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`);
  }
  paths.push('req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'metadata.authorization');
  return paths;
}

function scrubArg(arg: unknown): unknown {
  return typeof arg === 'string' ? scrubString(arg) : redactDeep(arg);
}

/**
 * Creates the service's root logger. Every line is JSON with `level` (label), `time`
 * (ISO), `service`, the correlation ids of the current {@link withCorrelation} context
 * (`correlationId`, `causationId`, `traceparent`), and nothing secret: values under
 * secret-named keys at any depth and secret-shaped substrings of any string (message,
 * fields, errors, child bindings) are replaced by `[Redacted]`.
 */
export function createLogger(options: CreateLoggerOptions): Logger {
  const pinoOptions: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service, ...((redactDeep(options.base ?? {}) as Record<string, unknown>)) },
    timestamp: stdTimeFunctions.isoTime,
    messageKey: 'msg',
    redact: { paths: redactPaths(), censor: REDACTED },
    formatters: {
      level: (label) => ({ level: label }),
      // Runs on the merged object (call fields + mixin) before pino's serializers.
      log: (object) => redactDeep(object) as Record<string, unknown>,
    },
    serializers: {
      // formatters.log already turned errors into scrubbed plain objects; keep them as they are.
      err: (value: unknown) => (value instanceof Error ? redactDeep(value) : value),
    },
    hooks: {
      logMethod(args, method) {
        const scrubbed = args.map((arg, i) => (i === 0 && typeof arg === 'object' && arg !== null ? arg : scrubArg(arg)));
        return method.apply(this, scrubbed as Parameters<typeof method>);
      },
    },
    mixin() {
      const context = currentCorrelation();
      if (context === undefined) return {};
      const fields: Record<string, string> = { correlationId: context.correlationId };
      if (context.causationId !== undefined) fields.causationId = context.causationId;
      if (context.traceparent !== undefined) fields.traceparent = context.traceparent;
      return fields;
    },
  };
  const logger = options.destination ? pino(pinoOptions, options.destination) : pino(pinoOptions);

  // Child bindings bypass formatters (pino resets the bindings formatter for children), so
  // scrub them on the way in. Children inherit this method through the prototype chain.
  const originalChild = logger.child;
  Object.defineProperty(logger, 'child', {
    value: function child(this: Logger, bindings: Record<string, unknown>, childOptions?: Parameters<Logger['child']>[1]) {
      return originalChild.call(this, redactDeep(bindings) as Record<string, unknown>, childOptions);
    },
    writable: true,
    configurable: true,
  });
  return logger;
}
