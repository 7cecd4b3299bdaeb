// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable). The decision signing key is read from a
// file whose path is configured; its contents never appear in config, logs or errors.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineConfig, envVar, grpcAllowedCallersEnv, grpcServerTlsEnv, grpcServerCredentials, operatorAuditEnv, operatorAuditSettings } from '@custody/platform';

const common = z.object({
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50053),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
  /** First-start bundle (opa build -t wasm archive); later bundles need an admin quorum. */
  CUSTODY_POLICY_BUNDLE_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_POLICY_DECISION_KEY_ID: envVar.string({ minLength: 1 }),
  CUSTODY_POLICY_DECISION_KEY_FILE: envVar.string({ minLength: 1 }),
  CUSTODY_POLICY_OPERATORS_FILE: envVar.string({ minLength: 1 }),
  CUSTODY_POLICY_FACTS_FILE: envVar.string({ minLength: 1 }),
  CUSTODY_POLICY_TOKEN_TTL: envVar.duration().default(600_000),
  CUSTODY_POLICY_ADMIN_QUORUM: envVar.int({ min: 2, max: 16 }).default(2),
  /** host:port of the ledger's LedgerService (ledger holds). Absent: no hold source, every withdrawal is denied ledger_hold_missing. */
  CUSTODY_POLICY_LEDGER_GRPC_ADDRESS: envVar.string({ minLength: 1 }).optional(),
  /** TLS to the ledger: the CA that signs its certificate (absent: plaintext, loopback/dev only), and our client certificate for mTLS. */
  CUSTODY_POLICY_LEDGER_GRPC_CA_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_POLICY_LEDGER_GRPC_CERT_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_POLICY_LEDGER_GRPC_KEY_FILE: envVar.string({ minLength: 1 }).optional(),
  /** Deadline of one GetWithdrawalHold call. */
  CUSTODY_POLICY_LEDGER_TIMEOUT: envVar.duration().default(2_000),
  /** How long "hold not placed yet" / "ledger unreachable" is retried before denying. */
  CUSTODY_POLICY_LEDGER_HOLD_WAIT: envVar.duration().default(30_000),
  /** Interval of the hot-wallet cap monitor's rounds (needs the ledger address; docs/policies.md "Hot-wallet cap and rebalancing"). */
  CUSTODY_POLICY_HOT_WALLET_MONITOR_INTERVAL: envVar.duration().default(30_000),
  // The audit gate's variables are in AUDIT_GATE below (operatorAuditEnv).
});

// CUSTODY_GRPC_ALLOWED_CALLERS (optional): who may call the gRPC port (grpc-caller-identity in @custody/platform).
const tls = grpcServerTlsEnv.and(grpcAllowedCallersEnv);

/**
 * Every Approve/Reject is recorded by audit's AuditService before it is applied (the
 * platform's operator audit gate). Address absent: every vote is refused (AUDIT_UNAVAILABLE)
 * unless CUSTODY_AUDIT_GATE=disabled (dev only; an error together with an address). mTLS
 * (default) needs the CA, certificate and key files; plaintext ('insecure') only to loopback.
 * CUSTODY_POLICY_AUDIT_TIMEOUT: deadline of one RecordOperatorAction call (default 3 s).
 */
const AUDIT_GATE = {
  address: 'CUSTODY_POLICY_AUDIT_GRPC_ADDRESS',
  tls: 'CUSTODY_POLICY_AUDIT_GRPC_TLS',
  caFile: 'CUSTODY_POLICY_AUDIT_GRPC_CA_FILE',
  certFile: 'CUSTODY_POLICY_AUDIT_GRPC_CERT_FILE',
  keyFile: 'CUSTODY_POLICY_AUDIT_GRPC_KEY_FILE',
  timeout: 'CUSTODY_POLICY_AUDIT_TIMEOUT',
  gate: 'CUSTODY_AUDIT_GATE',
} as const;

export function loadPolicyConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    common
      .and(tls)
      .and(operatorAuditEnv(AUDIT_GATE))
      .transform((e) => ({
      grpc: {
        host: e.CUSTODY_GRPC_HOST,
        port: e.CUSTODY_GRPC_PORT,
        credentials: grpcServerCredentials(e),
        ...(e.CUSTODY_GRPC_ALLOWED_CALLERS ? { allowedCallers: e.CUSTODY_GRPC_ALLOWED_CALLERS } : {}),
      },
      metricsPort: e.CUSTODY_METRICS_PORT,
      logLevel: e.CUSTODY_LOG_LEVEL,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
      bundleFile: e.CUSTODY_POLICY_BUNDLE_FILE,
      decisionKey: { keyId: e.CUSTODY_POLICY_DECISION_KEY_ID, file: e.CUSTODY_POLICY_DECISION_KEY_FILE },
      operatorsFile: e.CUSTODY_POLICY_OPERATORS_FILE,
      factsFile: e.CUSTODY_POLICY_FACTS_FILE,
      tokenTtlSeconds: Math.floor(e.CUSTODY_POLICY_TOKEN_TTL / 1000),
      adminQuorum: e.CUSTODY_POLICY_ADMIN_QUORUM,
      ledger: e.CUSTODY_POLICY_LEDGER_GRPC_ADDRESS
        ? {
            address: e.CUSTODY_POLICY_LEDGER_GRPC_ADDRESS,
            tls: e.CUSTODY_POLICY_LEDGER_GRPC_CA_FILE
              ? {
                  rootCa: readFileSync(e.CUSTODY_POLICY_LEDGER_GRPC_CA_FILE),
                  ...(e.CUSTODY_POLICY_LEDGER_GRPC_CERT_FILE && e.CUSTODY_POLICY_LEDGER_GRPC_KEY_FILE
                    ? { certChain: readFileSync(e.CUSTODY_POLICY_LEDGER_GRPC_CERT_FILE), privateKey: readFileSync(e.CUSTODY_POLICY_LEDGER_GRPC_KEY_FILE) }
                    : {}),
                }
              : undefined,
            callTimeoutMs: e.CUSTODY_POLICY_LEDGER_TIMEOUT,
            holdWaitMs: e.CUSTODY_POLICY_LEDGER_HOLD_WAIT,
            hotWalletMonitorIntervalMs: e.CUSTODY_POLICY_HOT_WALLET_MONITOR_INTERVAL,
          }
        : undefined,
      /** grpc: record every vote in audit first; refuse: no endpoint, every vote refused; disabled: unaudited (dev). */
      audit: operatorAuditSettings(e, AUDIT_GATE),
    })),
    env,
  );
}

export type PolicyConfig = ReturnType<typeof loadPolicyConfig>;
