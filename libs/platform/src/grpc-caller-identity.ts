// Which workloads may call a gRPC server. mTLS proves that a client certificate chains to the
// client CA; an allow-list says WHICH certificates: by SHA-256 pin of the DER, or by a name in
// the certificate (SAN URI, e.g. the chart's SPIFFE id `spiffe://<domain>/ns/<ns>/sa/custody-<svc>`,
// SAN DNS, or subject CN). A CA-valid certificate that matches no entry is refused with
// PERMISSION_DENIED and the `error-reason` trailer CALLER_NOT_ALLOWED, before any handler runs.
//
// One implementation for every service: `GrpcServer({ allowedCallers })` installs
// `callerAllowListInterceptor`. grpc.health.v1.Health stays open to every CA-valid certificate
// (the exec probes call it with the pod's own certificate).
import { createHash } from 'node:crypto';
import { Metadata, ServerInterceptingCall, status, type ServerInterceptor } from '@grpc/grpc-js';
import { z } from 'zod';
import { DomainError } from './domain-error.js';
import { ERROR_REASON_KEY } from './grpc-errors.js';

/** One allowed caller: `sha256:<64 hex>`, `dns:<name>`, `uri:<uri>` or `cn:<name>`. */
export type CallerRule = { readonly kind: 'sha256' | 'dns' | 'uri' | 'cn'; readonly value: string };

export const CALLER_NOT_ALLOWED = 'CALLER_NOT_ALLOWED';
const CALLER_NOT_ALLOWED_MESSAGE = 'this client certificate is not allowed to call this service';

/** The value that means "no caller at all" (health stays open): an explicit, empty allow-list. */
export const NO_CALLERS = 'none';

const RULE = /^(sha256|dns|uri|cn):(.+)$/;
const EXPECTATION = `expected ${NO_CALLERS} or a comma-separated list of sha256:<64 hex> | dns:<name> | uri:<uri> | cn:<name>`;

/** Parses the configured entries; throws TypeError naming the bad entry. */
export function parseCallerRules(entries: readonly string[]): CallerRule[] {
  return entries.map((entry) => {
    const m = RULE.exec(entry.trim());
    if (!m?.[1] || !m[2]) throw new TypeError(`not a caller rule (sha256:<hex> | dns:<name> | uri:<uri> | cn:<name>): ${entry}`);
    const kind = m[1] as CallerRule['kind'];
    const value = kind === 'sha256' || kind === 'dns' ? m[2].toLowerCase() : m[2];
    if (kind === 'sha256' && !/^[0-9a-f]{64}$/.test(value)) throw new TypeError(`sha256 pin must be 64 hex digits: ${entry}`);
    return { kind, value };
  });
}

/** `none` → [] (nobody); otherwise the comma-separated rules; undefined when malformed. */
function parseAllowList(raw: string): CallerRule[] | undefined {
  if (raw === NO_CALLERS) return [];
  const entries = raw.split(',').map((s) => s.trim());
  if (entries.some((s) => s.length === 0)) return undefined;
  try {
    return parseCallerRules(entries);
  } catch {
    return undefined;
  }
}

/**
 * zod field for a caller allow-list variable: `none` (nobody) or `sha256:…,uri:…,dns:…,cn:…`.
 * Output: parsed `CallerRule[]`. Add `.optional()` where absence is allowed.
 */
export function callerAllowListVar() {
  return z.string({ error: EXPECTATION }).transform((raw, ctx): CallerRule[] => {
    const rules = parseAllowList(raw.trim());
    if (rules === undefined) {
      ctx.issues.push({ code: 'custom', message: EXPECTATION, input: raw });
      return z.NEVER;
    }
    return rules;
  });
}

/** `CUSTODY_GRPC_ALLOWED_CALLERS` (optional): who may call the service's gRPC port. */
export const grpcAllowedCallersEnv = z.object({ CUSTODY_GRPC_ALLOWED_CALLERS: callerAllowListVar().optional() });

/** The identity facts of a verified peer certificate (grpc-js `getAuthContext().sslPeerCertificate`). */
export interface PeerCertificate {
  readonly raw?: Buffer;
  readonly subject?: { readonly CN?: string | readonly string[] };
  readonly subjectaltname?: string;
}

export class CallerNotAllowedError extends DomainError {
  constructor() {
    super(CALLER_NOT_ALLOWED, CALLER_NOT_ALLOWED_MESSAGE);
  }
}

/** True when the certificate matches at least one rule; false without a certificate. */
export function callerAllowed(rules: readonly CallerRule[], peer: PeerCertificate | undefined): boolean {
  if (!peer?.raw || peer.raw.length === 0) return false;
  const sans = (peer.subjectaltname ?? '').split(/,\s*/).filter((s) => s.length > 0);
  const cn = peer.subject?.CN;
  const cns = cn === undefined ? [] : typeof cn === 'string' ? [cn] : cn;
  let pin: string | undefined;
  return rules.some((r) => {
    switch (r.kind) {
      case 'sha256':
        pin ??= createHash('sha256').update(peer.raw as Buffer).digest('hex');
        return r.value === pin;
      case 'dns':
        return sans.some((s) => s.startsWith('DNS:') && s.slice(4).toLowerCase() === r.value);
      case 'uri':
        return sans.some((s) => s.startsWith('URI:') && s.slice(4) === r.value);
      case 'cn':
        return cns.includes(r.value);
    }
  });
}

/** Throws CallerNotAllowedError unless the call's verified client certificate matches a rule. */
export function assertCallerAllowed(rules: readonly CallerRule[], call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } | null }): void {
  if (!callerAllowed(rules, call.getAuthContext()?.sslPeerCertificate)) throw new CallerNotAllowedError();
}

export interface CallerAllowListOptions {
  /**
   * Method paths (`/package.Service/Method`) or service prefixes (`/package.Service/`) that any
   * CA-valid certificate may call. grpc.health.v1.Health is always open.
   */
  readonly open?: readonly string[];
  /** Told about each refusal (log it; the certificate's names only, never key material). */
  readonly onDenied?: (path: string, peer: PeerCertificate | undefined) => void;
}

const HEALTH_PREFIX = '/grpc.health.v1.Health/';

/**
 * A grpc-js server interceptor refusing every call whose client certificate matches no rule
 * (PERMISSION_DENIED, trailer `error-reason: CALLER_NOT_ALLOWED`); the handler never runs.
 */
export function callerAllowListInterceptor(rules: readonly CallerRule[], options: CallerAllowListOptions = {}): ServerInterceptor {
  const open = [HEALTH_PREFIX, ...(options.open ?? [])];
  return (method, call) => {
    const path = method.path;
    if (open.some((p) => (p.endsWith('/') ? path.startsWith(p) : path === p))) return new ServerInterceptingCall(call);
    const peer = call.getAuthContext()?.sslPeerCertificate;
    if (callerAllowed(rules, peer)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start: (next) => {
        next({
          onReceiveMetadata: () => {
            try {
              options.onDenied?.(path, peer);
            } catch {
              // a failing hook must not leave the call without a status
            }
            const trailers = new Metadata();
            trailers.set(ERROR_REASON_KEY, CALLER_NOT_ALLOWED);
            call.sendStatus({ code: status.PERMISSION_DENIED, details: CALLER_NOT_ALLOWED_MESSAGE, metadata: trailers });
          },
        });
      },
    });
  };
}

/** The names of a peer certificate for a log line (no key material; undefined without one). */
export function describePeer(peer: PeerCertificate | undefined): { cn?: string; san?: string } | undefined {
  if (!peer?.raw) return undefined;
  const cn = peer.subject?.CN;
  return { ...(cn === undefined ? {} : { cn: typeof cn === 'string' ? cn : cn.join(',') }), ...(peer.subjectaltname ? { san: peer.subjectaltname } : {}) };
}

/**
 * Production start-up (main.ts): a loud error-level log line (`alert: grpc_callers_unrestricted`)
 * when a server requires client certificates but has no allow-list, i.e. any certificate of the
 * client CA may call it. Not a refusal: deployments without the variable keep running (the
 * chart always sets it). Returns whether it warned.
 */
export function warnIfCallersUnrestricted(
  logger: { error(obj: object, msg: string): void },
  grpc: { readonly credentials: { readonly kind: string; readonly requireClientCertificate?: boolean }; readonly allowedCallers?: readonly CallerRule[] } | undefined,
  variable = 'CUSTODY_GRPC_ALLOWED_CALLERS',
): boolean {
  if (!grpc || grpc.credentials.kind !== 'tls' || !grpc.credentials.requireClientCertificate || grpc.allowedCallers !== undefined) return false;
  logger.error({ alert: 'grpc_callers_unrestricted', variable }, `${variable} is not set: ANY certificate of the client CA may call this gRPC server (set it to the callers' identities, e.g. uri:spiffe://…/sa/custody-<svc>, or ${NO_CALLERS})`);
  return true;
}

/** `GrpcServer({ onCallerDenied })` hook writing one warn line per refused call (names only). */
export function logCallerDenied(logger: { warn(obj: object, msg: string): void }): (path: string, peer: PeerCertificate | undefined) => void {
  return (path, peer) => logger.warn({ reason: CALLER_NOT_ALLOWED, path, peer: describePeer(peer) ?? null }, 'gRPC caller refused: not on the allow-list');
}
