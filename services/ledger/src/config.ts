// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable).
import { z } from 'zod';
import { defineConfig, envVar, grpcServerTlsEnv, grpcServerCredentials } from '@custody/platform';

const common = z.object({
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50054),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
});

const tls = grpcServerTlsEnv;

export function loadLedgerConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    common.and(tls).transform((e) => ({
      grpc: {
        host: e.CUSTODY_GRPC_HOST,
        port: e.CUSTODY_GRPC_PORT,
        credentials: grpcServerCredentials(e),
      },
      logLevel: e.CUSTODY_LOG_LEVEL,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
    })),
    env,
  );
}
