// Operator authentication for IntakeAdminService: a pinned operator client certificate
// (mTLS) AND an Ed25519 signature over the same canonical request encoding integrators use
// (domain/canonical.ts), keyed by operator id. Both are required on every call, reads too.
import type { BodyField } from '../domain/canonical.js';
import { AuthenticationError } from '../domain/errors.js';
import type { RequestEvidence } from '../domain/withdrawal.js';
import { AuthHeaders, verifySignedCall, type CallCredentials } from './authenticate.js';
import type { Clock, NonceStore } from './ports.js';

/** An operator allowed to call the admin API (from configuration, never from a request). */
export interface Operator {
  readonly operatorId: string;
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  /** SHA-256 (lower-case hex of the DER) of the operator's client certificates. */
  readonly certificateSha256: readonly string[];
}

/** Who did an admin action and the proof of it (stored with the action and in its event). */
export interface OperatorActor {
  readonly operatorId: string;
  readonly evidence: RequestEvidence;
  readonly certificateSha256: string;
  readonly sourceAddress: string | undefined;
}

/** Operator nonces live beside integrator nonces under a prefix no client id can have. */
export const operatorNonceOwner = (operatorId: string): string => `@operator/${operatorId}`;

export class OperatorAuthenticator {
  private readonly byCertificate = new Map<string, Operator>();
  private readonly byId = new Map<string, Operator>();

  constructor(
    private readonly options: {
      readonly operators: readonly Operator[];
      readonly nonces: NonceStore;
      readonly clock: Clock;
      readonly timestampWindowMs: number;
    },
  ) {
    for (const op of options.operators) {
      if (op.publicKey.length !== 32) throw new TypeError(`operator ${op.operatorId}: an Ed25519 public key is 32 bytes`);
      this.byId.set(op.operatorId, op);
      for (const f of op.certificateSha256) this.byCertificate.set(f.toLowerCase(), op);
    }
  }

  async authenticate(credentials: CallCredentials, body: readonly BodyField[]): Promise<OperatorActor> {
    const now = this.options.clock.now();
    const fingerprint = credentials.certificateFingerprint;
    if (fingerprint === undefined) throw new AuthenticationError('OPERATOR_CERTIFICATE_REQUIRED', 'the admin API needs an operator client certificate (mTLS)');
    const byCertificate = this.byCertificate.get(fingerprint.toLowerCase());
    if (!byCertificate) throw new AuthenticationError('UNKNOWN_OPERATOR_CERTIFICATE', 'the client certificate is not pinned to any operator');
    const operatorId = credentials.header(AuthHeaders.clientId);
    if (credentials.header(AuthHeaders.signature) === undefined || operatorId === undefined) {
      throw new AuthenticationError('SIGNATURE_REQUIRED', `every admin call must be signed: send ${Object.values(AuthHeaders).join(', ')} (see docs/intake.md)`);
    }
    const operator = this.byId.get(operatorId);
    if (!operator) throw new AuthenticationError('UNKNOWN_OPERATOR', 'unknown operator id');
    if (operator.operatorId !== byCertificate.operatorId) {
      throw new AuthenticationError('OPERATOR_CERTIFICATE_MISMATCH', 'the signing operator does not match the client certificate of this connection');
    }
    const keyId = credentials.header(AuthHeaders.keyId) ?? '';
    if (keyId !== operator.keyId) throw new AuthenticationError('UNKNOWN_KEY', `${AuthHeaders.keyId} does not name this operator's key`);
    const evidence = await verifySignedCall({
      credentials,
      body,
      now,
      timestampWindowMs: this.options.timestampWindowMs,
      nonces: this.options.nonces,
      nonceOwner: operatorNonceOwner(operator.operatorId),
      clientId: operator.operatorId,
      keyId,
      publicKey: operator.publicKey,
    });
    return { operatorId: operator.operatorId, evidence, certificateSha256: fingerprint.toLowerCase(), sourceAddress: credentials.sourceAddress };
  }
}
