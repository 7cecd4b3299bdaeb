// Operator use cases on integrators (IntakeAdminService): register, revoke, rotate a
// signing key with a bounded overlap, list. Input is checked field by field before
// anything is stored (INVALID_ARGUMENT naming the proto field); each accepted change is
// stored with the operator's evidence and published (integrator.changed) in one transaction,
// after the audit service recorded it (admin-audit.ts: no audit record, no change).
import { randomUUID } from 'node:crypto';
import type { OperatorAuditGate } from '@custody/platform';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { AssetRegistry } from '../domain/asset-registry.js';
import { ConflictError, InvalidArgumentError, NotFoundError, PreconditionError } from '../domain/errors.js';
import { Scopes, type Integrator, type Scope } from '../domain/integrator.js';
import { validateCustomerAccount } from '../domain/withdrawal.js';
import { auditAdminAction } from './admin-audit.js';
import { compileAllowlist } from './ip-allowlist.js';
import type { OperatorActor } from './operator-auth.js';
import type { AdminActionKind, AdminRecord, Clock, IntegratorAdminStore, NewIntegrator } from './ports.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;
const MAX_RATE = 1_000_000;

export interface RegisterIntegratorInput {
  readonly clientId: string;
  readonly keyId: string;
  /** 64 hex digits. */
  readonly publicKey: string;
  readonly certificateSha256: string;
  readonly allowedAssets: readonly string[];
  readonly scopes: readonly string[];
  readonly ratePerSecond: number;
  readonly burst: number;
  readonly ipAllowlist: readonly string[];
  readonly customerAccounts: readonly string[];
}

export interface RotateKeyInput {
  readonly clientId: string;
  readonly newKeyId: string;
  readonly newPublicKey: string;
  readonly overlapSeconds: number;
}

function checkId(field: string, value: string): void {
  if (value.length === 0) throw new InvalidArgumentError(field, `${field.toUpperCase()}_REQUIRED`, 'is required');
  if (!ID.test(value)) throw new InvalidArgumentError(field, `${field.toUpperCase()}_MALFORMED`, 'must be 1-128 characters of A-Z a-z 0-9 . _ : - (starting with a letter or digit)');
}

/** A 64-hex-digit Ed25519 public key that decodes to a curve point. */
export function parsePublicKey(field: string, hex: string): Uint8Array {
  if (!HEX64.test(hex)) throw new InvalidArgumentError(field, 'PUBLIC_KEY_MALFORMED', 'must be the raw 32-byte Ed25519 public key as 64 hex digits');
  const bytes = Uint8Array.from(Buffer.from(hex, 'hex'));
  try {
    ed25519.Point.fromBytes(bytes);
  } catch {
    throw new InvalidArgumentError(field, 'PUBLIC_KEY_INVALID', 'is not an Ed25519 public key');
  }
  return bytes;
}

export class IntegratorAdmin {
  constructor(
    private readonly deps: {
      readonly store: IntegratorAdminStore;
      readonly registry: AssetRegistry;
      readonly clock: Clock;
      /** Upper bound of a rotation overlap. */
      readonly maxKeyOverlapMs: number;
      readonly newId?: () => string;
      /** Every change is recorded in audit first (fail closed); absent: unaudited (dev/test compositions). */
      readonly audit?: OperatorAuditGate;
    },
  ) {}

  private record(action: AdminActionKind, target: string, actor: OperatorActor, correlationId: string, at: Date, reason?: string): AdminRecord {
    return { id: (this.deps.newId ?? randomUUID)(), action, target, actor, correlationId, at, ...(reason ? { reason } : {}) };
  }

  /** Validates everything; returns the integrator to store. Throws InvalidArgumentError naming the field. */
  validateRegistration(input: RegisterIntegratorInput): NewIntegrator {
    checkId('client_id', input.clientId);
    checkId('key_id', input.keyId);
    const publicKey = parsePublicKey('public_key', input.publicKey);
    if (!HEX64.test(input.certificateSha256)) throw new InvalidArgumentError('certificate_sha256', 'CERTIFICATE_SHA256_MALFORMED', 'must be the SHA-256 of the certificate DER as 64 hex digits');
    const known = new Set(this.deps.registry.list().map((a) => a.id));
    for (const a of input.allowedAssets) if (!known.has(a)) throw new InvalidArgumentError('allowed_assets', 'UNKNOWN_ASSET', `unknown asset ${a}`);
    if (new Set(input.allowedAssets).size !== input.allowedAssets.length) throw new InvalidArgumentError('allowed_assets', 'DUPLICATE_ENTRY', 'lists an asset twice');
    if (input.scopes.length === 0) throw new InvalidArgumentError('scopes', 'SCOPES_REQUIRED', `name at least one of ${Scopes.join(', ')}`);
    for (const s of input.scopes) if (!(Scopes as readonly string[]).includes(s)) throw new InvalidArgumentError('scopes', 'SCOPE_INVALID', `unknown scope ${s} (expected ${Scopes.join(', ')})`);
    if (!Number.isInteger(input.ratePerSecond) || input.ratePerSecond < 1 || input.ratePerSecond > MAX_RATE) throw new InvalidArgumentError('rate_per_second', 'RATE_LIMIT_INVALID', `must be 1-${MAX_RATE}`);
    if (!Number.isInteger(input.burst) || input.burst < 1 || input.burst > MAX_RATE) throw new InvalidArgumentError('burst', 'RATE_LIMIT_INVALID', `must be 1-${MAX_RATE}`);
    for (const entry of input.ipAllowlist) {
      const [, prefix] = entry.split('/');
      const family = entry.includes(':') ? 6 : 4;
      const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
      try {
        if (!prefixOk) throw new TypeError('prefix');
        compileAllowlist([entry]);
      } catch {
        throw new InvalidArgumentError('ip_allowlist', 'IP_ALLOWLIST_INVALID', `not an IP address or CIDR block: ${entry}`);
      }
    }
    for (const account of input.customerAccounts) {
      try {
        validateCustomerAccount(account);
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw new InvalidArgumentError('customer_accounts', err.code, `${account}: must be 1-128 characters of A-Z a-z 0-9 . _ : -`);
        throw err;
      }
    }
    return {
      clientId: input.clientId,
      scopes: [...new Set(input.scopes as Scope[])],
      allowedAssets: [...input.allowedAssets],
      ipAllowlist: [...input.ipAllowlist],
      rateLimit: { ratePerSecond: input.ratePerSecond, burst: input.burst },
      keys: [{ keyId: input.keyId, publicKey }],
      certificateFingerprints: [input.certificateSha256.toLowerCase()],
      customerAccounts: [...new Set(input.customerAccounts)],
    };
  }

  async register(actor: OperatorActor, input: RegisterIntegratorInput, correlationId: string): Promise<Integrator> {
    const integrator = this.validateRegistration(input);
    const now = this.deps.clock.now();
    const record = this.record('REGISTER_INTEGRATOR', integrator.clientId, actor, correlationId, now);
    await auditAdminAction(this.deps.audit, record);
    await this.deps.store.register(integrator, now, record);
    return this.mustFind(integrator.clientId);
  }

  async revoke(actor: OperatorActor, input: { readonly clientId: string; readonly reason: string }, correlationId: string): Promise<Integrator> {
    checkId('client_id', input.clientId);
    if (input.reason.length > 500) throw new InvalidArgumentError('reason', 'REASON_TOO_LONG', 'at most 500 characters');
    const current = await this.mustFind(input.clientId);
    if (current.status !== 'active') throw new PreconditionError('INTEGRATOR_REVOKED', 'this integrator is already revoked');
    const now = this.deps.clock.now();
    const record = this.record('REVOKE_INTEGRATOR', input.clientId, actor, correlationId, now, input.reason);
    await auditAdminAction(this.deps.audit, record);
    await this.deps.store.revoke(input.clientId, record);
    return this.mustFind(input.clientId);
  }

  async rotateKey(actor: OperatorActor, input: RotateKeyInput, correlationId: string): Promise<Integrator> {
    checkId('client_id', input.clientId);
    checkId('new_key_id', input.newKeyId);
    const publicKey = parsePublicKey('new_public_key', input.newPublicKey);
    const maxSeconds = Math.floor(this.deps.maxKeyOverlapMs / 1000);
    if (!Number.isInteger(input.overlapSeconds) || input.overlapSeconds < 0 || input.overlapSeconds > maxSeconds) {
      throw new InvalidArgumentError('overlap_seconds', 'OVERLAP_TOO_LONG', `must be 0-${maxSeconds} seconds`);
    }
    const current = await this.mustFind(input.clientId);
    if (current.status !== 'active') throw new PreconditionError('INTEGRATOR_REVOKED', 'a revoked integrator gets no new key');
    if (current.keys.some((k) => k.keyId === input.newKeyId)) throw new ConflictError('KEY_EXISTS', 'this integrator already has a key with new_key_id');
    const now = this.deps.clock.now();
    const expireAt = new Date(now.getTime() + input.overlapSeconds * 1000);
    const record = this.record('ROTATE_INTEGRATOR_KEY', input.clientId, actor, correlationId, now);
    await auditAdminAction(this.deps.audit, record);
    await this.deps.store.rotateKey(input.clientId, { keyId: input.newKeyId, publicKey }, expireAt, now, record);
    return this.mustFind(input.clientId);
  }

  list(): Promise<readonly Integrator[]> {
    return this.deps.store.list();
  }

  private async mustFind(clientId: string): Promise<Integrator> {
    const found = await this.deps.store.findByClientId(clientId);
    if (!found) throw new NotFoundError('INTEGRATOR_NOT_FOUND', 'no integrator with this client_id');
    return found;
  }
}
