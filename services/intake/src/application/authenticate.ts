// Integrator authentication (C-9.3.6.3-e): mTLS certificate -> integrator, and on mutating
// calls an Ed25519 signature over the canonical request (domain/canonical.ts) with a
// timestamp window and a single-use nonce. Then source address, scope and rate limit.
import { ed25519 } from '@noble/curves/ed25519.js';
import { encodeSigningInput, type BodyField } from '../domain/canonical.js';
import { AuthenticationError, PermissionError, RateLimitedError } from '../domain/errors.js';
import { keyUsable, type Integrator, type Scope } from '../domain/integrator.js';
import { TokenBuckets, type RateLimit } from '../domain/rate-limiter.js';
import type { RequestEvidence } from '../domain/withdrawal.js';
import { isAllowed } from './ip-allowlist.js';
import type { Clock, IntegratorDirectory, NonceStore } from './ports.js';

/** Call metadata names (lower case, as gRPC sends them). */
export const AuthHeaders = Object.freeze({
  clientId: 'x-custody-client-id',
  keyId: 'x-custody-key-id',
  timestamp: 'x-custody-timestamp',
  nonce: 'x-custody-nonce',
  signature: 'x-custody-signature',
});

export interface CallCredentials {
  /** Full gRPC method path. */
  readonly method: string;
  readonly header: (name: string) => string | undefined;
  /** Source address of the connection (no port). */
  readonly sourceAddress: string | undefined;
  /** SHA-256 (hex) of the verified mTLS client certificate, when the transport has one. */
  readonly certificateFingerprint: string | undefined;
}

export interface Caller {
  readonly integrator: Integrator;
  /** Present when the call was signed. */
  readonly evidence?: RequestEvidence;
}

export interface AuthenticatorOptions {
  readonly directory: IntegratorDirectory;
  readonly nonces: NonceStore;
  readonly clock: Clock;
  /** Accepted clock skew either way. */
  readonly timestampWindowMs: number;
  /** Per source address, before anything else (cheap flood protection). */
  readonly perSourceLimit: RateLimit;
}

const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

function decodeSignature(value: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(value)) return undefined;
  const bytes = Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 64 ? new Uint8Array(bytes) : undefined;
}

export class Authenticator {
  private readonly perClient = new TokenBuckets();
  private readonly perSource = new TokenBuckets();

  constructor(private readonly options: AuthenticatorOptions) {}

  /**
   * @param body canonical body fields of the request
   * @param requireSignature mutating calls: a valid signature is mandatory even with mTLS
   */
  async authenticate(credentials: CallCredentials, body: readonly BodyField[], scope: Scope, requireSignature: boolean): Promise<Caller> {
    const now = this.options.clock.now();
    const source = credentials.sourceAddress ?? 'unknown';
    const flood = this.perSource.take(source, this.options.perSourceLimit, now.getTime());
    if (!flood.allowed) throw new RateLimitedError(flood.retryAfterMs);

    let byCertificate: Integrator | undefined;
    if (credentials.certificateFingerprint !== undefined) {
      byCertificate = await this.options.directory.findByCertificateFingerprint(credentials.certificateFingerprint);
      if (!byCertificate) throw new AuthenticationError('UNKNOWN_CLIENT_CERTIFICATE', 'the client certificate is not registered to any integrator');
    }

    const clientIdHeader = credentials.header(AuthHeaders.clientId);
    const signed = credentials.header(AuthHeaders.signature) !== undefined;
    let integrator: Integrator;
    let evidence: RequestEvidence | undefined;
    if (signed || requireSignature) {
      if (!signed || clientIdHeader === undefined) {
        throw new AuthenticationError('SIGNATURE_REQUIRED', `this call must be signed: send ${Object.values(AuthHeaders).join(', ')} (see docs/intake.md)`);
      }
      const verified = await this.verifySignature(credentials, body, now);
      if (byCertificate && byCertificate.clientId !== verified.integrator.clientId) {
        throw new AuthenticationError('CLIENT_CERTIFICATE_MISMATCH', 'the signing client id does not match the client certificate of this connection');
      }
      integrator = verified.integrator;
      evidence = verified.evidence;
    } else if (byCertificate) {
      if (clientIdHeader !== undefined && clientIdHeader !== byCertificate.clientId) {
        throw new AuthenticationError('CLIENT_CERTIFICATE_MISMATCH', 'x-custody-client-id does not match the client certificate of this connection');
      }
      integrator = byCertificate;
    } else {
      throw new AuthenticationError('AUTHENTICATION_REQUIRED', 'present a registered client certificate or sign the call (see docs/intake.md)');
    }
    if (integrator.status !== 'active') throw new AuthenticationError('CLIENT_REVOKED', 'this integrator has been revoked');

    if (!isAllowed(integrator.ipAllowlist, credentials.sourceAddress)) {
      throw new PermissionError('SOURCE_IP_NOT_ALLOWED', 'calls from this source address are not allowed for this integrator');
    }
    if (!integrator.scopes.includes(scope)) throw new PermissionError('SCOPE_MISSING', `this integrator lacks the "${scope}" scope`);
    const limit = this.perClient.take(integrator.clientId, integrator.rateLimit, now.getTime());
    if (!limit.allowed) throw new RateLimitedError(limit.retryAfterMs);
    return evidence ? { integrator, evidence } : { integrator };
  }

  private async verifySignature(credentials: CallCredentials, body: readonly BodyField[], now: Date): Promise<{ integrator: Integrator; evidence: RequestEvidence }> {
    const h = credentials.header;
    const clientId = h(AuthHeaders.clientId) ?? '';
    const keyId = h(AuthHeaders.keyId) ?? '';
    if (!ID.test(clientId)) throw new AuthenticationError('UNKNOWN_CLIENT', 'unknown client id');
    const integrator = await this.options.directory.findByClientId(clientId);
    if (!integrator) throw new AuthenticationError('UNKNOWN_CLIENT', 'unknown client id');
    if (integrator.status !== 'active') throw new AuthenticationError('CLIENT_REVOKED', 'this integrator has been revoked');
    const key = integrator.keys.find((k) => k.keyId === keyId);
    if (!key) throw new AuthenticationError('UNKNOWN_KEY', `${AuthHeaders.keyId} does not name a key of this client`);
    if (key.revoked) throw new AuthenticationError('KEY_REVOKED', 'this signing key has been revoked');
    if (!keyUsable(key, now)) throw new AuthenticationError('KEY_EXPIRED', 'this signing key was rotated out: sign with the new key');
    const evidence = await verifySignedCall({ credentials, body, now, timestampWindowMs: this.options.timestampWindowMs, nonces: this.options.nonces, nonceOwner: clientId, clientId, keyId, publicKey: key.publicKey });
    return { integrator, evidence };
  }
}

/**
 * The signature checks every signed call goes through (integrators and operators alike),
 * after the signer and its key were found: timestamp window, nonce format, Ed25519 over
 * the canonical encoding, then the nonce is consumed (only by an authentic request).
 */
export async function verifySignedCall(args: {
  readonly credentials: CallCredentials;
  readonly body: readonly BodyField[];
  readonly now: Date;
  readonly timestampWindowMs: number;
  readonly nonces: NonceStore;
  /** Namespace of the nonce (integrator client id, or an operator marker). */
  readonly nonceOwner: string;
  readonly clientId: string;
  readonly keyId: string;
  readonly publicKey: Uint8Array;
}): Promise<RequestEvidence> {
  const { credentials, body, now, clientId, keyId } = args;
  const h = credentials.header;
  const timestampText = h(AuthHeaders.timestamp) ?? '';
  const nonce = h(AuthHeaders.nonce) ?? '';
  if (!/^[0-9]{1,16}$/.test(timestampText)) throw new AuthenticationError('TIMESTAMP_MALFORMED', `${AuthHeaders.timestamp} must be Unix time in milliseconds`);
  const timestampMs = Number(timestampText);
  if (Math.abs(now.getTime() - timestampMs) > args.timestampWindowMs) {
    throw new AuthenticationError('TIMESTAMP_OUT_OF_WINDOW', `${AuthHeaders.timestamp} is more than ${Math.round(args.timestampWindowMs / 1000)} s from the server clock`);
  }
  if (!NONCE.test(nonce)) throw new AuthenticationError('NONCE_MALFORMED', `${AuthHeaders.nonce} must be 16-64 characters of A-Z a-z 0-9 _ -`);
  const signature = decodeSignature(h(AuthHeaders.signature) ?? '');
  if (!signature) throw new AuthenticationError('BAD_SIGNATURE', `${AuthHeaders.signature} must be a base64 Ed25519 signature (64 bytes)`);
  const signedPayload = encodeSigningInput({ method: credentials.method, clientId, keyId, timestampMs, nonce, body });
  let valid = false;
  try {
    valid = ed25519.verify(signature, signedPayload, args.publicKey, { zip215: false });
  } catch {
    valid = false;
  }
  if (!valid) throw new AuthenticationError('BAD_SIGNATURE', 'the request signature does not verify');
  // Only an authentic request may consume a nonce.
  if (!(await args.nonces.remember(args.nonceOwner, nonce, now))) {
    throw new AuthenticationError('REPLAYED_NONCE', 'this nonce was already used: every call needs a fresh nonce (retries too)');
  }
  return { keyId, algorithm: 'ed25519', signature, signedPayload };
}
