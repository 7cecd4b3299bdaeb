// The only file of the composition root that reads the environment.
import { z } from 'zod';
import { defineConfig, envVar } from '@custody/platform';

const schema = z.object({
  CUSTODY_PG_ADMIN_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }).default('postgres://postgres:postgres@127.0.0.1:54329/postgres'),
  /** Database holding every service's schema (one schema + two roles per service). */
  CUSTODY_EMBEDDED_DATABASE: envVar.custom('a lower-case PostgreSQL identifier', (raw) => (/^[a-z][a-z0-9_]{0,62}$/.test(raw) ? raw : undefined)).default('custody_embedded'),
  /** Local state of the embedded default (the database roles' password file lives here). */
  CUSTODY_EMBEDDED_DATA_DIR: envVar.string({ minLength: 1 }).default('.local/embedded'),
  /** Intake's CustodyGateway (integrators). 0 = any free port. */
  CUSTODY_GRPC_PORT: envVar.port().default(50051),
  /** Policy's ApprovalService (operators). */
  CUSTODY_APPROVAL_GRPC_PORT: envVar.port().default(50052),
  /** Audit's AuditQueryService. */
  CUSTODY_AUDIT_GRPC_PORT: envVar.port().default(50053),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('warn'),
  /**
   * Moves the clock of every composed service (and of the demo's client) forward. For the
   * e2e test, which must not land in the shipped policy's daily ETH freeze (23:30-00:30 UTC).
   */
  CUSTODY_EMBEDDED_CLOCK_OFFSET: envVar.duration().default(0),
  CUSTODY_WALKTHROUGH_EVENTS: envVar.int({ min: 1, max: 100_000 }).default(200),
  /** The compiled policy bundle (scripts/start.mjs builds it with `scripts/policy-test.sh build`). Absent = policy not composed. */
  CUSTODY_POLICY_BUNDLE: envVar.string({ minLength: 1 }).default('.local/embedded/policy/bundle.tar.gz'),
  /** OFAC SDN file (published advanced-XML schema) imported into risk at start. */
  CUSTODY_SANCTIONS_LIST: envVar.string({ minLength: 1 }).default('deploy/embedded/demo/sdn_advanced.xml'),
});

export type EmbeddedConfig = ReturnType<typeof loadEmbeddedConfig>;

export function loadEmbeddedConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(schema, env);
}
