// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, defineConfig, envVar, grpcAllowedCallersEnv, grpcClientCredentials, grpcClientSettings, grpcClientTlsEnv, grpcServerTlsEnv, operatorAuditEnv, operatorAuditSettings } from '@custody/platform';

const common = z.object({
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50051),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
  CUSTODY_INTAKE_TIMESTAMP_WINDOW: envVar.duration().default(300_000),
  CUSTODY_INTAKE_MAINTENANCE_MIN_NOTICE: envVar.duration().default(72 * 3_600_000),
  CUSTODY_INTAKE_PER_SOURCE_RATE: envVar.int({ min: 1, max: 1_000_000 }).default(200),
  CUSTODY_INTAKE_PER_SOURCE_BURST: envVar.int({ min: 1, max: 1_000_000 }).default(400),
  CUSTODY_SHUTDOWN_GRACE: envVar.duration().default(10_000),
  // The signer client's variables are in SIGNER_CLIENT below (grpcClientTlsEnv).
  CUSTODY_INTAKE_SIGNER_TIMEOUT: envVar.duration().default(3_000),
  // Operator API (IntakeAdminService) on its own port; absent = not served. Needs
  // CUSTODY_GRPC_TLS=mtls (the same server certificate), the operators' client CA and the
  // operators file (pinned certificates + Ed25519 keys).
  CUSTODY_INTAKE_ADMIN_PORT: envVar.port().optional(),
  CUSTODY_INTAKE_ADMIN_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_INTAKE_OPERATORS_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_INTAKE_KEY_ROTATION_MAX_OVERLAP: envVar.duration().default(7 * 24 * 3_600_000),
});

const HEX64 = /^[0-9a-f]{64}$/;
const operatorsSchema = z
  .array(
    z.object({
      operatorId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
      keyId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/),
      publicKey: z.string().regex(HEX64, 'raw Ed25519 public key, 64 lower-case hex digits'),
      certificateSha256: z.array(z.string().regex(HEX64, 'SHA-256 of the certificate DER, 64 lower-case hex digits')).min(1),
    }),
  )
  .min(1);

/** The operators file (JSON array of {operatorId, keyId, publicKey, certificateSha256[]}). */
export function parseOperators(json: unknown): { operatorId: string; keyId: string; publicKey: Uint8Array; certificateSha256: string[] }[] {
  return operatorsSchema.parse(json).map((o) => ({ ...o, publicKey: Uint8Array.from(Buffer.from(o.publicKey, 'hex')) }));
}

function adminServer(e: z.infer<typeof common> & { CUSTODY_GRPC_TLS: string }) {
  if (e.CUSTODY_INTAKE_ADMIN_PORT === undefined) return undefined;
  if (e.CUSTODY_GRPC_TLS !== 'mtls') throw new ConfigError([{ variable: 'CUSTODY_INTAKE_ADMIN_PORT', message: 'the admin API needs CUSTODY_GRPC_TLS=mtls (operators authenticate with a client certificate)' }]);
  if (!e.CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE) throw new ConfigError([{ variable: 'CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE', message: 'required with CUSTODY_INTAKE_ADMIN_PORT' }]);
  if (!e.CUSTODY_INTAKE_OPERATORS_FILE) throw new ConfigError([{ variable: 'CUSTODY_INTAKE_OPERATORS_FILE', message: 'required with CUSTODY_INTAKE_ADMIN_PORT' }]);
  return { host: e.CUSTODY_INTAKE_ADMIN_HOST, port: e.CUSTODY_INTAKE_ADMIN_PORT, clientCaFile: e.CUSTODY_INTAKE_ADMIN_CLIENT_CA_FILE, operatorsFile: e.CUSTODY_INTAKE_OPERATORS_FILE, maxKeyOverlapMs: e.CUSTODY_INTAKE_KEY_ROTATION_MAX_OVERLAP };
}

function readOperators(path: string): ReturnType<typeof parseOperators> {
  try {
    return parseOperators(JSON.parse(readFileSync(path, 'utf8')) as unknown);
  } catch (error) {
    const issue = (error as { issues?: { path: unknown[]; message: string }[] }).issues?.[0];
    throw new ConfigError([{ variable: 'CUSTODY_INTAKE_OPERATORS_FILE', message: issue ? `${issue.path.join('.')}: ${issue.message}` : 'must name a readable JSON file' }]);
  }
}

// mTLS is the production mode; insecure exists for local development only and must be chosen explicitly.
// CUSTODY_GRPC_ALLOWED_CALLERS (optional): certificates allowed on the gateway port besides per-integrator auth (the chart leaves it unset).
const tls = grpcServerTlsEnv.and(grpcAllowedCallersEnv);

/**
 * intake's only outbound gRPC client: the signer's DepositAddressService. Address absent =
 * no client (GetDepositAddress fails closed). mTLS (default) needs the CA, certificate and key
 * files; plaintext ('insecure') is refused to anything but a loopback address. The platform's
 * one client helper (grpcClientTlsEnv / grpcClientCredentials) validates and builds it.
 */
const SIGNER_CLIENT = {
  address: 'CUSTODY_INTAKE_SIGNER_ADDRESS',
  tls: 'CUSTODY_INTAKE_SIGNER_TLS',
  caFile: 'CUSTODY_INTAKE_SIGNER_TLS_CA_FILE',
  certFile: 'CUSTODY_INTAKE_SIGNER_TLS_CERT_FILE',
  keyFile: 'CUSTODY_INTAKE_SIGNER_TLS_KEY_FILE',
} as const;
const signerClientEnv = grpcClientTlsEnv(SIGNER_CLIENT);

/**
 * Operator admin actions are recorded by audit's AuditService before they are stored (the
 * platform's operator audit gate, docs/intake.md). Address absent: every admin change is
 * refused (AUDIT_UNAVAILABLE) unless CUSTODY_AUDIT_GATE=disabled (dev only; an error together
 * with an address). mTLS (default) or plaintext to loopback only, like the signer client.
 */
const AUDIT_GATE = {
  address: 'CUSTODY_INTAKE_AUDIT_GRPC_ADDRESS',
  tls: 'CUSTODY_INTAKE_AUDIT_GRPC_TLS',
  caFile: 'CUSTODY_INTAKE_AUDIT_GRPC_CA_FILE',
  certFile: 'CUSTODY_INTAKE_AUDIT_GRPC_CERT_FILE',
  keyFile: 'CUSTODY_INTAKE_AUDIT_GRPC_KEY_FILE',
  timeout: 'CUSTODY_INTAKE_AUDIT_TIMEOUT',
  gate: 'CUSTODY_AUDIT_GATE',
} as const;

function signerClient(e: { readonly CUSTODY_INTAKE_SIGNER_TIMEOUT: number }) {
  const settings = grpcClientSettings(e, SIGNER_CLIENT);
  return settings ? { ...settings, timeoutMs: e.CUSTODY_INTAKE_SIGNER_TIMEOUT } : undefined;
}

export function loadIntakeConfig(env: NodeJS.ProcessEnv = process.env) {
  const c = defineConfig(
    common.and(tls).and(signerClientEnv).and(operatorAuditEnv(AUDIT_GATE)).transform((e) => ({
      grpc: {
        host: e.CUSTODY_GRPC_HOST,
        port: e.CUSTODY_GRPC_PORT,
        // File paths here; read after validation (defineConfig deep-freezes, which a Buffer refuses).
        tls: e.CUSTODY_GRPC_TLS === 'mtls' ? { certFile: e.CUSTODY_GRPC_TLS_CERT_FILE, keyFile: e.CUSTODY_GRPC_TLS_KEY_FILE, clientCaFile: e.CUSTODY_GRPC_TLS_CLIENT_CA_FILE } : undefined,
        ...(e.CUSTODY_GRPC_ALLOWED_CALLERS ? { allowedCallers: e.CUSTODY_GRPC_ALLOWED_CALLERS } : {}),
      },
      metricsPort: e.CUSTODY_METRICS_PORT,
      logLevel: e.CUSTODY_LOG_LEVEL,
      databaseUrl: e.CUSTODY_DB_URL,
      kafkaBrokers: e.KAFKA_BROKERS,
      timestampWindowMs: e.CUSTODY_INTAKE_TIMESTAMP_WINDOW,
      maintenanceMinNoticeMs: e.CUSTODY_INTAKE_MAINTENANCE_MIN_NOTICE,
      perSourceLimit: { ratePerSecond: e.CUSTODY_INTAKE_PER_SOURCE_RATE, burst: e.CUSTODY_INTAKE_PER_SOURCE_BURST },
      shutdownGraceMs: e.CUSTODY_SHUTDOWN_GRACE,
      signer: signerClient(e),
      admin: adminServer(e),
      /** grpc: record every admin change in audit first; refuse: no endpoint, all refused; disabled: unaudited (dev). */
      audit: operatorAuditSettings(e, AUDIT_GATE),
    })),
    env,
  );
  const { tls: serverTls, ...grpc } = c.grpc;
  const admin = c.admin && serverTls
    ? {
        host: c.admin.host,
        port: c.admin.port,
        credentials: { kind: 'tls' as const, certChain: readFileSync(serverTls.certFile), privateKey: readFileSync(serverTls.keyFile), clientCa: readFileSync(c.admin.clientCaFile), requireClientCertificate: true },
        operators: readOperators(c.admin.operatorsFile),
        maxKeyOverlapMs: c.admin.maxKeyOverlapMs,
      }
    : undefined;
  return {
    ...c,
    admin,
    grpc: {
      ...grpc,
      credentials: serverTls
        ? { kind: 'tls' as const, certChain: readFileSync(serverTls.certFile), privateKey: readFileSync(serverTls.keyFile), clientCa: readFileSync(serverTls.clientCaFile), requireClientCertificate: true }
        : { kind: 'insecure' as const },
    },
    // Credentials built (files read and parsed) now, so a bad file stops the boot.
    signer: c.signer ? { address: c.signer.address, timeoutMs: c.signer.timeoutMs, mtls: c.signer.tls !== undefined, credentials: grpcClientCredentials(c.signer) } : undefined,
  };
}

export type IntakeConfig = ReturnType<typeof loadIntakeConfig>;
