/**
 * Approver devices (C-8.2.2.5-e; for approvals, the FIDO2-on-registered-devices part of
 * C-9.3.6.2-a): a vote is bound to a person through a WebAuthn (FIDO2) assertion made by one
 * of that operator's registered authenticators.
 * Phishing resistance comes from what the authenticator itself signs: the SHA-256 of the
 * relying-party id it was asked for (a look-alike site gets a different rpIdHash) and the
 * client data naming the origin; user presence (UP) and user verification (UV: PIN or
 * biometric on the device) show a person acted, not a session with a password.
 *
 * The challenge is base64url(SHA-256(approvalSigningBytes(subject, operator, role, verdict))),
 * so an assertion counts for exactly one vote on one decision. Verification follows
 * WebAuthn Level 2 §7.2 ("Verifying an Authentication Assertion"), steps 11-21, minus the
 * parts a relying party without a browser session has no use for (token binding, user
 * handle). The signature counter (step 21) needs the stored value: signCountAdvances().
 *
 * Plain functions over Uint8Array, no I/O.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';

/** es256: COSE alg -7, P-256 ECDSA with SHA-256, DER signature; ed25519: COSE alg -8. */
export type DeviceKeyType = 'es256' | 'ed25519';
/**
 * security-key: roaming FIDO2 key; platform: a managed device's built-in authenticator;
 * software: a key file pretending to be an authenticator (tests and demos only, refused
 * unless the policy lists it).
 */
export type DeviceKind = 'security-key' | 'platform' | 'software';

export interface RegisteredDevice {
  /** Credential id, base64url without padding. */
  readonly deviceId: string;
  readonly keyType: DeviceKeyType;
  /** es256: SEC1 point (65 bytes uncompressed or 33 compressed); ed25519: 32 bytes. */
  readonly publicKey: Uint8Array;
  readonly kind: DeviceKind;
  /** Unix seconds. */
  readonly registeredAt: number;
  /** Unix seconds; from then on the device's assertions are refused. */
  readonly revokedAt?: number | undefined;
}

export interface DeviceAssertionPolicy {
  /** Refuse votes that carry no device assertion. */
  readonly required: boolean;
  /** The operator console's relying-party id (a registrable domain). Absent: no assertion can be accepted. */
  readonly rpId?: string | undefined;
  /** Exact origins the console is served from (e.g. "https://console.custody.example"). */
  readonly origins: readonly string[];
  /** Device kinds accepted (production: security-key, platform). */
  readonly allowedKinds: readonly DeviceKind[];
}

export interface DeviceAssertion {
  readonly credentialId: string;
  readonly authenticatorData: Uint8Array;
  readonly clientDataJSON: Uint8Array;
  readonly signature: Uint8Array;
}

export type DeviceRefusal =
  | 'DEVICE_ASSERTION_REQUIRED'
  | 'DEVICE_ASSERTION_MALFORMED'
  | 'UNKNOWN_DEVICE'
  | 'DEVICE_NOT_OPERATORS'
  | 'DEVICE_REVOKED'
  | 'DEVICE_KIND_NOT_ALLOWED'
  | 'DEVICE_SIGNATURE_INVALID'
  | 'DEVICE_ORIGIN_MISMATCH'
  | 'DEVICE_RP_ID_MISMATCH'
  | 'DEVICE_CHALLENGE_MISMATCH'
  | 'DEVICE_USER_NOT_PRESENT'
  | 'DEVICE_USER_NOT_VERIFIED'
  | 'DEVICE_SIGN_COUNT_NOT_INCREASING';

export const DEVICE_REFUSAL_TEXT: Readonly<Record<DeviceRefusal, string>> = Object.freeze({
  DEVICE_ASSERTION_REQUIRED: 'approvals need an assertion from a registered authenticator (FIDO2/WebAuthn); a signature alone is not accepted',
  DEVICE_ASSERTION_MALFORMED: 'the device assertion is not a well-formed WebAuthn authentication assertion',
  UNKNOWN_DEVICE: 'the assertion comes from an authenticator that is not registered',
  DEVICE_NOT_OPERATORS: 'the authenticator is registered to another operator',
  DEVICE_REVOKED: 'the authenticator has been revoked',
  DEVICE_KIND_NOT_ALLOWED: 'this kind of authenticator is not accepted for approvals',
  DEVICE_SIGNATURE_INVALID: 'the device assertion signature does not verify with the registered key',
  DEVICE_ORIGIN_MISMATCH: 'the assertion was made for another origin than the operator console',
  DEVICE_RP_ID_MISMATCH: 'the assertion was made for another relying party than the operator console',
  DEVICE_CHALLENGE_MISMATCH: 'the assertion was made for another decision, operator, role or verdict',
  DEVICE_USER_NOT_PRESENT: 'the authenticator did not report user presence',
  DEVICE_USER_NOT_VERIFIED: 'the authenticator did not verify the user (PIN or biometric)',
  DEVICE_SIGN_COUNT_NOT_INCREASING: 'the authenticator signature counter did not increase (possible cloned authenticator)',
});

/** Authenticator data flags (WebAuthn §6.1). */
export const FLAG_UP = 0x01;
export const FLAG_UV = 0x04;
export const FLAG_AT = 0x40;
export const FLAG_ED = 0x80;

const CREDENTIAL_ID = /^[A-Za-z0-9_-]{16,1366}$/;

export const base64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** The WebAuthn challenge of a vote: the SHA-256 of the bytes the operator's Ed25519 signature covers. */
export function voteChallenge(signingBytes: Uint8Array): Uint8Array {
  return sha256(signingBytes);
}

export interface ParsedAuthenticatorData {
  readonly rpIdHash: Uint8Array;
  readonly flags: number;
  readonly signCount: number;
}

/** rpIdHash (32) || flags (1) || signCount (u32be) [|| extensions (CBOR) when ED]; attested credential data is refused in an assertion. */
export function parseAuthenticatorData(data: Uint8Array): ParsedAuthenticatorData | undefined {
  if (!(data instanceof Uint8Array) || data.length < 37 || data.length > 1024) return undefined;
  const flags = data[32] as number;
  if (flags & FLAG_AT) return undefined;
  if (data.length > 37 && !(flags & FLAG_ED)) return undefined;
  const signCount = new DataView(data.buffer, data.byteOffset + 33, 4).getUint32(0, false);
  return { rpIdHash: data.slice(0, 32), flags, signCount };
}

interface ClientData {
  readonly type: string;
  readonly challenge: string;
  readonly origin: string;
  readonly crossOrigin?: boolean;
}

function parseClientData(bytes: Uint8Array): ClientData | undefined {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes.length > 4096) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const c = value as Record<string, unknown>;
  if (typeof c.type !== 'string' || typeof c.challenge !== 'string' || typeof c.origin !== 'string') return undefined;
  if (c.crossOrigin !== undefined && typeof c.crossOrigin !== 'boolean') return undefined;
  return { type: c.type, challenge: c.challenge, origin: c.origin, ...(c.crossOrigin !== undefined ? { crossOrigin: c.crossOrigin } : {}) };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/** The bytes an authenticator signs: authenticatorData || SHA-256(clientDataJSON). */
export function assertionSignedBytes(authenticatorData: Uint8Array, clientDataJSON: Uint8Array): Uint8Array {
  const out = new Uint8Array(authenticatorData.length + 32);
  out.set(authenticatorData, 0);
  out.set(sha256(clientDataJSON), authenticatorData.length);
  return out;
}

export function verifyDeviceSignature(device: RegisteredDevice, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (device.keyType === 'ed25519') {
      return signature.length === 64 && device.publicKey.length === 32 && ed25519.verify(signature, message, device.publicKey, { zip215: false });
    }
    // WebAuthn ES256 signatures are ASN.1 DER and need not be low-S (§6.5.6).
    return signature.length >= 8 && signature.length <= 72 && p256.verify(signature, message, device.publicKey, { format: 'der', lowS: false, prehash: true });
  } catch {
    return false;
  }
}

export interface DeviceCheck {
  readonly policy: DeviceAssertionPolicy;
  readonly assertion: DeviceAssertion | undefined;
  /** The operator casting the vote. */
  readonly operatorId: string;
  /** Who the credential id is registered to, across the whole registry. */
  readonly registered: { readonly operatorId: string; readonly device: RegisteredDevice } | undefined;
  /** The bytes the vote's Ed25519 signature covers (approvalSigningBytes). */
  readonly signingBytes: Uint8Array;
  /** Unix seconds. */
  readonly now: number;
}

export type DeviceCheckResult =
  | { readonly ok: true; readonly verified?: { readonly deviceId: string; readonly signCount: number } }
  | { readonly ok: false; readonly refusal: DeviceRefusal };

const refuse = (refusal: DeviceRefusal): DeviceCheckResult => ({ ok: false, refusal });

/**
 * The device factor of a vote. No assertion: accepted only when the policy does not require
 * one. An assertion, when present, is always verified (a bad one is never ignored). On
 * success returns the device and the counter the caller must compare with the stored one.
 */
export function checkDeviceAssertion(c: DeviceCheck): DeviceCheckResult {
  const a = c.assertion;
  if (!a) return c.policy.required ? refuse('DEVICE_ASSERTION_REQUIRED') : { ok: true };
  if (typeof a.credentialId !== 'string' || !CREDENTIAL_ID.test(a.credentialId)) return refuse('DEVICE_ASSERTION_MALFORMED');
  const auth = parseAuthenticatorData(a.authenticatorData);
  const client = parseClientData(a.clientDataJSON);
  if (!auth || !client || !(a.signature instanceof Uint8Array)) return refuse('DEVICE_ASSERTION_MALFORMED');
  const reg = c.registered;
  if (!reg || reg.device.deviceId !== a.credentialId || c.now < reg.device.registeredAt) return refuse('UNKNOWN_DEVICE');
  if (reg.operatorId !== c.operatorId) return refuse('DEVICE_NOT_OPERATORS');
  if (reg.device.revokedAt !== undefined && c.now >= reg.device.revokedAt) return refuse('DEVICE_REVOKED');
  if (!c.policy.allowedKinds.includes(reg.device.kind)) return refuse('DEVICE_KIND_NOT_ALLOWED');
  // Nothing below is trusted before the registered key has signed it.
  if (!verifyDeviceSignature(reg.device, assertionSignedBytes(a.authenticatorData, a.clientDataJSON), a.signature)) return refuse('DEVICE_SIGNATURE_INVALID');
  if (client.type !== 'webauthn.get') return refuse('DEVICE_ASSERTION_MALFORMED');
  if (client.crossOrigin === true || !c.policy.origins.includes(client.origin)) return refuse('DEVICE_ORIGIN_MISMATCH');
  if (!c.policy.rpId || !equalBytes(auth.rpIdHash, sha256(new TextEncoder().encode(c.policy.rpId)))) return refuse('DEVICE_RP_ID_MISMATCH');
  if (client.challenge !== base64url(voteChallenge(c.signingBytes))) return refuse('DEVICE_CHALLENGE_MISMATCH');
  if (!(auth.flags & FLAG_UP)) return refuse('DEVICE_USER_NOT_PRESENT');
  if (!(auth.flags & FLAG_UV)) return refuse('DEVICE_USER_NOT_VERIFIED');
  return { ok: true, verified: { deviceId: reg.device.deviceId, signCount: auth.signCount } };
}

/**
 * WebAuthn §7.2 step 21: with a stored counter, a new assertion must carry a larger one
 * (equal or smaller: the credential may have been cloned). Authenticators without a counter
 * always send 0; that is accepted only while the stored value is 0 too.
 */
export function signCountAdvances(stored: number | undefined, next: number): boolean {
  const prev = stored ?? 0;
  if (next === 0 && prev === 0) return true;
  return next > prev;
}

/** The registered device with this credential id, and its operator. */
export function findDevice(operators: Iterable<{ readonly operatorId: string; readonly devices?: ReadonlyMap<string, RegisteredDevice> | undefined }>, credentialId: string): { operatorId: string; device: RegisteredDevice } | undefined {
  for (const op of operators) {
    const device = op.devices?.get(credentialId);
    if (device) return { operatorId: op.operatorId, device };
  }
  return undefined;
}

/**
 * The credential public key as a WebAuthn registration returns it (COSE_Key, RFC 9052/9053,
 * CTAP2 canonical CBOR map): EC2 P-256 ES256 {1:2, 3:-7, -1:1, -2:x, -3:y} or OKP Ed25519
 * {1:1, 3:-8, -1:6, -2:x}. Anything else (other curves, RSA, extra or duplicate labels) is
 * undefined.
 */
export function devicePublicKeyFromCose(cose: Uint8Array): { keyType: DeviceKeyType; publicKey: Uint8Array } | undefined {
  let i = 0;
  const head = (): { major: number; value: number } | undefined => {
    const b = cose[i++];
    if (b === undefined) return undefined;
    const major = b >> 5;
    const info = b & 0x1f;
    if (info < 24) return { major, value: info };
    if (info === 24 && i < cose.length) return { major, value: cose[i++] as number };
    return undefined;
  };
  const int = (): number | undefined => {
    const h = head();
    if (!h) return undefined;
    if (h.major === 0) return h.value;
    if (h.major === 1) return -1 - h.value;
    return undefined;
  };
  const map = head();
  if (!map || map.major !== 5 || map.value > 8) return undefined;
  const fields = new Map<number, number | Uint8Array>();
  for (let n = 0; n < map.value; n++) {
    const label = int();
    if (label === undefined || fields.has(label)) return undefined;
    const save = i;
    const h = head();
    if (!h) return undefined;
    if (h.major === 2) {
      if (i + h.value > cose.length) return undefined;
      fields.set(label, cose.slice(i, i + h.value));
      i += h.value;
    } else {
      i = save;
      const v = int();
      if (v === undefined) return undefined;
      fields.set(label, v);
    }
  }
  if (i !== cose.length) return undefined;
  const x = fields.get(-2);
  if (fields.get(1) === 2 && fields.get(3) === -7 && fields.get(-1) === 1 && fields.size === 5) {
    const y = fields.get(-3);
    if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) return undefined;
    const publicKey = new Uint8Array(65);
    publicKey[0] = 4;
    publicKey.set(x, 1);
    publicKey.set(y, 33);
    try {
      p256.Point.fromBytes(publicKey).assertValidity();
    } catch {
      return undefined;
    }
    return { keyType: 'es256', publicKey };
  }
  if (fields.get(1) === 1 && fields.get(3) === -8 && fields.get(-1) === 6 && fields.size === 4 && x instanceof Uint8Array && x.length === 32) return { keyType: 'ed25519', publicKey: x };
  return undefined;
}
