// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineConfig, envVar, grpcAllowedCallersEnv, grpcServerTlsEnv, grpcServerCredentials } from '@custody/platform';

const common = z.object({
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50054),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  // Reconciliation (C-8.2.3-d): "ASSET=chain@host:port" per chain-adapter, comma-separated; empty = no job.
  CUSTODY_LEDGER_RECONCILE_TARGETS: envVar.custom('ASSET=chain@host:port[,ASSET=chain@host:port…]', parseTargets).default([]),
  /** Fee asset per chain name as the events carry it ("ethereum-mainnet=ETH,…"), over DEFAULT_FEE_ASSETS; a chain without one cannot settle. */
  CUSTODY_LEDGER_FEE_ASSETS: envVar.custom('chain=ASSET[,chain=ASSET…]', (raw) => (raw.split(',').every((i) => /^[a-z0-9-]{1,64}=[A-Z0-9]{2,16}$/.test(i.trim())) ? Object.fromEntries(raw.split(',').map((i) => i.trim().split('='))) as Record<string, string> : undefined)).default({}),
  CUSTODY_LEDGER_RECONCILE_INTERVAL: envVar.duration().default(60_000),
  CUSTODY_LEDGER_RECONCILE_TIMEOUT: envVar.duration().default(10_000),
  /** TLS to the chain-adapters: the CA of their certificates (absent: plaintext, loopback/dev only) and our client certificate (mTLS). */
  CUSTODY_LEDGER_CHAIN_GRPC_CA_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_LEDGER_CHAIN_GRPC_CERT_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_LEDGER_CHAIN_GRPC_KEY_FILE: envVar.string({ minLength: 1 }).optional(),
});

const TARGET = /^([A-Z0-9]{2,16})=([a-z0-9-]{1,64})@([A-Za-z0-9.-]{1,253}:[0-9]{1,5})$/;

function parseTargets(raw: string): { asset: string; chain: string; address: string }[] | undefined {
  const items = raw.split(',').map((i) => i.trim()).filter((i) => i !== '');
  const targets = items.map((i) => TARGET.exec(i)).map((m) => (m ? { asset: m[1]!, chain: m[2]!, address: m[3]! } : undefined));
  if (targets.some((t) => t === undefined)) return undefined;
  const ok = targets as { asset: string; chain: string; address: string }[];
  return new Set(ok.map((t) => t.asset)).size === ok.length ? ok : undefined;
}

// CUSTODY_GRPC_ALLOWED_CALLERS (optional): who may call the gRPC port (grpc-caller-identity in @custody/platform).
const tls = grpcServerTlsEnv.and(grpcAllowedCallersEnv);

export function loadLedgerConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    common.and(tls).transform((e) => ({
      grpc: {
        host: e.CUSTODY_GRPC_HOST,
        port: e.CUSTODY_GRPC_PORT,
        credentials: grpcServerCredentials(e),
        ...(e.CUSTODY_GRPC_ALLOWED_CALLERS ? { allowedCallers: e.CUSTODY_GRPC_ALLOWED_CALLERS } : {}),
      },
      logLevel: e.CUSTODY_LOG_LEVEL,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
      metricsPort: e.CUSTODY_METRICS_PORT,
      feeAssets: e.CUSTODY_LEDGER_FEE_ASSETS,
      reconciliation: {
        targets: e.CUSTODY_LEDGER_RECONCILE_TARGETS,
        intervalMs: e.CUSTODY_LEDGER_RECONCILE_INTERVAL,
        timeoutMs: e.CUSTODY_LEDGER_RECONCILE_TIMEOUT,
        tls: e.CUSTODY_LEDGER_CHAIN_GRPC_CA_FILE
          ? {
              rootCa: readFileSync(e.CUSTODY_LEDGER_CHAIN_GRPC_CA_FILE),
              ...(e.CUSTODY_LEDGER_CHAIN_GRPC_CERT_FILE && e.CUSTODY_LEDGER_CHAIN_GRPC_KEY_FILE
                ? { certChain: readFileSync(e.CUSTODY_LEDGER_CHAIN_GRPC_CERT_FILE), privateKey: readFileSync(e.CUSTODY_LEDGER_CHAIN_GRPC_KEY_FILE) }
                : {}),
            }
          : undefined,
      },
    })),
    env,
  );
}
