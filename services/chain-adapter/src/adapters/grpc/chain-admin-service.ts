// ChainAdminService over grpc-js (operators): pinned client certificate + Ed25519 signature on
// every call (application/operator-auth.ts), then the use case (application/chain-admin.ts),
// which records ResumeChain/CancelWithdrawal in audit before changing anything.
import { createHash, randomUUID } from 'node:crypto';
import { isIP } from 'node:net';
import { status, type ServerUnaryCall } from '@grpc/grpc-js';
import { ChainAdminServiceService, ChainBreakerState, timestampFromDate, type ChainAdminServiceServer, type ChainBreaker } from '@custody/contracts';
import { currentCorrelation, isDomainError, unaryHandler, type GrpcCodeMap, type Logger } from '@custody/platform';
import type { AdminCallContext, ChainAdmin } from '../../application/chain-admin.js';
import type { AuthenticatedOperator, ChainOperatorAuthenticator } from '../../application/operator-auth.js';
import type { BreakerRow } from '../../domain/breaker.js';

export { ChainAdminServiceService };

export const CHAIN_ADMIN_SERVICE_PATH = '/custody.chain.v1.ChainAdminService';

export const CHAIN_ADMIN_ERROR_CODES: GrpcCodeMap = Object.freeze({
  OPERATOR_CERTIFICATE_REQUIRED: status.UNAUTHENTICATED,
  SIGNATURE_REQUIRED: status.UNAUTHENTICATED,
  OPERATOR_NOT_PINNED: status.UNAUTHENTICATED,
  STALE_REQUEST: status.UNAUTHENTICATED,
  NONCE_MALFORMED: status.UNAUTHENTICATED,
  BAD_SIGNATURE: status.UNAUTHENTICATED,
  REPLAYED_REQUEST: status.UNAUTHENTICATED,
  CHAIN_NOT_SERVED: status.INVALID_ARGUMENT,
  REASON_REQUIRED: status.INVALID_ARGUMENT,
  WITHDRAWAL_ID_REQUIRED: status.INVALID_ARGUMENT,
  NOT_FOUND: status.NOT_FOUND,
  BREAKER_NOT_TRIPPED: status.FAILED_PRECONDITION,
  CANCEL_NEEDS_REPLACEMENT: status.FAILED_PRECONDITION,
  NOT_CANCELLABLE: status.FAILED_PRECONDITION,
  // the audit service did not record the action: refused, nothing changed
  AUDIT_UNAVAILABLE: status.UNAVAILABLE,
});

function toWire(b: BreakerRow): ChainBreaker {
  return {
    chain: b.chain,
    state: b.state === 'TRIPPED' ? ChainBreakerState.BREAKER_STATE_TRIPPED : ChainBreakerState.BREAKER_STATE_CLEAR,
    tripKind: b.tripKind,
    tripDetail: b.tripDetail,
    ...(b.trippedAt ? { trippedAt: timestampFromDate(b.trippedAt) } : {}),
    depthFactor: b.state === 'TRIPPED' ? b.depthFactor : 1,
    resumedBy: b.resumedBy,
    resumeReason: b.resumeReason,
    ...(b.resumedAt ? { resumedAt: timestampFromDate(b.resumedAt) } : {}),
  } as ChainBreaker;
}

function fingerprintOf(call: ServerUnaryCall<unknown, unknown>): string | undefined {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  return raw && raw.length > 0 ? createHash('sha256').update(raw).digest('hex') : undefined;
}

/** The caller's IP from grpc-js getPeer() ("1.2.3.4:5", "[::1]:5", "ipv4:…"); "0.0.0.0" if it is not an IP. */
export function peerIp(peer: string): string {
  const bare = peer.replace(/^ipv[46]:/, '');
  const host = bare.startsWith('[') ? bare.slice(1, bare.indexOf(']')) : bare.slice(0, Math.max(0, bare.lastIndexOf(':')));
  return isIP(host) !== 0 ? host : isIP(bare) !== 0 ? bare : '0.0.0.0';
}

function contextOf(call: ServerUnaryCall<unknown, unknown>): AdminCallContext {
  return { sourceIp: peerIp(call.getPeer()), correlationId: currentCorrelation()?.correlationId ?? randomUUID() };
}

export function createChainAdminService(deps: { readonly admin: ChainAdmin; readonly auth: ChainOperatorAuthenticator; readonly logger: Logger }): ChainAdminServiceServer {
  const options = {
    codeMap: CHAIN_ADMIN_ERROR_CODES,
    domain: 'custody.chain',
    onError: (err: unknown) => (isDomainError(err) ? deps.logger.warn({ code: err.code }, 'chain admin call refused') : deps.logger.error({ err }, 'chain admin call failed')),
  };
  const authenticate = (method: string, call: ServerUnaryCall<unknown, unknown>, body: readonly (readonly [string, string])[]): AuthenticatedOperator =>
    deps.auth.authenticate({
      method: `${CHAIN_ADMIN_SERVICE_PATH}/${method}`,
      header: (name) => {
        const v = call.metadata.get(name)[0];
        return typeof v === 'string' && v.length > 0 && v.length <= 512 ? v : undefined;
      },
      certificateSha256: fingerprintOf(call),
      body,
    });
  return {
    getBreaker: unaryHandler(async (req, call) => {
      const actor = authenticate('GetBreaker', call as never, [['chain', req.chain]]);
      return { breaker: toWire(await deps.admin.getBreaker(req.chain, actor)) };
    }, options),
    resumeChain: unaryHandler(async (req, call) => {
      const actor = authenticate('ResumeChain', call as never, [['chain', req.chain], ['reason', req.reason]]);
      const breaker = await deps.admin.resumeChain(req.chain, req.reason, actor, contextOf(call as never));
      deps.logger.warn({ operator: actor.operatorId, chain: req.chain }, 'chain resumed by operator');
      return { breaker: toWire(breaker) };
    }, options),
    cancelWithdrawal: unaryHandler(async (req, call) => {
      const actor = authenticate('CancelWithdrawal', call as never, [['withdrawal_id', req.withdrawalId], ['reason', req.reason]]);
      const out = await deps.admin.cancelWithdrawal(req.withdrawalId, req.reason, actor, contextOf(call as never));
      deps.logger.warn({ operator: actor.operatorId, withdrawalId: req.withdrawalId }, 'withdrawal cancelled by operator');
      return { withdrawalId: req.withdrawalId, state: 'FAILED', nonce: out.nonce.toString() };
    }, options),
  };
}
