// IntakeAdminService over grpc-js (operators). Every call: pinned operator certificate +
// Ed25519 signature over the canonical request (application/operator-auth.ts), then the
// use case (which records every change in audit first: application/admin-audit.ts); errors
// map like the gateway's (status + error-reason, error-field on bad input).
import { status, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import {
  IntakeAdminServiceService,
  IntegratorInfo,
  MaintenanceWindow as WireMaintenanceWindow,
  timestampFromDate,
  timestampToDate,
  type CancelMaintenanceRequest,
  type CancelMaintenanceResponse,
  type IntakeAdminServiceServer,
  type ListIntegratorsRequest,
  type ListIntegratorsResponse,
  type ListMaintenanceNoticesRequest,
  type ListMaintenanceNoticesResponse,
  type RegisterIntegratorRequest,
  type RegisterIntegratorResponse,
  type RevokeIntegratorRequest,
  type RevokeIntegratorResponse,
  type RotateIntegratorKeyRequest,
  type RotateIntegratorKeyResponse,
  type ScheduleMaintenanceRequest,
  type ScheduleMaintenanceResponse,
  type Timestamp,
} from '@custody/contracts';
import { AuditUnavailableError, withCorrelation, type Logger } from '@custody/platform';
import type { CallCredentials } from '../../application/authenticate.js';
import type { IntegratorAdmin } from '../../application/integrators.js';
import { peerAddress } from '../../application/ip-allowlist.js';
import type { MaintenanceUseCases } from '../../application/maintenance.js';
import type { OperatorActor, OperatorAuthenticator } from '../../application/operator-auth.js';
import type { BodyField } from '../../domain/canonical.js';
import { InvalidArgumentError } from '../../domain/errors.js';
import type { Integrator } from '../../domain/integrator.js';
import type { MaintenanceWindow } from '../../domain/maintenance.js';
import { certificateFingerprint, correlationOf, toStatus } from './gateway.js';

export const ADMIN_SERVICE_PATH = '/custody.intake.v1.IntakeAdminService';

/** Canonical body value of a google.protobuf.Timestamp: "<seconds>.<nanos, 9 digits>", "" when absent. */
export function timestampBodyValue(t: Timestamp | undefined): string {
  return t ? `${t.seconds}.${String(t.nanos).padStart(9, '0')}` : '';
}

/** The canonical bodies operators sign (docs/intake.md "Admin API"), in proto field order. */
export const adminBodies = {
  registerIntegrator: (r: RegisterIntegratorRequest): BodyField[] => [
    ['client_id', r.clientId],
    ['key_id', r.keyId],
    ['public_key', r.publicKey],
    ['certificate_sha256', r.certificateSha256],
    ['allowed_assets', r.allowedAssets],
    ['scopes', r.scopes],
    ['rate_per_second', String(r.ratePerSecond)],
    ['burst', String(r.burst)],
    ['ip_allowlist', r.ipAllowlist],
    ['customer_accounts', r.customerAccounts],
  ],
  revokeIntegrator: (r: RevokeIntegratorRequest): BodyField[] => [
    ['client_id', r.clientId],
    ['reason', r.reason],
  ],
  rotateIntegratorKey: (r: RotateIntegratorKeyRequest): BodyField[] => [
    ['client_id', r.clientId],
    ['new_key_id', r.newKeyId],
    ['new_public_key', r.newPublicKey],
    ['overlap_seconds', String(r.overlapSeconds)],
  ],
  listIntegrators: (): BodyField[] => [],
  scheduleMaintenance: (r: ScheduleMaintenanceRequest): BodyField[] => [
    ['chains', r.chains],
    ['assets', r.assets],
    ['starts_at', timestampBodyValue(r.startsAt)],
    ['ends_at', timestampBodyValue(r.endsAt)],
    ['withdrawals_suspended', String(r.withdrawalsSuspended)],
    ['deposits_delayed', String(r.depositsDelayed)],
    ['description', r.description],
  ],
  cancelMaintenance: (r: CancelMaintenanceRequest): BodyField[] => [
    ['maintenance_id', r.maintenanceId],
    ['reason', r.reason],
  ],
  listMaintenanceNotices: (r: ListMaintenanceNoticesRequest): BodyField[] => [
    ['include_ended', String(r.includeEnded)],
    ['include_cancelled', String(r.includeCancelled)],
    ['limit', String(r.limit)],
  ],
};

function toWireWindow(w: MaintenanceWindow): WireMaintenanceWindow {
  return WireMaintenanceWindow.fromPartial({
    maintenanceId: w.id,
    chains: [...w.chains],
    assets: [...w.assets],
    startsAt: timestampFromDate(w.startsAt),
    endsAt: timestampFromDate(w.endsAt),
    description: w.description,
    withdrawalsSuspended: w.withdrawalsSuspended,
    depositsDelayed: w.depositsDelayed,
  });
}

export function toIntegratorInfo(i: Integrator): IntegratorInfo {
  return IntegratorInfo.fromPartial({
    clientId: i.clientId,
    status: i.status,
    scopes: [...i.scopes],
    allowedAssets: [...i.allowedAssets],
    ipAllowlist: [...i.ipAllowlist],
    ratePerSecond: i.rateLimit.ratePerSecond,
    burst: i.rateLimit.burst,
    keys: i.keys.map((k) => ({
      keyId: k.keyId,
      publicKey: Buffer.from(k.publicKey).toString('hex'),
      revoked: k.revoked,
      ...(k.expiresAt ? { expiresAt: timestampFromDate(k.expiresAt) } : {}),
      ...(k.createdAt ? { createdAt: timestampFromDate(k.createdAt) } : {}),
    })),
    certificateSha256: [...i.certificateFingerprints],
  });
}

function requiredTime(field: string, t: Timestamp | undefined): Date {
  if (!t) throw new InvalidArgumentError(field, 'MAINTENANCE_TIME_INVALID', 'is required');
  const d = timestampToDate(t);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(field, 'MAINTENANCE_TIME_INVALID', 'must be a valid time');
  return d;
}

export interface AdminDeps {
  readonly auth: OperatorAuthenticator;
  readonly integrators: IntegratorAdmin;
  readonly maintenance: MaintenanceUseCases;
  readonly logger: Logger;
}

export function createAdminService(deps: AdminDeps): IntakeAdminServiceServer {
  const unary = <Req, Res>(method: string, body: (req: Req) => BodyField[], fn: (request: Req, actor: OperatorActor, correlationId: string) => Promise<Res>) => {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const correlationId = correlationOf(call.metadata);
      withCorrelation({ correlationId }, () => {
        const credentials: CallCredentials = {
          method: `${ADMIN_SERVICE_PATH}/${method}`,
          header: (name) => {
            const value = call.metadata.get(name)[0];
            return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
          },
          sourceAddress: peerAddress(call.getPeer()),
          certificateFingerprint: certificateFingerprint(call),
        };
        deps.auth
          .authenticate(credentials, body(call.request))
          .then(async (actor) => {
            const response = await fn(call.request, actor, correlationId);
            deps.logger.info({ method, operator: actor.operatorId }, 'intake admin action');
            return response;
          })
          .then(
            (response) => callback(null, response),
            (err: unknown) => {
              const e = toStatus(err);
              if (e.code === status.INTERNAL) deps.logger.error({ err, method }, 'intake admin call failed');
              else if (err instanceof AuditUnavailableError) deps.logger.error({ err, method, alert: 'intake_audit_unavailable' }, 'intake admin action refused: the audit service did not record it');
              else deps.logger.warn({ method, code: e.code, reason: e.metadata.get('error-reason')[0] }, 'intake admin call refused');
              callback(e);
            },
          );
      });
    };
  };

  return {
    registerIntegrator: unary<RegisterIntegratorRequest, RegisterIntegratorResponse>('RegisterIntegrator', adminBodies.registerIntegrator, async (req, actor, correlationId) => {
      const integrator = await deps.integrators.register(
        actor,
        {
          clientId: req.clientId,
          keyId: req.keyId,
          publicKey: req.publicKey,
          certificateSha256: req.certificateSha256,
          allowedAssets: req.allowedAssets,
          scopes: req.scopes,
          ratePerSecond: req.ratePerSecond,
          burst: req.burst,
          ipAllowlist: req.ipAllowlist,
          customerAccounts: req.customerAccounts,
        },
        correlationId,
      );
      return { integrator: toIntegratorInfo(integrator) };
    }),

    revokeIntegrator: unary<RevokeIntegratorRequest, RevokeIntegratorResponse>('RevokeIntegrator', adminBodies.revokeIntegrator, async (req, actor, correlationId) => ({
      integrator: toIntegratorInfo(await deps.integrators.revoke(actor, { clientId: req.clientId, reason: req.reason }, correlationId)),
    })),

    rotateIntegratorKey: unary<RotateIntegratorKeyRequest, RotateIntegratorKeyResponse>('RotateIntegratorKey', adminBodies.rotateIntegratorKey, async (req, actor, correlationId) => ({
      integrator: toIntegratorInfo(
        await deps.integrators.rotateKey(actor, { clientId: req.clientId, newKeyId: req.newKeyId, newPublicKey: req.newPublicKey, overlapSeconds: req.overlapSeconds }, correlationId),
      ),
    })),

    listIntegrators: unary<ListIntegratorsRequest, ListIntegratorsResponse>('ListIntegrators', adminBodies.listIntegrators, async () => ({
      integrators: (await deps.integrators.list()).map(toIntegratorInfo),
    })),

    scheduleMaintenance: unary<ScheduleMaintenanceRequest, ScheduleMaintenanceResponse>('ScheduleMaintenance', adminBodies.scheduleMaintenance, async (req, actor, correlationId) => {
      const w = await deps.maintenance.schedule(
        {
          chains: req.chains,
          assets: req.assets,
          startsAt: requiredTime('starts_at', req.startsAt),
          endsAt: requiredTime('ends_at', req.endsAt),
          withdrawalsSuspended: req.withdrawalsSuspended,
          depositsDelayed: req.depositsDelayed,
          description: req.description,
          announcedBy: actor.operatorId,
        },
        correlationId,
        actor,
      );
      return { window: toWireWindow(w) };
    }),

    cancelMaintenance: unary<CancelMaintenanceRequest, CancelMaintenanceResponse>('CancelMaintenance', adminBodies.cancelMaintenance, async (req, actor, correlationId) => {
      const w = await deps.maintenance.cancel(actor, { maintenanceId: req.maintenanceId, reason: req.reason }, correlationId);
      return { maintenanceId: w.id, cancelledAt: timestampFromDate(w.cancelledAt ?? new Date()) };
    }),

    // Read-only (like ListIntegrators): authenticated and signed, nothing to record in audit.
    listMaintenanceNotices: unary<ListMaintenanceNoticesRequest, ListMaintenanceNoticesResponse>('ListMaintenanceNotices', adminBodies.listMaintenanceNotices, async (req) => {
      const list = await deps.maintenance.listNotices({ includeEnded: req.includeEnded, includeCancelled: req.includeCancelled, limit: req.limit });
      return {
        notices: list.notices.map(({ window: w, state }) => ({
          window: toWireWindow(w),
          announcedBy: w.announcedBy,
          announcedAt: timestampFromDate(w.announcedAt),
          ...(w.cancelledAt ? { cancelledAt: timestampFromDate(w.cancelledAt) } : {}),
          cancelledBy: w.cancelledBy ?? '',
          state,
        })),
        truncated: list.truncated,
      };
    }),
  };
}

export { IntakeAdminServiceService };
