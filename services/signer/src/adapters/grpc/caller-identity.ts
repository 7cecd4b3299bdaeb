// Which service may call a signer gRPC API. mTLS proves a certificate chains to the client
// CA; this allow-list says WHICH certificates: by SHA-256 pin of the DER, or by a name in
// the certificate (SAN DNS / SAN URI, e.g. a SPIFFE id, or subject CN). A CA-valid
// certificate that matches no entry is refused with PERMISSION_DENIED (CALLER_NOT_ALLOWED).
import { createHash } from 'node:crypto';
import { DomainError } from '@custody/platform';

/** One allowed caller: `sha256:<64 hex>`, `dns:<name>`, `uri:<uri>` or `cn:<name>`. */
export type CallerRule = { readonly kind: 'sha256' | 'dns' | 'uri' | 'cn'; readonly value: string };

const RULE = /^(sha256|dns|uri|cn):(.+)$/;

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

/** The identity facts of a verified peer certificate (grpc-js `getAuthContext().sslPeerCertificate`). */
export interface PeerCertificate {
  readonly raw?: Buffer;
  readonly subject?: { readonly CN?: string | readonly string[] };
  readonly subjectaltname?: string;
}

export class CallerNotAllowedError extends DomainError {
  constructor() {
    super('CALLER_NOT_ALLOWED', 'this client certificate is not allowed to call the signer');
  }
}

export function callerAllowed(rules: readonly CallerRule[], peer: PeerCertificate | undefined): boolean {
  if (!peer?.raw || peer.raw.length === 0) return false;
  const pin = createHash('sha256').update(peer.raw).digest('hex');
  const sans = (peer.subjectaltname ?? '').split(/,\s*/).filter((s) => s.length > 0);
  const dns = new Set(sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase()));
  const uris = new Set(sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4)));
  const cn = peer.subject?.CN;
  const cns = new Set(cn === undefined ? [] : typeof cn === 'string' ? [cn] : cn);
  return rules.some((r) => (r.kind === 'sha256' ? r.value === pin : r.kind === 'dns' ? dns.has(r.value) : r.kind === 'uri' ? uris.has(r.value) : cns.has(r.value)));
}

/** Throws CallerNotAllowedError unless the call's verified client certificate matches a rule. */
export function assertCallerAllowed(rules: readonly CallerRule[], call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } }): void {
  if (!callerAllowed(rules, call.getAuthContext().sslPeerCertificate)) throw new CallerNotAllowedError();
}
