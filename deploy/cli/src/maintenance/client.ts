// intake's IntakeAdminService (maintenance notices) over grpc-js, loaded only when a
// `custody maintenance` command talks to intake. Every call is signed (signing.ts) just before
// it is sent; the bodies are intake's own `adminBodies`.
import {
  IntakeAdminServiceClient,
  type CancelMaintenanceRequest,
  type CancelMaintenanceResponse,
  type ListMaintenanceNoticesRequest,
  type ListMaintenanceNoticesResponse,
  type ScheduleMaintenanceRequest,
  type ScheduleMaintenanceResponse,
} from '@custody/contracts';
// eslint-disable-next-line @nx/enforce-module-boundaries
import type { BodyField } from '@custody/intake';
import { channelCredentials, unaryCaller } from '../service-client.js';
import { formatTarget, type ServerAddress, type Transport } from '../approvals/transport.js';

export interface MaintenanceAdminApi {
  list(req: ListMaintenanceNoticesRequest): Promise<ListMaintenanceNoticesResponse>;
  schedule(req: ScheduleMaintenanceRequest): Promise<ScheduleMaintenanceResponse>;
  cancel(req: CancelMaintenanceRequest): Promise<CancelMaintenanceResponse>;
  close(): void;
}

export interface AdminBodies {
  listMaintenanceNotices(r: ListMaintenanceNoticesRequest): BodyField[];
  scheduleMaintenance(r: ScheduleMaintenanceRequest): BodyField[];
  cancelMaintenance(r: CancelMaintenanceRequest): BodyField[];
}

/** Signs one call: the x-custody-* headers for the RPC and its canonical body. */
export type SignCall = (rpc: string, body: readonly BodyField[]) => Record<string, string>;

export function connectIntakeAdmin(address: ServerAddress, transport: Transport, timeoutMs: number, bodies: AdminBodies, signCall: SignCall): MaintenanceAdminApi {
  const target = formatTarget(address);
  const client = new IntakeAdminServiceClient(target, channelCredentials(transport));
  const unary = unaryCaller(client, target, timeoutMs);
  return {
    list: (req) => unary('listMaintenanceNotices', req, undefined, signCall('ListMaintenanceNotices', bodies.listMaintenanceNotices(req))),
    schedule: (req) => unary('scheduleMaintenance', req, undefined, signCall('ScheduleMaintenance', bodies.scheduleMaintenance(req))),
    cancel: (req) => unary('cancelMaintenance', req, undefined, signCall('CancelMaintenance', bodies.cancelMaintenance(req))),
    close: () => client.close(),
  };
}
