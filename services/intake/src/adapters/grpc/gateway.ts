// CustodyGatewayService over grpc-js: authenticate each call (authenticate.ts), run the use
// case, map domain errors to a status + `error-reason` trailer (+ `error-field`,
// `retry-after-ms`, `maintenance-id` where they apply).
import { createHash, randomUUID } from 'node:crypto';
import { Metadata, status, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import {
  AssetStatus,
  CustodyGatewayServiceService,
  GetDepositAddressResponse,
  GetServiceStatusResponse,
  MaintenanceWindow as WireMaintenanceWindow,
  timestampFromDate,
  timestampToDate,
  WithdrawalState,
  type CancelWithdrawalRequest,
  type CancelWithdrawalResponse,
  type CustodyGatewayServiceServer,
  type GetDepositAddressRequest,
  type GetServiceStatusRequest,
  type GetWithdrawalRequest,
  type GetWithdrawalResponse,
  type ListWithdrawalsRequest,
  type ListWithdrawalsResponse,
  type SubmitWithdrawalRequest,
  type SubmitWithdrawalResponse,
  type WatchWithdrawalsRequest,
  type WatchWithdrawalsResponse,
} from '@custody/contracts';
import { CORRELATION_ID_KEY, toGrpcError, withCorrelation, type Logger } from '@custody/platform';
import type { Authenticator, CallCredentials, Caller } from '../../application/authenticate.js';
import type { DepositAddressUseCase } from '../../application/deposit-addresses.js';
import { peerAddress } from '../../application/ip-allowlist.js';
import type { MaintenanceUseCases } from '../../application/maintenance.js';
import type { WatchHub } from '../../application/watch-hub.js';
import { cancelBody, submitBody, type WithdrawalUseCases } from '../../application/withdrawals.js';
import type { BodyField } from '../../domain/canonical.js';
import { InvalidArgumentError, MaintenanceError, RateLimitedError } from '../../domain/errors.js';
import type { Withdrawal } from '../../domain/withdrawal.js';
import { isTerminal, type WithdrawalStateName } from '../../domain/withdrawal-state.js';
import { ERROR_DOMAIN, INTAKE_ERROR_CODES } from './error-map.js';
import { domainStatesFor, toWire } from './mapping.js';

export const SERVICE_PATH = '/custody.intake.v1.CustodyGatewayService';

export interface GatewayDeps {
  readonly auth: Authenticator;
  readonly withdrawals: WithdrawalUseCases;
  readonly maintenance: MaintenanceUseCases;
  readonly deposits: DepositAddressUseCase;
  readonly hub: WatchHub;
  readonly logger: Logger;
  /** Called with the outcome of every call (metrics). */
  readonly observe?: (method: string, code: status) => void;
}

/** grpc status for a thrown error, with the extra trailers intake adds. */
export function toStatus(err: unknown): ReturnType<typeof toGrpcError> {
  const e = toGrpcError(err, INTAKE_ERROR_CODES, { domain: ERROR_DOMAIN });
  if (err instanceof InvalidArgumentError) {
    // Every bad input is INVALID_ARGUMENT with the field named, whatever its code.
    e.metadata.set('error-field', err.field);
    e.code = status.INVALID_ARGUMENT;
  }
  if (err instanceof MaintenanceError) {
    e.metadata.set('maintenance-id', err.maintenanceId);
    e.metadata.set('retry-after-ms', String(Math.max(0, err.retryAfterMs)));
  }
  if (err instanceof RateLimitedError) e.metadata.set('retry-after-ms', String(err.retryAfterMs));
  return e;
}

export function certificateFingerprint(call: { getAuthContext(): { sslPeerCertificate?: { raw?: Buffer } } }): string | undefined {
  const raw = call.getAuthContext().sslPeerCertificate?.raw;
  return raw && raw.length > 0 ? createHash('sha256').update(raw).digest('hex') : undefined;
}

function credentialsOf(call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, method: string): CallCredentials {
  return {
    method: `${SERVICE_PATH}/${method}`,
    header: (name) => {
      const value = call.metadata.get(name)[0];
      return typeof value === 'string' && value.length > 0 && value.length <= 512 ? value : undefined;
    },
    sourceAddress: peerAddress(call.getPeer()),
    certificateFingerprint: certificateFingerprint(call),
  };
}

export function correlationOf(metadata: Metadata): string {
  const value = metadata.get(CORRELATION_ID_KEY)[0];
  return typeof value === 'string' && value.length > 0 && value.length <= 200 ? value : randomUUID();
}

interface PageCursor {
  readonly createdAt: Date;
  readonly id: string;
}

function encodePageToken(w: Withdrawal): string {
  return Buffer.from(JSON.stringify({ c: w.createdAt.toISOString(), i: w.id })).toString('base64url');
}

function decodePageToken(token: string): PageCursor | undefined {
  if (token.length === 0) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { c?: unknown; i?: unknown };
    const createdAt = new Date(String(parsed.c));
    if (typeof parsed.i === 'string' && /^[0-9a-f-]{36}$/i.test(parsed.i) && !Number.isNaN(createdAt.getTime())) return { createdAt, id: parsed.i };
  } catch {
    // fall through
  }
  throw new InvalidArgumentError('page_token', 'PAGE_TOKEN_INVALID', 'is not a token returned by ListWithdrawals');
}

function statesOf(states: readonly (WithdrawalState | string)[]): WithdrawalStateName[] {
  const out: WithdrawalStateName[] = [];
  for (const s of states) {
    const wire = typeof s === 'string' ? (WithdrawalState[s as keyof typeof WithdrawalState] as WithdrawalState | undefined) : s;
    if (wire === undefined || wire === WithdrawalState.WITHDRAWAL_STATE_UNSPECIFIED || wire === WithdrawalState.UNRECOGNIZED) {
      throw new InvalidArgumentError('states', 'STATE_INVALID', `unknown state ${String(s)}`);
    }
    out.push(...domainStatesFor(wire));
  }
  return out;
}

export function createGateway(deps: GatewayDeps): CustodyGatewayServiceServer {
  const unary = <Req, Res>(method: string, fn: (request: Req, call: ServerUnaryCall<Req, Res>, correlationId: string) => Promise<Res>) => {
    return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
      const correlationId = correlationOf(call.metadata);
      withCorrelation({ correlationId }, () => {
        fn(call.request, call, correlationId).then(
          (response) => {
            deps.observe?.(method, status.OK);
            callback(null, response);
          },
          (err: unknown) => {
            const e = toStatus(err);
            deps.observe?.(method, e.code);
            if (e.code === status.INTERNAL) deps.logger.error({ err, method }, 'intake call failed');
            else deps.logger.info({ method, code: e.code, reason: e.metadata.get('error-reason')[0] }, 'intake call refused');
            callback(e);
          },
        );
      });
    };
  };

  const auth = (call: ServerUnaryCall<unknown, unknown> | ServerWritableStream<unknown, unknown>, method: string, body: readonly BodyField[], scope: 'read' | 'withdraw' | 'deposit', signed: boolean): Promise<Caller> =>
    deps.auth.authenticate(credentialsOf(call, method), body, scope, signed);

  return {
    submitWithdrawal: unary<SubmitWithdrawalRequest, SubmitWithdrawalResponse>('SubmitWithdrawal', async (req, call, correlationId) => {
      const input = {
        idempotencyKey: req.idempotencyKey,
        customerAccount: req.customerAccount,
        asset: req.asset,
        amount: req.amount,
        destinationAddress: req.destinationAddress,
        destinationTag: req.destinationTag,
        clientReference: req.clientReference,
      };
      const caller = await auth(call, 'SubmitWithdrawal', submitBody(input), 'withdraw', true);
      const { withdrawal } = await deps.withdrawals.submit(caller, input, correlationId);
      return { withdrawal: toWire(withdrawal) };
    }),

    getWithdrawal: unary<GetWithdrawalRequest, GetWithdrawalResponse>('GetWithdrawal', async (req, call) => {
      const caller = await auth(call, 'GetWithdrawal', [['withdrawal_id', req.withdrawalId]], 'read', false);
      return { withdrawal: toWire(await deps.withdrawals.get(caller, req.withdrawalId)) };
    }),

    listWithdrawals: unary<ListWithdrawalsRequest, ListWithdrawalsResponse>('ListWithdrawals', async (req, call) => {
      const body: BodyField[] = [
        ['customer_account', req.customerAccount],
        ['states', req.states.map((s) => (typeof s === 'string' ? s : WithdrawalState[s]))],
        ['page_size', String(req.pageSize)],
        ['page_token', req.pageToken],
      ];
      const caller = await auth(call, 'ListWithdrawals', body, 'read', false);
      const after = decodePageToken(req.pageToken);
      const createdAfter = req.createdAfter ? timestampToDate(req.createdAfter) : undefined;
      const createdBefore = req.createdBefore ? timestampToDate(req.createdBefore) : undefined;
      if (createdAfter && createdBefore && createdBefore <= createdAfter) {
        throw new InvalidArgumentError('created_before', 'TIME_RANGE_INVALID', 'must be after created_after');
      }
      const items = await deps.withdrawals.list(caller, {
        ...(req.customerAccount ? { customerAccount: req.customerAccount } : {}),
        states: statesOf(req.states),
        ...(createdAfter ? { createdAfter } : {}),
        ...(createdBefore ? { createdBefore } : {}),
        ...(after ? { after } : {}),
        pageSize: req.pageSize,
      });
      const limit = req.pageSize === 0 ? 100 : Math.min(req.pageSize, 500);
      const last = items[items.length - 1];
      return { withdrawals: items.map(toWire), nextPageToken: items.length === limit && last ? encodePageToken(last) : '' };
    }),

    cancelWithdrawal: unary<CancelWithdrawalRequest, CancelWithdrawalResponse>('CancelWithdrawal', async (req, call, correlationId) => {
      const input = { withdrawalId: req.withdrawalId, reason: req.reason };
      const caller = await auth(call, 'CancelWithdrawal', cancelBody(input), 'withdraw', true);
      return { withdrawal: toWire(await deps.withdrawals.cancel(caller, input, correlationId)) };
    }),

    getDepositAddress: unary<GetDepositAddressRequest, GetDepositAddressResponse>('GetDepositAddress', async (req, call) => {
      const body: BodyField[] = [
        ['customer_account', req.customerAccount],
        ['asset', req.asset],
      ];
      const caller = await auth(call, 'GetDepositAddress', body, 'deposit', false);
      const address = await deps.deposits.get(caller, { customerAccount: req.customerAccount, asset: req.asset });
      return GetDepositAddressResponse.fromPartial(address);
    }),

    getServiceStatus: unary<GetServiceStatusRequest, GetServiceStatusResponse>('GetServiceStatus', async () => {
      // Public on purpose (9.4): anyone who can reach the API may learn about maintenance.
      const s = await deps.maintenance.status();
      return GetServiceStatusResponse.fromPartial({
        assets: s.assets.map((a) => AssetStatus.fromPartial(a)),
        maintenance: s.maintenance.map((w) =>
          WireMaintenanceWindow.fromPartial({
            maintenanceId: w.id,
            chains: [...w.chains],
            assets: [...w.assets],
            startsAt: timestampFromDate(w.startsAt),
            endsAt: timestampFromDate(w.endsAt),
            description: w.description,
            withdrawalsSuspended: w.withdrawalsSuspended,
            depositsDelayed: w.depositsDelayed,
          }),
        ),
      });
    }),

    watchWithdrawals: (call: ServerWritableStream<WatchWithdrawalsRequest, WatchWithdrawalsResponse>): void => {
      const req = call.request;
      const body: BodyField[] = [
        ['customer_account', req.customerAccount],
        ['withdrawal_ids', req.withdrawalIds],
      ];
      let unsubscribe: (() => void) | undefined;
      let closed = false;
      const close = (): void => {
        closed = true;
        unsubscribe?.();
      };
      call.on('cancelled', close);
      call.on('close', close);
      call.on('error', close);
      const ids = new Set(req.withdrawalIds);
      const matches = (w: Withdrawal): boolean => (ids.size === 0 || ids.has(w.id)) && (req.customerAccount === '' || w.customerAccount === req.customerAccount);
      const send = (w: Withdrawal): void => {
        if (!closed && matches(w)) call.write({ withdrawal: toWire(w) });
      };
      (async () => {
        const caller = await auth(call, 'WatchWithdrawals', body, 'read', false);
        if (ids.size > 100) throw new InvalidArgumentError('withdrawal_ids', 'PAGE_SIZE_INVALID', 'at most 100 ids per stream');
        // Subscribe first, then send the current state: no change can fall in between.
        unsubscribe = deps.hub.subscribe(caller.integrator.clientId, send);
        if (closed) unsubscribe();
        if (ids.size > 0) {
          for (const id of ids) send(await deps.withdrawals.get(caller, id));
        } else {
          const open = await deps.withdrawals.list(caller, { states: [], pageSize: 500, ...(req.customerAccount ? { customerAccount: req.customerAccount } : {}) });
          for (const w of open) if (!isTerminal(w.state)) send(w);
        }
        deps.observe?.('WatchWithdrawals', status.OK);
      })().catch((err: unknown) => {
        const e = toStatus(err);
        deps.observe?.('WatchWithdrawals', e.code);
        close();
        call.destroy(e);
      });
    },
  };
}

export { CustodyGatewayServiceService };
