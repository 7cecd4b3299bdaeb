/**
 * A software FIDO2 authenticator (WebAuthn §6: authenticatorGetAssertion), for tests and the
 * demo operators only: the key is a KeyObject in this process, so it proves the protocol
 * path, not possession of hardware (the registry marks it kind "software", refused unless
 * `approvalDevices.allowedKinds` lists it). Signs with node:crypto (OpenSSL), independently
 * of the @noble/curves verifier in domain/device-assertion.ts.
 */
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { approvalSigningBytes, type ApprovalSubject, type Verdict } from '../../domain/approval.js';
import { FLAG_UP, FLAG_UV, base64url, voteChallenge, type DeviceAssertion, type DeviceKeyType, type RegisteredDevice } from '../../domain/device-assertion.js';

export interface AssertOptions {
  /** The relying party the (possibly phishing) page asks for. Default: the authenticator's rpId. */
  readonly rpId?: string;
  readonly origin?: string;
  readonly type?: string;
  readonly flags?: number;
  /** Default: the next counter value. */
  readonly signCount?: number;
  readonly crossOrigin?: boolean;
}

export class SoftwareAuthenticator {
  private counter: number;

  constructor(
    readonly credentialId: string,
    readonly keyType: DeviceKeyType,
    private readonly privateKey: KeyObject,
    readonly rpId: string,
    readonly origin: string,
    signCount = 0,
  ) {
    this.counter = signCount;
  }

  /** `signCount`: the counter's start (e.g. a time, for an authenticator re-created at each start of a demo). */
  static generate(opts: { keyType?: DeviceKeyType; rpId: string; origin: string; credentialId?: string; signCount?: number }): SoftwareAuthenticator {
    const keyType = opts.keyType ?? 'es256';
    const { privateKey } = keyType === 'es256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
    return new SoftwareAuthenticator(opts.credentialId ?? base64url(randomBytes(32)), keyType, privateKey, opts.rpId, opts.origin, opts.signCount ?? 0);
  }

  /** es256: SEC1 uncompressed point; ed25519: raw 32 bytes. */
  get publicKey(): Uint8Array {
    const jwk = createPublicKey(this.privateKey).export({ format: 'jwk' });
    const x = Buffer.from(String(jwk.x), 'base64url');
    return this.keyType === 'ed25519' ? new Uint8Array(x) : new Uint8Array(Buffer.concat([Buffer.from([4]), x, Buffer.from(String(jwk.y), 'base64url')]));
  }

  registration(kind: RegisteredDevice['kind'] = 'software', registeredAt = 0, revokedAt?: number): RegisteredDevice {
    return { deviceId: this.credentialId, keyType: this.keyType, publicKey: this.publicKey, kind, registeredAt, ...(revokedAt !== undefined ? { revokedAt } : {}) };
  }

  /** An assertion over a raw challenge (navigator.credentials.get({ publicKey: { challenge, rpId, userVerification: 'required' } })). */
  assert(challenge: Uint8Array, o: AssertOptions = {}): DeviceAssertion {
    const signCount = o.signCount ?? ++this.counter;
    const authenticatorData = Buffer.alloc(37);
    createHash('sha256').update(o.rpId ?? this.rpId, 'utf8').digest().copy(authenticatorData, 0);
    authenticatorData[32] = o.flags ?? FLAG_UP | FLAG_UV;
    authenticatorData.writeUInt32BE(signCount >>> 0, 33);
    const clientData = { type: o.type ?? 'webauthn.get', challenge: base64url(challenge), origin: o.origin ?? this.origin, ...(o.crossOrigin !== undefined ? { crossOrigin: o.crossOrigin } : {}) };
    const clientDataJSON = Buffer.from(JSON.stringify(clientData), 'utf8');
    const signed = Buffer.concat([authenticatorData, createHash('sha256').update(clientDataJSON).digest()]);
    const signature = this.keyType === 'es256' ? sign('sha256', signed, { key: this.privateKey, dsaEncoding: 'der' }) : sign(null, signed, this.privateKey);
    return { credentialId: this.credentialId, authenticatorData: new Uint8Array(authenticatorData), clientDataJSON: new Uint8Array(clientDataJSON), signature: new Uint8Array(signature) };
  }

  /** The assertion of one vote: the challenge is SHA-256 of the bytes the operator's Ed25519 signature covers. */
  assertVote(subject: ApprovalSubject, operatorId: string, role: string, verdict: Verdict, o: AssertOptions = {}): DeviceAssertion {
    return this.assert(voteChallenge(approvalSigningBytes(subject, operatorId, role, verdict)), o);
  }
}
