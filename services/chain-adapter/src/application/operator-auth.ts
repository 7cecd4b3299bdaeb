// Operator authentication for ChainAdminService: a client certificate whose SHA-256 is pinned
// to an operator (configuration, never a request) AND that operator's Ed25519 signature over
// the request, within a time window, with a nonce never seen before (the store's
// chain_admin_action primary key). Signed message = operatorRequestDigest (@custody/platform):
//   SHA-256( "custody.chain.v1.admin-request" || 0x00 || F(method) || F(operator id) ||
//            F(timestamp ms) || F(nonce) || F(name_1) || F(value_1) || … )   F(x) = u32be(len) || x
// in proto field order; the Ed25519 signature is over those 32 bytes.
import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import { DomainError, operatorRequestDigest } from '@custody/platform';
import type { Clock } from './ports.js';

export const ADMIN_SIGNING_DOMAIN = 'custody.chain.v1.admin-request';
export const AdminHeaders = { operator: 'x-custody-operator', timestamp: 'x-custody-timestamp', nonce: 'x-custody-nonce', signature: 'x-custody-signature' } as const;

export interface ChainOperator {
  readonly operatorId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** Lower-case hex SHA-256 of the DER of the operator's client certificates. */
  readonly certificateSha256: readonly string[];
}

export interface AdminCall {
  /** Full gRPC path, e.g. "/custody.chain.v1.ChainAdminService/ResumeChain". */
  readonly method: string;
  readonly header: (name: string) => string | undefined;
  readonly certificateSha256: string | undefined;
  /** Request fields in proto field order: [name, value]. */
  readonly body: readonly (readonly [string, string])[];
}

export interface AuthenticatedOperator {
  readonly operatorId: string;
  readonly nonce: string;
  readonly certificateSha256: string;
  readonly signature: Uint8Array;
}

export class OperatorAuthError extends DomainError {}

const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export function adminSigningDigest(method: string, operatorId: string, timestampMs: string, nonce: string, body: readonly (readonly [string, string])[]): Uint8Array {
  return operatorRequestDigest(ADMIN_SIGNING_DOMAIN, [method, operatorId, timestampMs, nonce, ...body.flatMap(([n, v]) => [n, v])]);
}

export class ChainOperatorAuthenticator {
  private readonly keys = new Map<string, { operator: ChainOperator; key: KeyObject }>();
  constructor(private readonly o: { readonly operators: readonly ChainOperator[]; readonly clock: Clock; readonly windowMs?: number }) {
    for (const op of o.operators) {
      if (op.publicKey.length !== 32) throw new TypeError(`operator ${op.operatorId}: an Ed25519 public key is 32 bytes`);
      this.keys.set(op.operatorId, { operator: op, key: createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(op.publicKey)]), format: 'der', type: 'spki' }) });
    }
  }

  /** Throws OperatorAuthError; the nonce is checked for replay by the caller's store (same transaction as the action). */
  authenticate(call: AdminCall): AuthenticatedOperator {
    const fingerprint = call.certificateSha256?.toLowerCase();
    if (!fingerprint) throw new OperatorAuthError('OPERATOR_CERTIFICATE_REQUIRED', 'the admin API needs an operator client certificate (mTLS)');
    const operatorId = call.header(AdminHeaders.operator);
    const timestamp = call.header(AdminHeaders.timestamp);
    const nonce = call.header(AdminHeaders.nonce);
    const signature = call.header(AdminHeaders.signature);
    if (!operatorId || !timestamp || !nonce || !signature) throw new OperatorAuthError('SIGNATURE_REQUIRED', `every admin call must be signed: send ${Object.values(AdminHeaders).join(', ')}`);
    const entry = this.keys.get(operatorId);
    // Same answer for an unknown operator and a certificate pinned to someone else: nothing to probe.
    if (!entry || !entry.operator.certificateSha256.includes(fingerprint)) throw new OperatorAuthError('OPERATOR_NOT_PINNED', 'the client certificate is not pinned to this operator');
    if (!/^[0-9]{1,16}$/.test(timestamp) || Math.abs(this.o.clock.now().getTime() - Number(timestamp)) > (this.o.windowMs ?? 300_000)) throw new OperatorAuthError('STALE_REQUEST', 'the request timestamp is outside the allowed window');
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(nonce)) throw new OperatorAuthError('NONCE_MALFORMED', 'the nonce must be 16..128 characters of [A-Za-z0-9_-]');
    const sig = Buffer.from(signature, 'base64');
    const digest = adminSigningDigest(call.method, operatorId, timestamp, nonce, call.body);
    if (sig.length !== 64 || !verify(null, digest, entry.key, sig)) throw new OperatorAuthError('BAD_SIGNATURE', 'the operator signature does not verify');
    return { operatorId, nonce, certificateSha256: fingerprint, signature: new Uint8Array(sig) };
  }
}
