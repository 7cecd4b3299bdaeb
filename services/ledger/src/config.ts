// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineConfig, envVar } from '@custody/platform';

const common = z.object({
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50054),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
});

const tls = z.discriminatedUnion('CUSTODY_GRPC_TLS', [
  z.object({
    CUSTODY_GRPC_TLS: z.literal('mtls'),
    CUSTODY_GRPC_TLS_CERT_FILE: envVar.string({ minLength: 1 }),
    CUSTODY_GRPC_TLS_KEY_FILE: envVar.string({ minLength: 1 }),
    CUSTODY_GRPC_TLS_CLIENT_CA_FILE: envVar.string({ minLength: 1 }),
  }),
  z.object({ CUSTODY_GRPC_TLS: z.literal('insecure') }),
]);

export function loadLedgerConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    common.and(tls).transform((e) => ({
      grpc: {
        host: e.CUSTODY_GRPC_HOST,
        port: e.CUSTODY_GRPC_PORT,
        credentials:
          e.CUSTODY_GRPC_TLS === 'mtls'
            ? {
                kind: 'tls' as const,
                certChain: readFileSync(e.CUSTODY_GRPC_TLS_CERT_FILE),
                privateKey: readFileSync(e.CUSTODY_GRPC_TLS_KEY_FILE),
                clientCa: readFileSync(e.CUSTODY_GRPC_TLS_CLIENT_CA_FILE),
                requireClientCertificate: true,
              }
            : { kind: 'insecure' as const },
      },
      logLevel: e.CUSTODY_LOG_LEVEL,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
    })),
    env,
  );
}
