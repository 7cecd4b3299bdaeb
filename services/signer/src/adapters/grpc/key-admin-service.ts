// KeyAdminService (custody.signer.v1): the operators' API to the key inventory, the key
// lifecycle and key backups, over the KeyLifecycle use case. Every state change carries
// the operators' Ed25519 signatures over the canonical key-transition bytes
// (`keyTransitionSigningBytes`, the one scheme the application verifies). Input is
// validated here (INVALID_ARGUMENT with a reason naming the field; nothing is stored);
// domain errors map to gRPC status + `error-reason`. Responses carry public facts only:
// no custody reference, no key material, shares only encrypted to their custodian.
// With an operator audit gate, every state-changing call (generate, the lifecycle
// transitions, backup, restore) is recorded by the audit service AFTER its input validated
// and BEFORE the lifecycle runs: if audit does not commit the record the call is refused
// (UNAVAILABLE, AUDIT_UNAVAILABLE) and nothing changes (ISO/TR 23576 9.3.9.4, docs/signer.md).
import { randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import {
  ActivateKeyResponse,
  BackupManifest as WireBackupManifest,
  CreateBackupSharesResponse,
  DeactivateKeyResponse,
  DestroyKeyResponse,
  EncryptedBackupShare,
  GenerateKeyResponse,
  GetKeyResponse,
  KeyInfo,
  KeyState as WireKeyState,
  ListKeysResponse,
  RestoreFromSharesResponse,
  ResumeKeyResponse,
  RetireKeyResponse,
  SuspendKeyResponse,
  type ActivateKeyRequest,
  type AdminRequest,
  type CreateBackupSharesRequest,
  type DeactivateKeyRequest,
  type DestroyKeyRequest,
  type GenerateKeyRequest,
  type GetKeyRequest,
  type KeyAdminServiceServer,
  type ListKeysRequest,
  type RestoreFromSharesRequest,
  type ResumeKeyRequest,
  type RetireKeyRequest,
  type SuspendKeyRequest,
} from '@custody/contracts';
import {
  AuditUnavailableError,
  DomainError,
  currentCorrelation,
  isDomainError,
  operatorRequestDigest,
  recordOperatorAction,
  unaryHandler,
  type GrpcCodeMap,
  type Logger,
  type OperatorAuditGate,
} from '@custody/platform';
import type { KeyLifecycle } from '../../application/key-lifecycle.js';
import type { BackupManifest, EncryptedShare } from '../../domain/backup.js';
import { effectiveState, KEY_ALGORITHMS, KEY_TIERS, type AdminTransition, type CustodyKind, type KeyAlgorithm, type KeyRecord, type KeyState, type KeyTier } from '../../domain/key.js';
import type { KeyTransitionRequest, OperatorSignature } from '../../domain/operators.js';
import { SIGNER_ERROR_DOMAIN } from './deposit-address-service.js';

export { KeyAdminServiceService } from '@custody/contracts';

/** Bad input, naming the field (reason `<FIELD>_INVALID` / `<FIELD>_REQUIRED`). */
export class KeyAdminInputError extends DomainError {}

export const KEY_ADMIN_ERROR_CODES: GrpcCodeMap = Object.freeze({
  QUORUM_NOT_MET: status.FAILED_PRECONDITION,
  ROLE_MISSING: status.PERMISSION_DENIED,
  KEY_NOT_FOUND: status.NOT_FOUND,
  // one key per wallet (signer_key.wallet_id UNIQUE; rotation = a new wallet + sweep), key ids unique
  KEY_EXISTS_FOR_WALLET: status.ALREADY_EXISTS,
  KEY_ID_EXISTS: status.ALREADY_EXISTS,
  INVALID_TRANSITION: status.FAILED_PRECONDITION,
  BACKUP_INVALID: status.FAILED_PRECONDITION,
  BACKUP_NOT_SUPPORTED: status.FAILED_PRECONDITION,
  KEY_ALGORITHM_MISMATCH: status.FAILED_PRECONDITION,
  KEY_CUSTODY_CONFIG_INVALID: status.FAILED_PRECONDITION,
  KEY_CUSTODY_FAILED: status.UNAVAILABLE,
  REQUEST_REQUIRED: status.INVALID_ARGUMENT,
  REQUEST_ID_INVALID: status.INVALID_ARGUMENT,
  KEY_ID_INVALID: status.INVALID_ARGUMENT,
  EXPIRES_AT_INVALID: status.INVALID_ARGUMENT,
  APPROVALS_INVALID: status.INVALID_ARGUMENT,
  REASON_INVALID: status.INVALID_ARGUMENT,
  WALLET_ID_INVALID: status.INVALID_ARGUMENT,
  CHAIN_INVALID: status.INVALID_ARGUMENT,
  ALGORITHM_INVALID: status.INVALID_ARGUMENT,
  TIER_INVALID: status.INVALID_ARGUMENT,
  CUSTODY_INVALID: status.INVALID_ARGUMENT,
  TTL_SECONDS_INVALID: status.INVALID_ARGUMENT,
  THRESHOLD_INVALID: status.INVALID_ARGUMENT,
  CUSTODIANS_INVALID: status.INVALID_ARGUMENT,
  MANIFEST_REQUIRED: status.INVALID_ARGUMENT,
  MANIFEST_INVALID: status.INVALID_ARGUMENT,
  SHARES_INVALID: status.INVALID_ARGUMENT,
  // the audit service did not record the action: refused, nothing changed
  AUDIT_UNAVAILABLE: status.UNAVAILABLE,
});

/** Identifiers that end up inside signed bytes joined by '|', ',' and '=': none of those, no spaces. */
const ID = /^[A-Za-z0-9._:@/-]{1,128}$/;
const CUSTODIES: readonly CustodyKind[] = ['local-sealed', 'pkcs11', 'vault'];
const STATES: Readonly<Record<KeyState, WireKeyState>> = {
  generated: WireKeyState.KEY_STATE_GENERATED,
  inactive: WireKeyState.KEY_STATE_INACTIVE,
  active: WireKeyState.KEY_STATE_ACTIVE,
  suspended: WireKeyState.KEY_STATE_SUSPENDED,
  retired: WireKeyState.KEY_STATE_RETIRED,
  destroyed: WireKeyState.KEY_STATE_DESTROYED,
};

function bad(code: string, message: string): never {
  throw new KeyAdminInputError(code, message);
}

function id(value: string, code: string, field: string): string {
  if (!ID.test(value)) bad(code, `${field} must be 1-128 of A-Z a-z 0-9 . _ : @ / -`);
  return value;
}

export interface Parsed {
  readonly request: Omit<KeyTransitionRequest, 'transition'>;
  readonly approvals: OperatorSignature[];
  readonly reason: string;
}

function parseAdmin(r: AdminRequest | undefined): Parsed {
  if (!r) bad('REQUEST_REQUIRED', 'request is required');
  const requestId = id(r.requestId, 'REQUEST_ID_INVALID', 'request.request_id');
  const keyId = id(r.keyId, 'KEY_ID_INVALID', 'request.key_id');
  if (!/^[1-9]\d{0,11}$/.test(r.expiresAt)) bad('EXPIRES_AT_INVALID', 'request.expires_at must be positive Unix seconds');
  const expiresAt = Number(r.expiresAt);
  if (r.approvals.length > 32) bad('APPROVALS_INVALID', 'request.approvals: at most 32');
  const approvals = r.approvals.map((a, i): OperatorSignature => {
    if (!/^[!-~]{1,256}$/.test(a.operatorId)) bad('APPROVALS_INVALID', `request.approvals[${i}].operator_id is missing or malformed`);
    if (!/^[!-~]{1,64}$/.test(a.role)) bad('APPROVALS_INVALID', `request.approvals[${i}].role is missing or malformed`);
    if (!/^[!-~]{1,256}$/.test(a.keyId)) bad('APPROVALS_INVALID', `request.approvals[${i}].key_id is missing or malformed`);
    if (a.signature.length !== 64) bad('APPROVALS_INVALID', `request.approvals[${i}].signature must be 64 bytes (Ed25519)`);
    return { operatorId: a.operatorId, role: a.role, keyId: a.keyId, signature: new Uint8Array(a.signature) };
  });
  if (r.reason.length > 500 || !/^[ -~]*$/.test(r.reason)) bad('REASON_INVALID', 'request.reason must be at most 500 printable ASCII characters');
  return { request: { requestId, keyId, expiresAt }, approvals, reason: r.reason || 'operator request' };
}

function seconds(date: Date | undefined): string {
  return date === undefined ? '0' : String(Math.floor(date.getTime() / 1000));
}

/** Public facts only (no custody ref). */
export function keyInfo(key: KeyRecord, now: Date): KeyInfo {
  return KeyInfo.fromPartial({
    keyId: key.keyId,
    walletId: key.walletId,
    tier: key.tier,
    purpose: key.purpose,
    chain: key.chain,
    algorithm: key.algorithm,
    custody: key.custody,
    address: key.address,
    state: STATES[key.state],
    effectiveState: STATES[effectiveState(key, now)],
    publicKey: Buffer.from(key.publicKey),
    activeUntil: key.state === 'active' ? seconds(key.activeUntil) : '0',
    signaturesLeft: key.state === 'active' && key.signaturesLeft !== undefined ? String(key.signaturesLeft) : '-1',
  });
}

function wireManifest(m: BackupManifest, keyId: string): WireBackupManifest {
  return WireBackupManifest.fromPartial({ backupId: m.backupId, keyId, threshold: m.threshold, total: m.total, custodians: [...m.custodians], fingerprint: m.fingerprint });
}

function wireShare(s: EncryptedShare): EncryptedBackupShare {
  return EncryptedBackupShare.fromPartial({
    backupId: s.backupId,
    custodianId: s.custodianId,
    index: s.index,
    threshold: s.threshold,
    total: s.total,
    ephemeralPublicKey: Buffer.from(s.ephemeralPublicKey),
    nonce: Buffer.from(s.nonce),
    ciphertext: Buffer.from(s.ciphertext),
  });
}

export interface KeyAdminServiceDeps {
  readonly lifecycle: KeyLifecycle;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** Every state change is recorded in audit first (fail closed); absent: unaudited (dev/test compositions). */
  readonly audit?: OperatorAuditGate;
}

/** Domain of the audited request digest (operatorRequestDigest). */
export const KEY_ADMIN_REQUEST_DIGEST_DOMAIN = 'custody.signer.v1.key-admin-request';

/** The caller's IP from grpc-js getPeer() ("1.2.3.4:5", "[::1]:5", "ipv4:…"); "0.0.0.0" if it is not an IP. */
export function peerIp(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const host = bare.startsWith('[') ? bare.slice(1, bare.indexOf(']')) : bare.slice(0, Math.max(0, bare.lastIndexOf(':')));
  return isIP(host) !== 0 ? host : isIP(bare) !== 0 ? bare : '0.0.0.0';
}

/**
 * SHA-256 of a key admin request as audited: operatorRequestDigest(KEY_ADMIN_REQUEST_DIGEST_DOMAIN,
 * [rpc, request_id, key_id, expires_at, reason, approval count, (operator_id, role, key_id,
 * signature) per approval, then the call's own facts]). Never covers secret bytes (a restore's
 * opened shares are represented by custodian id and index only).
 */
export function keyAdminRequestDigest(rpc: string, p: Parsed, facts: readonly (string | Uint8Array)[]): Uint8Array {
  return operatorRequestDigest(KEY_ADMIN_REQUEST_DIGEST_DOMAIN, [
    rpc,
    p.request.requestId,
    p.request.keyId,
    String(p.request.expiresAt),
    p.reason,
    String(p.approvals.length),
    ...p.approvals.flatMap((a) => [a.operatorId, a.role, a.keyId, a.signature]),
    ...facts,
  ]);
}

export function createKeyAdminService(deps: KeyAdminServiceDeps): KeyAdminServiceServer {
  const now = deps.now ?? (() => new Date());
  /**
   * Records the operator action in audit before anything changes; throws AuditUnavailableError
   * when audit does not commit it. Actor = the first approving operator (the one who submits),
   * device = its signing key, approval ids = every approving operator; request id = the
   * signed request_id.
   */
  const audit = async (rpc: string, action: string, p: Parsed, call: ServerUnaryCall<unknown, unknown>, facts: readonly (string | Uint8Array)[]): Promise<void> => {
    if (!deps.audit) return;
    const first = p.approvals[0];
    // Nothing changes without an audited actor: no approvals, no state change (the quorum could never be met).
    if (!first) throw new KeyAdminInputError('QUORUM_NOT_MET', 'a key admin action needs operator approvals');
    await recordOperatorAction(deps.audit, {
      operatorId: first.operatorId,
      action,
      target: p.request.keyId,
      deviceId: `key:${first.keyId}`,
      sourceIp: peerIp(call.getPeer()),
      requestId: p.request.requestId,
      approvalIds: [...new Set(p.approvals.map((a) => a.operatorId))],
      correlationId: currentCorrelation()?.correlationId ?? randomUUID(),
      occurredAt: now(),
      requestDigest: keyAdminRequestDigest(rpc, p, facts),
    });
  };
  const handler = <Req, Res>(rpc: string, fn: (req: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>) =>
    unaryHandler<Req, Res>(fn, {
      codeMap: KEY_ADMIN_ERROR_CODES,
      domain: SIGNER_ERROR_DOMAIN,
      // Reason codes only; an unexpected error is logged by name and message (never request bytes).
      onError: (err) =>
        err instanceof AuditUnavailableError
          ? deps.logger.error({ rpc, reason: err.code, alert: 'signer_audit_unavailable' }, 'key admin request refused: the audit service did not record it')
          : isDomainError(err)
          ? deps.logger.info({ rpc, reason: err.code }, 'key admin request refused')
          : deps.logger.error({ rpc, errName: (err as Error | undefined)?.name, errMessage: (err as Error | undefined)?.message }, 'key admin request failed'),
    });

  const transition = <Req extends { request?: AdminRequest | undefined }, Res>(rpc: string, name: AdminTransition, wrap: (key: KeyInfo) => Res) =>
    handler<Req, Res>(rpc, async (req, call) => {
      const p = parseAdmin(req.request);
      let box: { ttlSeconds?: number; maxSignatures?: number } = {};
      if (name === 'activate') {
        const { ttlSeconds, maxSignatures } = req as unknown as ActivateKeyRequest;
        if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds <= 0) bad('TTL_SECONDS_INVALID', 'ttl_seconds must be a positive number of seconds');
        box = { ttlSeconds, ...(maxSignatures ? { maxSignatures } : {}) };
      }
      await audit(rpc, `signer.key.${name}`, p, call as ServerUnaryCall<unknown, unknown>, [name, String(box.ttlSeconds ?? 0), String(box.maxSignatures ?? 0)]);
      const key = await deps.lifecycle.transition({ ...p.request, transition: name, ...box }, p.approvals, p.reason);
      deps.logger.info({ rpc, keyId: key.keyId, state: key.state }, 'key transition applied');
      return wrap(keyInfo(key, now()));
    });

  return {
    listKeys: handler<ListKeysRequest, ListKeysResponse>('ListKeys', async (req) => {
      if (req.walletId !== '') id(req.walletId, 'WALLET_ID_INVALID', 'wallet_id');
      if (req.chain !== '') id(req.chain, 'CHAIN_INVALID', 'chain');
      const keys = await deps.lifecycle.listKeys({ ...(req.walletId ? { walletId: req.walletId } : {}), ...(req.chain ? { chain: req.chain } : {}) });
      const at = now();
      return ListKeysResponse.fromPartial({ keys: keys.map((k) => keyInfo(k, at)) });
    }),
    getKey: handler<GetKeyRequest, GetKeyResponse>('GetKey', async (req) => {
      const key = await deps.lifecycle.getKey(id(req.keyId, 'KEY_ID_INVALID', 'key_id'));
      return GetKeyResponse.fromPartial({ key: keyInfo(key, now()) });
    }),
    generateKey: handler<GenerateKeyRequest, GenerateKeyResponse>('GenerateKey', async (req, call) => {
      const p = parseAdmin(req.request);
      const walletId = id(req.walletId, 'WALLET_ID_INVALID', 'wallet_id');
      const chain = id(req.chain, 'CHAIN_INVALID', 'chain');
      if (!KEY_ALGORITHMS.includes(req.algorithm as KeyAlgorithm)) bad('ALGORITHM_INVALID', `algorithm must be one of ${KEY_ALGORITHMS.join(', ')}`);
      if (!KEY_TIERS.includes(req.tier as KeyTier)) bad('TIER_INVALID', `tier must be one of ${KEY_TIERS.join(', ')}`);
      if (!CUSTODIES.includes(req.custody as CustodyKind)) bad('CUSTODY_INVALID', `custody must be one of ${CUSTODIES.join(', ')}`);
      // Before audit and the quorum work: a wallet that already has a key (or a taken key id) is refused precisely.
      await deps.lifecycle.assertCanGenerate({ keyId: p.request.keyId, walletId });
      await audit('GenerateKey', 'signer.key.generate', p, call as ServerUnaryCall<unknown, unknown>, [walletId, chain, req.algorithm, req.tier, req.custody]);
      const key = await deps.lifecycle.generate(
        { ...p.request, walletId, chain, algorithm: req.algorithm as KeyAlgorithm, tier: req.tier as KeyTier, custody: req.custody as CustodyKind },
        p.approvals,
      );
      deps.logger.info({ rpc: 'GenerateKey', keyId: key.keyId, walletId, custody: key.custody }, 'key generated');
      return GenerateKeyResponse.fromPartial({ key: keyInfo(key, now()) });
    }),
    activateKey: transition<ActivateKeyRequest, ActivateKeyResponse>('ActivateKey', 'activate', (key) => ActivateKeyResponse.fromPartial({ key })),
    deactivateKey: transition<DeactivateKeyRequest, DeactivateKeyResponse>('DeactivateKey', 'deactivate', (key) => DeactivateKeyResponse.fromPartial({ key })),
    suspendKey: transition<SuspendKeyRequest, SuspendKeyResponse>('SuspendKey', 'suspend', (key) => SuspendKeyResponse.fromPartial({ key })),
    resumeKey: transition<ResumeKeyRequest, ResumeKeyResponse>('ResumeKey', 'resume', (key) => ResumeKeyResponse.fromPartial({ key })),
    retireKey: transition<RetireKeyRequest, RetireKeyResponse>('RetireKey', 'retire', (key) => RetireKeyResponse.fromPartial({ key })),
    destroyKey: transition<DestroyKeyRequest, DestroyKeyResponse>('DestroyKey', 'destroy', (key) => DestroyKeyResponse.fromPartial({ key })),
    createBackupShares: handler<CreateBackupSharesRequest, CreateBackupSharesResponse>('CreateBackupShares', async (req, call) => {
      const p = parseAdmin(req.request);
      const n = req.custodians.length;
      if (n < 2 || n > 255) bad('CUSTODIANS_INVALID', 'custodians: between 2 and 255');
      if (!Number.isSafeInteger(req.threshold) || req.threshold < 2 || req.threshold > n) bad('THRESHOLD_INVALID', 'threshold must be 2 <= M <= number of custodians');
      const custodians = req.custodians.map((c, i) => {
        if (!ID.test(c.custodianId)) bad('CUSTODIANS_INVALID', `custodians[${i}].custodian_id must be 1-128 of A-Z a-z 0-9 . _ : @ / -`);
        if (c.publicKey.length !== 32) bad('CUSTODIANS_INVALID', `custodians[${i}].public_key must be a 32-byte X25519 public key`);
        return { custodianId: c.custodianId, publicKey: new Uint8Array(c.publicKey) };
      });
      if (new Set(custodians.map((c) => c.custodianId)).size !== n) bad('CUSTODIANS_INVALID', 'custodians must be distinct');
      await audit('CreateBackupShares', 'signer.key.backup', p, call as ServerUnaryCall<unknown, unknown>, [String(req.threshold), ...custodians.flatMap((c) => [c.custodianId, c.publicKey])]);
      const result = await deps.lifecycle.createBackupShares({ ...p.request, threshold: req.threshold, custodians }, p.approvals);
      deps.logger.info({ rpc: 'CreateBackupShares', keyId: result.key.keyId, backupId: result.manifest.backupId, threshold: result.manifest.threshold, total: result.manifest.total }, 'backup shares created');
      return CreateBackupSharesResponse.fromPartial({ manifest: wireManifest(result.manifest, result.key.keyId), shares: result.shares.map(wireShare), key: keyInfo(result.key, now()) });
    }),
    restoreFromShares: handler<RestoreFromSharesRequest, RestoreFromSharesResponse>('RestoreFromShares', async (req, call) => {
      // The opened shares are secret: copied once, zeroed whatever happens (the request buffers too).
      const shares = req.shares.map((s) => ({ custodianId: s.custodianId, index: s.index, share: Uint8Array.from(s.share) }));
      for (const s of req.shares) s.share.fill(0);
      try {
        const p = parseAdmin(req.request);
        const m = req.manifest;
        if (!m) bad('MANIFEST_REQUIRED', 'manifest is required');
        id(m.backupId, 'MANIFEST_INVALID', 'manifest.backup_id');
        if (m.keyId !== '' && m.keyId !== p.request.keyId) bad('MANIFEST_INVALID', 'manifest.key_id differs from request.key_id');
        if (!/^[0-9a-f]{64}$/.test(m.fingerprint)) bad('MANIFEST_INVALID', 'manifest.fingerprint must be 64 lowercase hex');
        if (!Number.isSafeInteger(m.threshold) || m.threshold < 2 || m.threshold > 255 || m.total < m.threshold || m.total > 255) bad('MANIFEST_INVALID', 'manifest.threshold/total must satisfy 2 <= M <= N <= 255');
        if (shares.length === 0 || shares.length > 255) bad('SHARES_INVALID', 'shares: between 1 and 255');
        shares.forEach((s, i) => {
          if (!Number.isSafeInteger(s.index) || s.index < 1 || s.index > m.total) bad('SHARES_INVALID', `shares[${i}].index must be 1..manifest.total`);
          if (s.share.length < 17 || s.share.length > 1025) bad('SHARES_INVALID', `shares[${i}].share has an impossible length`);
        });
        const manifest: BackupManifest = { backupId: m.backupId, threshold: m.threshold, total: m.total, custodians: [...m.custodians], fingerprint: m.fingerprint };
        await audit('RestoreFromShares', 'signer.key.restore', p, call as ServerUnaryCall<unknown, unknown>, [m.backupId, m.fingerprint, String(m.threshold), String(m.total), ...shares.flatMap((s) => [s.custodianId, String(s.index)])]);
        const key = await deps.lifecycle.restoreFromShares({ ...p.request, manifest, shares }, p.approvals);
        deps.logger.info({ rpc: 'RestoreFromShares', keyId: key.keyId, backupId: manifest.backupId, shares: shares.length }, 'key restored from backup shares');
        return RestoreFromSharesResponse.fromPartial({ key: keyInfo(key, now()) });
      } finally {
        for (const s of shares) s.share.fill(0);
      }
    }),
  };
}
