// The only file that reads process.env. Validated once at start-up (zod), typed, frozen.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { callerAllowListVar, defineConfig, envVar, operatorAuditEnv, operatorAuditSettings } from '@custody/platform';

/**
 * The operator audit gate (CustomerProfileService upserts are recorded in audit first):
 * without an address every upsert is refused (AUDIT_UNAVAILABLE) unless
 * CUSTODY_AUDIT_GATE=disabled (dev only; an error together with an address).
 */
const AUDIT_GATE = {
  address: 'CUSTODY_RISK_AUDIT_GRPC_ADDRESS',
  tls: 'CUSTODY_RISK_AUDIT_GRPC_TLS',
  caFile: 'CUSTODY_RISK_AUDIT_GRPC_CA_FILE',
  certFile: 'CUSTODY_RISK_AUDIT_GRPC_CERT_FILE',
  keyFile: 'CUSTODY_RISK_AUDIT_GRPC_KEY_FILE',
  timeout: 'CUSTODY_RISK_AUDIT_TIMEOUT',
  gate: 'CUSTODY_AUDIT_GATE',
} as const;

export function loadRiskConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    z
      .object({
        CUSTODY_PG_ADMIN_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
        CUSTODY_RISK_DB_OWNER_PASSWORD: envVar.string({ minLength: 12 }),
        CUSTODY_RISK_DB_APP_PASSWORD: envVar.string({ minLength: 12 }),
        KAFKA_BROKERS: envVar.list(),
        CUSTODY_GRPC_PORT: envVar.port().default(50061),
        CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
        CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
        CUSTODY_METRICS_PORT: envVar.port().default(9464),
        CUSTODY_RISK_LIST_MAX_AGE: envVar.duration().default(36 * 3_600_000),
        CUSTODY_RISK_RULES_FILE: envVar.string({ minLength: 1 }).optional(),
        CUSTODY_RISK_TRAVEL_RULE_FILE: envVar.string({ minLength: 1 }).optional(),
        CUSTODY_RISK_OFAC_FILE: envVar.string({ minLength: 1 }).optional(),
        CUSTODY_RISK_GRPC_MAX_RECEIVE_BYTES: envVar.int({ min: 4 * 1024 * 1024, max: 1024 * 1024 * 1024 }).default(256 * 1024 * 1024),
        CUSTODY_RISK_PROVIDER_URL: envVar.url({ protocols: ['http:', 'https:'] }).optional(),
        CUSTODY_RISK_PROVIDER_API_KEY_FILE: envVar.string({ minLength: 1 }).optional(),
        CUSTODY_RISK_PROVIDER_TIMEOUT: envVar.duration().default(2_000),
        CUSTODY_RISK_PROVIDER_REVIEW_SCORE: envVar.int({ min: 1, max: 100 }).default(60),
        CUSTODY_RISK_PROVIDER_BLOCK_SCORE: envVar.int({ min: 1, max: 101 }).default(90),
        CUSTODY_TLS_CERT_FILE: envVar.string({ minLength: 1 }),
        CUSTODY_TLS_KEY_FILE: envVar.string({ minLength: 1 }),
        CUSTODY_TLS_CLIENT_CA_FILE: envVar.string({ minLength: 1 }),
        // Who may call the gRPC port (grpc-caller-identity in @custody/platform); optional.
        CUSTODY_GRPC_ALLOWED_CALLERS: callerAllowListVar().optional(),
      })
      .and(operatorAuditEnv(AUDIT_GATE))
      .transform((e) => ({
        database: { adminUrl: e.CUSTODY_PG_ADMIN_URL, ownerPassword: e.CUSTODY_RISK_DB_OWNER_PASSWORD, appPassword: e.CUSTODY_RISK_DB_APP_PASSWORD },
        kafkaBrokers: e.KAFKA_BROKERS,
        grpc: { port: e.CUSTODY_GRPC_PORT, host: e.CUSTODY_GRPC_HOST, maxReceiveMessageBytes: e.CUSTODY_RISK_GRPC_MAX_RECEIVE_BYTES, certFile: e.CUSTODY_TLS_CERT_FILE, keyFile: e.CUSTODY_TLS_KEY_FILE, clientCaFile: e.CUSTODY_TLS_CLIENT_CA_FILE, allowedCallers: e.CUSTODY_GRPC_ALLOWED_CALLERS },
        logLevel: e.CUSTODY_LOG_LEVEL,
        metricsPort: e.CUSTODY_METRICS_PORT,
        listMaxAgeSeconds: Math.ceil(e.CUSTODY_RISK_LIST_MAX_AGE / 1000),
        rulesFile: e.CUSTODY_RISK_RULES_FILE,
        travelRuleFile: e.CUSTODY_RISK_TRAVEL_RULE_FILE,
        ofacFile: e.CUSTODY_RISK_OFAC_FILE,
        provider: e.CUSTODY_RISK_PROVIDER_URL ? { url: e.CUSTODY_RISK_PROVIDER_URL, apiKeyFile: e.CUSTODY_RISK_PROVIDER_API_KEY_FILE } : undefined,
        providerTimeoutMs: e.CUSTODY_RISK_PROVIDER_TIMEOUT,
        providerThresholds: { reviewAtScore: e.CUSTODY_RISK_PROVIDER_REVIEW_SCORE, blockAtScore: e.CUSTODY_RISK_PROVIDER_BLOCK_SCORE },
        audit: operatorAuditSettings(e, AUDIT_GATE),
      })),
    env,
  );
}

export type RiskConfig = ReturnType<typeof loadRiskConfig>;

/** Reads a JSON document named by configuration (rules, travel-rule thresholds). */
export function readJsonFile(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}
