// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable; secret values are never echoed).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ConfigError, defineConfig, envVar, grpcAllowedCallersEnv, grpcServerCredentials, grpcServerTlsEnv, operatorAuditEnv, operatorAuditSettings, parseCallerRules } from '@custody/platform';
import type { AssetProfile } from './application/sign-transaction.js';
import { parseAssetProfiles } from './application/asset-profile-schema.js';
import type { Operator } from './domain/operators.js';
import type { DepositXpub } from './domain/deposit-address.js';

const HEX32 = /^[0-9a-f]{64}$/;

const operatorsSchema = z.array(
  z.object({
    operatorId: z.string().regex(/^[!-~]{1,256}$/),
    roles: z.array(z.string().regex(/^[a-z][a-z0-9_]{0,63}$/)).min(1),
    keys: z.record(z.string().min(1), z.string().regex(HEX32, 'Ed25519 public key as 64 lowercase hex')),
  }),
);

export function parseOperators(json: unknown): Map<string, Operator> {
  const list = operatorsSchema.parse(json);
  return new Map(list.map((o) => [o.operatorId, { operatorId: o.operatorId, roles: o.roles, keys: new Map(Object.entries(o.keys).map(([k, v]) => [k, Uint8Array.from(Buffer.from(v, 'hex'))])) }]));
}

const depositXpubsSchema = z.array(
  z.object({
    asset: z.string().regex(/^[A-Za-z0-9._-]{1,32}$/),
    chain: z.string().min(1),
    kind: z.literal('evm'),
    xpub: z.string().regex(/^xpub[1-9A-HJ-NP-Za-km-z]{100,112}$/, 'an extended PUBLIC key (xpub…); private keys are refused'),
    account: z.number().int().min(0).max(0x7fffffff).default(0),
  }),
);

/** Deposit xpubs per asset (public derivation data; an xprv fails the pattern). */
export function parseDepositXpubs(json: unknown): Map<string, DepositXpub> {
  return new Map(depositXpubsSchema.parse(json).map((x) => [x.asset, { asset: x.asset, chain: x.chain, kind: x.kind, xpub: x.xpub, account: x.account }]));
}

/** Asset profiles (kind "evm" | "bitcoin"): the parser shared with the offline device (application/asset-profile-schema.ts). */
export function parseAssets(json: unknown): Map<string, AssetProfile> {
  return parseAssetProfiles(json);
}

/** "keyId=hex,keyId2=hex": trusted policy-service Ed25519 keys (validated here, decoded by parsePolicyKeys). */
function policyKeys() {
  return envVar.string({ minLength: 1 }).refine((raw) => raw.split(',').every((part) => /^[!-~]{1,256}=[0-9a-f]{64}$/.test(part) && !part.slice(0, part.indexOf('=')).includes('=')), 'expected keyId=<64 lowercase hex Ed25519 public key>[,...]');
}

export function parsePolicyKeys(raw: string): Map<string, Uint8Array> {
  return new Map(
    raw.split(',').map((part) => {
      const at = part.lastIndexOf('=');
      return [part.slice(0, at), Uint8Array.from(Buffer.from(part.slice(at + 1), 'hex'))] as const;
    }),
  );
}

const jsonFile = () =>
  envVar.string({ minLength: 1 }).transform((path, ctx) => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must name a readable JSON file' });
      return z.NEVER;
    }
  });

const schema = z.object({
  // The main gRPC port: grpc.health.v1 only (the chart's exec probe), always served; TLS from
  // CUSTODY_GRPC_TLS* (grpcServerTlsEnv, required: mtls or an explicit insecure).
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50058),
  CUSTODY_METRICS_PORT: envVar.port().default(9464),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
  CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: policyKeys(),
  CUSTODY_SIGNER_OPERATORS_FILE: jsonFile(),
  CUSTODY_SIGNER_ASSETS_FILE: jsonFile(),
  CUSTODY_SIGNER_ADMIN_ROLES: envVar.list().default(['key_custodian', 'security_officer']),
  // Local sealed store (embedded default). The master key is a secret: never logged.
  CUSTODY_SIGNER_MASTER_KEY: envVar.string({ minLength: 64 }).refine((v) => HEX32.test(v), 'must be 64 lowercase hex characters (32 bytes)').optional(),
  CUSTODY_SIGNER_KEK_ID: envVar.string({ minLength: 1 }).default('local-kek-1'),
  // PKCS#11 HSM (optional).
  PKCS11_MODULE: envVar.string({ minLength: 1 }).optional(),
  PKCS11_TOKEN_LABEL: envVar.string({ minLength: 1 }).optional(),
  PKCS11_PIN: envVar.string({ minLength: 1 }).optional(),
  // Vault / OpenBao transit (optional). The token is a secret: never logged.
  VAULT_ADDR: envVar.url({ protocols: ['http:', 'https:'] }).optional(),
  VAULT_TOKEN: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_SIGNER_VAULT_TRANSIT_MOUNT: envVar.string({ minLength: 1 }).default('transit'),
  CUSTODY_SHUTDOWN_GRACE: envVar.duration().default(10_000),
  // gRPC server (DepositAddressService). Absent port = no server. mTLS unless 'insecure' is chosen explicitly.
  CUSTODY_SIGNER_GRPC_PORT: envVar.port().optional(),
  CUSTODY_SIGNER_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_SIGNER_GRPC_TLS: z.enum(['mtls', 'insecure']).default('mtls'),
  CUSTODY_SIGNER_GRPC_TLS_CERT_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_SIGNER_GRPC_TLS_KEY_FILE: envVar.string({ minLength: 1 }).optional(),
  CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE: envVar.string({ minLength: 1 }).optional(),
  // Which client certificates may call DepositAddressService (intake's): comma-separated
  // sha256:<hex> | dns:<SAN> | uri:<SAN> | cn:<CN>. Required with mTLS.
  CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS: envVar
    .list()
    .refine((entries) => {
      try {
        parseCallerRules(entries);
        return true;
      } catch {
        return false;
      }
    }, 'expected sha256:<64 hex> | dns:<name> | uri:<uri> | cn:<name>[,...]')
    .optional(),
  // Account-level xpubs per asset for deposit addresses (public data only).
  CUSTODY_SIGNER_DEPOSIT_XPUBS_FILE: jsonFile().optional(),
  // KeyAdminService (operators): its own port; absent = no admin API. TLS from CUSTODY_GRPC_TLS* (grpcServerTlsEnv).
  CUSTODY_SIGNER_ADMIN_GRPC_PORT: envVar.port().optional(),
  CUSTODY_SIGNER_ADMIN_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
});

/**
 * KeyAdminService state changes are recorded by audit's AuditService before they are applied
 * (the platform's operator audit gate, docs/signer.md). Address absent: every key admin change
 * is refused (AUDIT_UNAVAILABLE) unless CUSTODY_AUDIT_GATE=disabled (dev only; an error
 * together with an address). mTLS (default) or plaintext to loopback only.
 */
const AUDIT_GATE = {
  address: 'CUSTODY_SIGNER_AUDIT_GRPC_ADDRESS',
  tls: 'CUSTODY_SIGNER_AUDIT_GRPC_TLS',
  caFile: 'CUSTODY_SIGNER_AUDIT_GRPC_CA_FILE',
  certFile: 'CUSTODY_SIGNER_AUDIT_GRPC_CERT_FILE',
  keyFile: 'CUSTODY_SIGNER_AUDIT_GRPC_KEY_FILE',
  timeout: 'CUSTODY_SIGNER_AUDIT_TIMEOUT',
  gate: 'CUSTODY_AUDIT_GATE',
} as const;

export function loadSignerConfig(env: NodeJS.ProcessEnv = process.env) {
  // defineConfig deep-freezes plain data; keys and maps are decoded after validation.
  const c = defineConfig(
    schema
      .and(grpcServerTlsEnv)
      // CUSTODY_GRPC_ALLOWED_CALLERS: who may call the main (health-only) port besides health (the chart: none).
      .and(grpcAllowedCallersEnv)
      .and(operatorAuditEnv(AUDIT_GATE))
      .refine((e) => e.CUSTODY_GRPC_PORT === 0 || (e.CUSTODY_GRPC_PORT !== e.CUSTODY_SIGNER_GRPC_PORT && e.CUSTODY_GRPC_PORT !== e.CUSTODY_SIGNER_ADMIN_GRPC_PORT), {
        message: 'the health port must differ from CUSTODY_SIGNER_GRPC_PORT and CUSTODY_SIGNER_ADMIN_GRPC_PORT',
        path: ['CUSTODY_GRPC_PORT'],
      })
      .refine((e) => e.CUSTODY_SIGNER_MASTER_KEY !== undefined || e.PKCS11_MODULE !== undefined || e.VAULT_ADDR !== undefined, { message: 'configure a key custody: CUSTODY_SIGNER_MASTER_KEY (local sealed store), PKCS11_MODULE and/or VAULT_ADDR', path: ['CUSTODY_SIGNER_MASTER_KEY'] })
      .refine((e) => e.VAULT_ADDR === undefined || e.VAULT_TOKEN !== undefined, { message: 'VAULT_ADDR needs VAULT_TOKEN', path: ['VAULT_TOKEN'] })
      .refine((e) => e.PKCS11_MODULE === undefined || (e.PKCS11_TOKEN_LABEL !== undefined && e.PKCS11_PIN !== undefined), { message: 'PKCS11_MODULE needs PKCS11_TOKEN_LABEL and PKCS11_PIN', path: ['PKCS11_PIN'] })
      .refine(
        (e) => e.CUSTODY_SIGNER_GRPC_PORT === undefined || e.CUSTODY_SIGNER_GRPC_TLS === 'insecure' || (e.CUSTODY_SIGNER_GRPC_TLS_CERT_FILE !== undefined && e.CUSTODY_SIGNER_GRPC_TLS_KEY_FILE !== undefined && e.CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE !== undefined),
        { message: 'mtls needs CUSTODY_SIGNER_GRPC_TLS_CERT_FILE, _KEY_FILE and _CLIENT_CA_FILE', path: ['CUSTODY_SIGNER_GRPC_TLS_CERT_FILE'] },
      )
      .refine((e) => e.CUSTODY_SIGNER_GRPC_PORT === undefined || e.CUSTODY_SIGNER_GRPC_TLS === 'insecure' || (e.CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS ?? []).length > 0, {
        message: 'mtls needs CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS (which client certificates may call the signer)',
        path: ['CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS'],
      })
      .transform((e) => ({
        health: { host: e.CUSTODY_GRPC_HOST, port: e.CUSTODY_GRPC_PORT, allowedCallers: e.CUSTODY_GRPC_ALLOWED_CALLERS },
        // File paths only here (read after validation: defineConfig deep-freezes, which a Buffer refuses).
        serverTls: e.CUSTODY_GRPC_TLS === 'mtls'
          ? { CUSTODY_GRPC_TLS: e.CUSTODY_GRPC_TLS, CUSTODY_GRPC_TLS_CERT_FILE: e.CUSTODY_GRPC_TLS_CERT_FILE, CUSTODY_GRPC_TLS_KEY_FILE: e.CUSTODY_GRPC_TLS_KEY_FILE, CUSTODY_GRPC_TLS_CLIENT_CA_FILE: e.CUSTODY_GRPC_TLS_CLIENT_CA_FILE }
          : { CUSTODY_GRPC_TLS: e.CUSTODY_GRPC_TLS },
        metricsPort: e.CUSTODY_METRICS_PORT,
        logLevel: e.CUSTODY_LOG_LEVEL,
        databaseUrl: e.CUSTODY_DB_URL,
        kafkaBrokers: e.KAFKA_BROKERS,
        trustedPolicyKeys: e.CUSTODY_SIGNER_POLICY_PUBLIC_KEYS,
        operators: e.CUSTODY_SIGNER_OPERATORS_FILE,
        assets: e.CUSTODY_SIGNER_ASSETS_FILE,
        adminRoles: e.CUSTODY_SIGNER_ADMIN_ROLES,
        localSealed: e.CUSTODY_SIGNER_MASTER_KEY ? { masterKeyHex: e.CUSTODY_SIGNER_MASTER_KEY, kekId: e.CUSTODY_SIGNER_KEK_ID } : undefined,
        pkcs11: e.PKCS11_MODULE && e.PKCS11_TOKEN_LABEL && e.PKCS11_PIN ? { modulePath: e.PKCS11_MODULE, tokenLabel: e.PKCS11_TOKEN_LABEL, pin: e.PKCS11_PIN } : undefined,
        vault: e.VAULT_ADDR && e.VAULT_TOKEN ? { address: e.VAULT_ADDR, token: e.VAULT_TOKEN, transitMount: e.CUSTODY_SIGNER_VAULT_TRANSIT_MOUNT } : undefined,
        shutdownGraceMs: e.CUSTODY_SHUTDOWN_GRACE,
        grpc:
          e.CUSTODY_SIGNER_GRPC_PORT === undefined
            ? undefined
            : {
                host: e.CUSTODY_SIGNER_GRPC_HOST,
                port: e.CUSTODY_SIGNER_GRPC_PORT,
                allowedCallers: e.CUSTODY_SIGNER_GRPC_ALLOWED_CALLERS,
                tls:
                  e.CUSTODY_SIGNER_GRPC_TLS === 'mtls' && e.CUSTODY_SIGNER_GRPC_TLS_CERT_FILE && e.CUSTODY_SIGNER_GRPC_TLS_KEY_FILE && e.CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE
                    ? { certFile: e.CUSTODY_SIGNER_GRPC_TLS_CERT_FILE, keyFile: e.CUSTODY_SIGNER_GRPC_TLS_KEY_FILE, clientCaFile: e.CUSTODY_SIGNER_GRPC_TLS_CLIENT_CA_FILE }
                    : undefined,
              },
        depositXpubs: e.CUSTODY_SIGNER_DEPOSIT_XPUBS_FILE,
        adminGrpc: e.CUSTODY_SIGNER_ADMIN_GRPC_PORT === undefined ? undefined : { host: e.CUSTODY_SIGNER_ADMIN_GRPC_HOST, port: e.CUSTODY_SIGNER_ADMIN_GRPC_PORT },
        /** grpc: record every key admin change in audit first; refuse: no endpoint, all refused; disabled: unaudited (dev). */
        audit: operatorAuditSettings(e, AUDIT_GATE),
      })),
    env,
  );
  const { localSealed, grpc, depositXpubs, adminGrpc, health, serverTls, ...rest } = c;
  const serverCredentials = grpcServerCredentials(serverTls);
  return {
    ...rest,
    healthGrpc: { host: health.host, port: health.port, credentials: serverCredentials, ...(health.allowedCallers ? { allowedCallers: [...health.allowedCallers] } : {}) },
    adminGrpc: adminGrpc ? { host: adminGrpc.host, port: adminGrpc.port, credentials: serverCredentials } : undefined,
    grpc: grpc
      ? {
          host: grpc.host,
          port: grpc.port,
          ...(grpc.allowedCallers ? { allowedCallers: [...grpc.allowedCallers] } : {}),
          credentials: grpc.tls
            ? { kind: 'tls' as const, certChain: readFileSync(grpc.tls.certFile), privateKey: readFileSync(grpc.tls.keyFile), clientCa: readFileSync(grpc.tls.clientCaFile), requireClientCertificate: true }
            : { kind: 'insecure' as const },
        }
      : undefined,
    depositXpubs: depositXpubs === undefined ? new Map<string, DepositXpub>() : fileContent('CUSTODY_SIGNER_DEPOSIT_XPUBS_FILE', () => parseDepositXpubs(depositXpubs)),
    trustedPolicyKeys: parsePolicyKeys(c.trustedPolicyKeys),
    operators: fileContent('CUSTODY_SIGNER_OPERATORS_FILE', () => parseOperators(c.operators)),
    assets: fileContent('CUSTODY_SIGNER_ASSETS_FILE', () => parseAssets(c.assets)),
    localSealed: localSealed ? { masterKey: Uint8Array.from(Buffer.from(localSealed.masterKeyHex, 'hex')), kekId: localSealed.kekId } : undefined,
  };
}

function fileContent<T>(variable: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const issue = (error as { issues?: { path: unknown[]; message: string }[] }).issues?.[0];
    throw new ConfigError([{ variable, message: issue ? `${issue.path.join('.')}: ${issue.message}` : 'file content is invalid' }]);
  }
}

export type SignerConfig = ReturnType<typeof loadSignerConfig>;
