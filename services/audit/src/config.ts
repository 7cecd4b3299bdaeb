// The only file that reads process.env. Validated once at boot (a bad value stops the
// service with a message naming the variable).
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { defineConfig, envVar, grpcAllowedCallersEnv, grpcServerTlsEnv, grpcServerCredentials } from '@custody/platform';

const HEX32 = /^[0-9a-fA-F]{64}$/;

/** "keyId:hex32,keyId2:hex32" -> Map (trusted checkpoint public keys). */
export function parseTrustedKeys(entries: readonly string[]): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  for (const entry of entries) {
    const at = entry.lastIndexOf(':');
    const id = entry.slice(0, at);
    const hex = entry.slice(at + 1);
    if (at <= 0 || !HEX32.test(hex)) throw new Error(`trusted key "${entry.slice(0, 40)}" must be <key-id>:<64 hex digits of an Ed25519 public key>`);
    keys.set(id, Uint8Array.from(Buffer.from(hex, 'hex')));
  }
  return keys;
}

/** A 32-byte Ed25519 secret, stored raw (32 bytes) or as 64 hex digits. */
export function readSecretKeyFile(path: string): Uint8Array {
  const raw = readFileSync(path);
  if (raw.length === 32) return Uint8Array.from(raw);
  const text = raw.toString('utf8').trim();
  if (HEX32.test(text)) return Uint8Array.from(Buffer.from(text, 'hex'));
  throw new Error(`${path}: the audit checkpoint key file must hold 32 raw bytes or 64 hex digits`);
}

const common = z.object({
  CUSTODY_GRPC_HOST: envVar.string({ minLength: 1 }).default('127.0.0.1'),
  CUSTODY_GRPC_PORT: envVar.port().default(50055),
  CUSTODY_LOG_LEVEL: envVar.logLevel().default('info'),
  CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
  KAFKA_BROKERS: envVar.list(),
  CUSTODY_AUDIT_KEY_ID: envVar.string({ minLength: 1 }),
  CUSTODY_AUDIT_KEY_FILE: envVar.string({ minLength: 1 }),
  /** Extra trusted checkpoint keys (rotated-out keys): "id:hex,id:hex". */
  CUSTODY_AUDIT_TRUSTED_KEYS: envVar.list().default([]),
  CUSTODY_AUDIT_CHECKPOINT_INTERVAL: envVar.duration().default(60_000),
});

// CUSTODY_GRPC_ALLOWED_CALLERS (optional): who may call the gRPC port (grpc-caller-identity in @custody/platform).
const tls = grpcServerTlsEnv.and(grpcAllowedCallersEnv);

export function loadAuditConfig(env: NodeJS.ProcessEnv = process.env) {
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
      keyId: e.CUSTODY_AUDIT_KEY_ID,
      keyFile: e.CUSTODY_AUDIT_KEY_FILE,
      extraTrustedKeys: e.CUSTODY_AUDIT_TRUSTED_KEYS,
      checkpointIntervalMs: e.CUSTODY_AUDIT_CHECKPOINT_INTERVAL,
    })),
    env,
  );
}

/** The verification CLI: database and trusted keys only. */
export function loadVerifyConfig(env: NodeJS.ProcessEnv = process.env) {
  return defineConfig(
    z
      .object({
        CUSTODY_DB_URL: envVar.url({ protocols: ['postgres:', 'postgresql:'] }),
        CUSTODY_AUDIT_DB_SCHEMA: envVar.string({ minLength: 1 }).default('audit'),
        CUSTODY_AUDIT_TRUSTED_KEYS: envVar.list().default([]),
      })
      .transform((e) => ({ databaseUrl: e.CUSTODY_DB_URL, schema: e.CUSTODY_AUDIT_DB_SCHEMA, trustedKeys: e.CUSTODY_AUDIT_TRUSTED_KEYS })),
    env,
  );
}

export type AuditConfig = ReturnType<typeof loadAuditConfig>;
