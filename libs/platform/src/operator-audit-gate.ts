// The operator-action audit gate (ISO/TR 23576 9.3.9.4, docs/audit.md "Operator actions are
// audited first"): a service records each operator administrative action in the audit service
// (AuditService/RecordOperatorAction) BEFORE it applies it. If that does not succeed (audit
// unreachable, slower than the deadline, refusing, or no audit endpoint configured) the action
// is refused with UNAVAILABLE / AUDIT_UNAVAILABLE and nothing changes.
//
// One client for every service (policy's approvals, intake's IntakeAdminService, the signer's
// KeyAdminService): services never import each other, so this thin gRPC client uses only
// @custody/contracts. The port is shaped like @custody/audit's AuditGate, so an in-process
// composition can pass the audit handle's `gate` directly.
//
// Configuration, per caller (the names stay literal in its config.ts, where the chart's spec
// finds them): CUSTODY_<SVC>_AUDIT_GRPC_ADDRESS / _TLS / _CA_FILE / _CERT_FILE / _KEY_FILE
// (grpcClientTlsEnv: mTLS by default, plaintext only to loopback), CUSTODY_<SVC>_AUDIT_TIMEOUT
// (deadline of one call, default 3 s) and CUSTODY_AUDIT_GATE (required | disabled, dev only).
import { createHash } from 'node:crypto';
import { Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { z } from 'zod';
import { AuditServiceClient, RecordOperatorActionRequest, timestampFromDate, type RecordOperatorActionResponse } from '@custody/contracts';
import { envVar } from './config-fields.js';
import { DomainError } from './domain-error.js';
import { grpcClientCredentials, grpcClientSettings, grpcClientTlsEnv, type GrpcClientEnvNames, type GrpcClientSettings } from './grpc-client-tls.js';
import { CORRELATION_ID_KEY } from './grpc-errors.js';

/** One operator administrative action, as the audit service records it (C-9.3.6.2-d fields). */
export interface OperatorActionRecord {
  /** The individual operator identity (never a shared account). */
  readonly operatorId: string;
  /** Lower-case dotted, e.g. "intake.integrator.register". */
  readonly action: string;
  /** What the action is done to (an integrator's client id, a key id, a decision id). */
  readonly target: string;
  /** The operator's device or signing key, e.g. "key:<key id>". */
  readonly deviceId: string;
  /** An IPv4/IPv6 address (audit refuses anything else). */
  readonly sourceIp: string;
  readonly requestId: string;
  readonly approvalIds: readonly string[];
  readonly correlationId: string;
  readonly occurredAt: Date;
  /** SHA-256 of the canonical request (32 bytes): operatorRequestDigest. */
  readonly requestDigest?: Uint8Array;
}

/** The receipt of a committed audit record. */
export interface OperatorAuditReceipt {
  readonly sequence: bigint;
  readonly recordHash: Uint8Array;
}

export interface OperatorAuditGate {
  /** Resolves only once audit committed the record; throws otherwise (refuse the action). */
  record(action: OperatorActionRecord): Promise<OperatorAuditReceipt>;
}

/** The audit log could not record the action: it is refused (gRPC UNAVAILABLE). */
export class AuditUnavailableError extends DomainError {
  constructor(options: { cause?: unknown } = {}) {
    super('AUDIT_UNAVAILABLE', 'the audit service did not record the action: operator actions are refused until it can', options);
  }
}

/**
 * Records the action through the gate; any failure becomes AuditUnavailableError (map
 * AUDIT_UNAVAILABLE to gRPC UNAVAILABLE). Call it after validating the request and before
 * changing anything.
 */
export async function recordOperatorAction(gate: OperatorAuditGate, action: OperatorActionRecord): Promise<OperatorAuditReceipt> {
  try {
    return await gate.record(action);
  } catch (err) {
    throw err instanceof AuditUnavailableError ? err : new AuditUnavailableError({ cause: err });
  }
}

/** A gate that refuses everything: the service has no audit endpoint configured (fail closed). */
export function refusingOperatorAuditGate(addressVariable: string): OperatorAuditGate {
  return { record: () => Promise.reject(new AuditUnavailableError({ cause: new Error(`no audit endpoint is configured (${addressVariable})`) })) };
}

/**
 * SHA-256 of a request as audited: utf8(domain) || 0x00 || F(part)… with F(x) = u32be(len) || x
 * (strings as UTF-8). The domain names the request kind (e.g. "custody.intake.v1.admin-request").
 */
export function operatorRequestDigest(domain: string, parts: readonly (string | Uint8Array)[]): Uint8Array {
  const hash = createHash('sha256').update(Buffer.from(`${domain}\0`, 'utf8'));
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    hash.update(len).update(bytes);
  }
  return new Uint8Array(hash.digest());
}

export interface OperatorAuditGateOptions {
  /** host:port of the audit service's AuditService. */
  readonly address: string;
  /** grpcClientCredentials(…) of the caller's settings (mTLS in production). */
  readonly credentials: ChannelCredentials;
  /** Deadline of one RecordOperatorAction call; slower = refused. */
  readonly timeoutMs: number;
}

/** The gRPC gate: AuditService/RecordOperatorAction with a deadline; only a valid receipt resolves. */
export function createOperatorAuditGate(options: OperatorAuditGateOptions): OperatorAuditGate & { close(): void } {
  if (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs <= 0) throw new TypeError('createOperatorAuditGate: timeoutMs must be a positive integer');
  const client = new AuditServiceClient(options.address, options.credentials);
  return {
    record: (a) =>
      new Promise((resolve, reject) => {
        const request = RecordOperatorActionRequest.fromPartial({
          actor: a.operatorId,
          action: a.action,
          target: a.target,
          requestDigest: a.requestDigest ? Buffer.from(a.requestDigest) : Buffer.alloc(0),
          correlationId: a.correlationId,
          deviceId: a.deviceId,
          sourceIp: a.sourceIp,
          requestId: a.requestId,
          approvalIds: [...a.approvalIds],
          occurredAt: timestampFromDate(a.occurredAt),
        });
        const metadata = new Metadata();
        metadata.set(CORRELATION_ID_KEY, a.correlationId);
        client.recordOperatorAction(request, metadata, { deadline: Date.now() + options.timeoutMs }, (err: ServiceError | null, res?: RecordOperatorActionResponse) => {
          const recordHash = res ? new Uint8Array(res.recordHash) : new Uint8Array(0);
          if (err || !res || !/^[1-9][0-9]*$/.test(res.sequence) || recordHash.length !== 32) {
            reject(new AuditUnavailableError({ cause: err ?? new Error('RecordOperatorAction returned no valid receipt') }));
            return;
          }
          resolve({ sequence: BigInt(res.sequence), recordHash });
        });
      }),
    close: () => client.close(),
  };
}

// ---------------------------------------------------------------------------------------
// configuration

/** A caller's variable names: its audit client (grpcClientTlsEnv) + deadline + the dev flag. */
export interface OperatorAuditEnvNames extends GrpcClientEnvNames {
  /** e.g. CUSTODY_INTAKE_AUDIT_TIMEOUT (duration, default 3 s). */
  readonly timeout: string;
  /** CUSTODY_AUDIT_GATE: required (default) | disabled (dev only). */
  readonly gate: string;
}

/** What the configuration says; plain data (defineConfig deep-freezes it). */
export type OperatorAuditSettings =
  /** Record every admin action in audit first. */
  | { readonly mode: 'grpc'; readonly client: GrpcClientSettings; readonly timeoutMs: number }
  /** No address (and the gate not disabled): every admin action is refused AUDIT_UNAVAILABLE. */
  | { readonly mode: 'refuse'; readonly addressVariable: string }
  /** CUSTODY_AUDIT_GATE=disabled: admin actions are applied unaudited (dev only). */
  | { readonly mode: 'disabled' };

/**
 * The zod schema of a caller's audit-gate variables, to combine with its own
 * (`common.and(operatorAuditEnv(NAMES))`). Fails closed: the client's TLS rules of
 * grpcClientTlsEnv, and CUSTODY_AUDIT_GATE=disabled together with an address is an error
 * (set one or the other).
 */
export function operatorAuditEnv(names: OperatorAuditEnvNames): z.ZodType<Record<string, unknown>> {
  const own = z.object({
    [names.timeout]: envVar.duration().default(3_000),
    [names.gate]: z.enum(['required', 'disabled']).default('required'),
  });
  return grpcClientTlsEnv(names)
    .and(own)
    .superRefine((raw, ctx) => {
      const e = raw as Record<string, unknown>;
      if (e[names.gate] === 'disabled' && e[names.address] !== undefined) {
        ctx.addIssue({ code: 'custom', path: [names.gate], message: `${names.gate}=disabled contradicts ${names.address}: set one or the other` });
      }
    }) as unknown as z.ZodType<Record<string, unknown>>;
}

/** The validated settings (call on the output of a schema that includes operatorAuditEnv(names)). */
export function operatorAuditSettings(env: object, names: OperatorAuditEnvNames): OperatorAuditSettings {
  const e = env as Record<string, unknown>;
  const client = grpcClientSettings(env, names);
  if (client) {
    const timeoutMs = e[names.timeout];
    if (typeof timeoutMs !== 'number') throw new TypeError(`operatorAuditSettings: ${names.timeout} is not validated (use operatorAuditEnv first)`);
    return { mode: 'grpc', client, timeoutMs };
  }
  return e[names.gate] === 'disabled' ? { mode: 'disabled' } : { mode: 'refuse', addressVariable: names.address };
}

/**
 * The gate for the settings: the gRPC client (credentials read now, so a bad file stops the
 * boot), a refusing gate without an address, or undefined when the gate is disabled (dev).
 */
export function operatorAuditGateFor(settings: OperatorAuditSettings): (OperatorAuditGate & { close(): void }) | undefined {
  switch (settings.mode) {
    case 'grpc':
      return createOperatorAuditGate({ address: settings.client.address, credentials: grpcClientCredentials(settings.client), timeoutMs: settings.timeoutMs });
    case 'refuse':
      return { ...refusingOperatorAuditGate(settings.addressVariable), close: () => undefined };
    case 'disabled':
      return undefined;
  }
}
