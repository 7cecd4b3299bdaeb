// gRPC adapter of custody.risk.v1.CustomerProfileService (proto/custody/risk/v1/customers.proto),
// served beside CaseService and ScreeningListService. Every call needs an authenticated
// operator (the same OperatorAuthenticator); upserts carry the call's facts (client
// certificate fingerprint, peer IP, correlation id) into the operator audit record.
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import type { Metadata, ServerUnaryCall } from '@grpc/grpc-js';
import { CustomerProfileServiceService, KycStatus, timestampFromDate, timestampToDate, type CustomerProfile, type CustomerProfileServiceServer } from '@custody/contracts';
import { currentCorrelation, unaryHandler } from '@custody/platform';
import { getCustomerProfile, listCustomerProfiles, upsertCustomerProfile, type CustomerAdminDeps, type OperatorCallContext } from '../../application/customer-admin.js';
import type { CustomerProfileRecord } from '../../domain/customer-profile.js';
import { RiskError } from '../../domain/errors.js';
import type { KycStatus as DomainKycStatus } from '../../domain/screening.js';
import { RISK_GRPC_CODES, type OperatorAuthenticator } from './case-service.js';

export const CUSTOMER_PROFILE_SERVICE_NAME = 'custody.risk.v1.CustomerProfileService';

export function customerProfileServiceDefinition(): typeof CustomerProfileServiceService {
  return CustomerProfileServiceService;
}

const KYC_FROM_WIRE: Readonly<Partial<Record<KycStatus, DomainKycStatus>>> = {
  [KycStatus.KYC_STATUS_VERIFIED]: 'verified',
  [KycStatus.KYC_STATUS_PENDING]: 'pending',
  [KycStatus.KYC_STATUS_REJECTED]: 'rejected',
};
const KYC_TO_WIRE: Readonly<Record<DomainKycStatus, KycStatus>> = {
  verified: KycStatus.KYC_STATUS_VERIFIED,
  pending: KycStatus.KYC_STATUS_PENDING,
  rejected: KycStatus.KYC_STATUS_REJECTED,
};

export function profileToWire(p: CustomerProfileRecord): CustomerProfile {
  return {
    customerAccount: p.customerAccount,
    kycStatus: KYC_TO_WIRE[p.kycStatus],
    jurisdiction: p.jurisdiction,
    openedAt: timestampFromDate(p.openedAt),
    version: p.version,
    updatedBy: p.updatedBy,
    updatedAt: timestampFromDate(p.updatedAt),
  };
}

/** The caller's IP from grpc-js getPeer() ("1.2.3.4:5", "[::1]:5", "ipv4:…"); "0.0.0.0" if it is not an IP. */
export function peerIp(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const host = bare.startsWith('[') ? bare.slice(1, bare.indexOf(']')) : bare.slice(0, Math.max(0, bare.lastIndexOf(':')));
  return isIP(host) !== 0 ? host : isIP(bare) !== 0 ? bare : '0.0.0.0';
}

/** The facts of an operator call for its audit record: client certificate fingerprint, peer IP, correlation id. */
export function operatorCallContext(call: Pick<ServerUnaryCall<unknown, unknown>, 'getAuthContext' | 'getPeer'>): OperatorCallContext {
  const raw = (call.getAuthContext?.() as { sslPeerCertificate?: { raw?: Buffer } } | undefined)?.sslPeerCertificate?.raw;
  const deviceId = raw && raw.length > 0 ? `cert:${createHash('sha256').update(raw).digest('hex')}` : 'unknown';
  return { sourceIp: peerIp(call.getPeer()), deviceId, correlationId: currentCorrelation()?.correlationId ?? randomUUID() };
}

export function customerProfileServiceImplementation(deps: CustomerAdminDeps, authenticate: OperatorAuthenticator, onError?: (err: unknown) => void): CustomerProfileServiceServer {
  const opts = { codeMap: RISK_GRPC_CODES, domain: 'risk.custody', ...(onError ? { onError: (e: unknown) => onError(e) } : {}) };
  const operatorOf = (call: ServerUnaryCall<unknown, unknown>): string => {
    const op = authenticate(call as unknown as { metadata: Metadata; getAuthContext?: () => unknown });
    if (!op) throw new RiskError('OPERATOR_UNAUTHENTICATED', 'compliance operator authentication required');
    return op;
  };
  const callOf = (call: unknown): ServerUnaryCall<unknown, unknown> => call as ServerUnaryCall<unknown, unknown>;
  return {
    upsertCustomerProfile: unaryHandler(async (req, call) => {
      const operator = operatorOf(callOf(call));
      const kycStatus = KYC_FROM_WIRE[req.kycStatus];
      if (!kycStatus) throw new RiskError('INVALID_ARGUMENT', 'kyc_status must be KYC_STATUS_VERIFIED, KYC_STATUS_PENDING or KYC_STATUS_REJECTED');
      const profile = await upsertCustomerProfile(deps, {
        customerAccount: req.customerAccount,
        kycStatus,
        jurisdiction: req.jurisdiction,
        openedAt: req.openedAt ? timestampToDate(req.openedAt) : undefined,
        expectedVersion: req.expectedVersion,
        note: req.note,
        operator,
        context: operatorCallContext(callOf(call)),
      });
      return { profile: profileToWire(profile) };
    }, opts),
    getCustomerProfile: unaryHandler(async (req, call) => {
      operatorOf(callOf(call));
      return { profile: profileToWire(await getCustomerProfile(deps, req.customerAccount)) };
    }, opts),
    listCustomerProfiles: unaryHandler(async (req, call) => {
      operatorOf(callOf(call));
      const page = await listCustomerProfiles(deps, { pageSize: req.pageSize, pageToken: req.pageToken });
      return { profiles: page.profiles.map(profileToWire), nextPageToken: page.nextPageToken };
    }, opts),
  };
}
