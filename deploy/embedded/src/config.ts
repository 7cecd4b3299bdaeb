// The only file of the composition root that reads the environment.
import { z } from 'zod';
import { defineConfig, envVar } from '@custody/platform';

const schema = z.object({
  CUSTODY_PG_ADMIN_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }).default('postgres://postgres:postgres@127.0.0.1:54329/postgres'),
  CUSTODY_GRPC_PORT: envVar.port().default(50051),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_WALKTHROUGH_EVENTS: envVar.int({ min: 1, max: 100_000 }).default(200),
  /** Passwords of the walkthrough's database roles: local, generated per data directory by default. */
  CUSTODY_EMBEDDED_DB_PASSWORD: envVar.string({ minLength: 12 }).default('embedded-walkthrough-local'),
});

export type EmbeddedConfig = ReturnType<typeof loadEmbeddedConfig>;

export function loadEmbeddedConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(schema, env);
}
