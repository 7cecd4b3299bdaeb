// A software FIDO2 authenticator in a file, for operators of development and demo
// deployments (C-8.2.2.5-e; docs/cli.md "Approver devices"): it answers the policy's
// WebAuthn challenge for a vote the way a security key does (WebAuthn §6.3.3
// authenticatorGetAssertion), with user presence and verification asserted by the person
// running the command. Production registries accept only security-key/platform devices;
// this file is registered as kind "software". The private key never leaves this module;
// the signature counter is advanced and written back before the vote is sent.
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import type { ApprovalSubject, ApprovalVerdict } from '@custody/decision-token';
import { UsageError } from '../types.js';

export interface DeviceAssertionWire {
  readonly credentialId: string;
  readonly authenticatorData: Buffer;
  readonly clientDataJson: Buffer;
  readonly signature: Buffer;
}

interface AuthenticatorFile {
  credentialId: string;
  keyType: 'es256' | 'ed25519';
  privateKey: string;
  rpId: string;
  origin: string;
  signCount: number;
}

function parseFile(text: string, path: string): AuthenticatorFile {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsageError(`--authenticator-file ${path} is not JSON`);
  }
  const f = v as Partial<AuthenticatorFile>;
  if (
    typeof f !== 'object' || f === null ||
    typeof f.credentialId !== 'string' || !/^[A-Za-z0-9_-]{16,1366}$/.test(f.credentialId) ||
    (f.keyType !== 'es256' && f.keyType !== 'ed25519') ||
    typeof f.privateKey !== 'string' || !f.privateKey.startsWith('-----BEGIN PRIVATE KEY-----') ||
    typeof f.rpId !== 'string' || typeof f.origin !== 'string' ||
    typeof f.signCount !== 'number' || !Number.isSafeInteger(f.signCount) || f.signCount < 0 || f.signCount >= 0xffffffff
  ) {
    throw new UsageError(`--authenticator-file ${path} must hold credentialId, keyType (es256|ed25519), privateKey (PKCS#8 PEM), rpId, origin and signCount`);
  }
  return f as AuthenticatorFile;
}

function keyOf(f: AuthenticatorFile): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: f.privateKey, format: 'pem' });
  } catch {
    throw new UsageError('the authenticator file\'s privateKey is not a readable PKCS#8 PEM key');
  }
  const ok = f.keyType === 'ed25519' ? key.asymmetricKeyType === 'ed25519' : key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
  if (!ok) throw new UsageError(`the authenticator file's privateKey is not a ${f.keyType === 'es256' ? 'P-256' : 'Ed25519'} key`);
  return key;
}

/** policy's own software authenticator (WebAuthn §6.3.3), loaded from the built @custody/policy: the CLI never carries a copy of the assertion format. The composition layer may use a service's exported API (as deploy/embedded does). */
// eslint-disable-next-line @nx/enforce-module-boundaries
const softwareAuthenticator = async () => (await import('@custody/policy')).SoftwareAuthenticator;

/**
 * Loads the authenticator file, advances its counter on disk (atomically, before anything is
 * sent: a counter is never used twice), and returns a function that asserts one vote.
 */
export async function useAuthenticatorFile(path: string, warn: (text: string) => void): Promise<{ credentialId: string; assert: (subject: ApprovalSubject, operatorId: string, role: string, verdict: ApprovalVerdict) => DeviceAssertionWire }> {
  let text: string;
  try {
    if ((statSync(path).mode & 0o077) !== 0) warn(`custody: warning: ${path} is readable by other users (chmod 600 it)`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read --authenticator-file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  const f = parseFile(text, path);
  const authenticator = new (await softwareAuthenticator())(f.credentialId, f.keyType, keyOf(f), f.rpId, f.origin);
  const signCount = f.signCount + 1;
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ ...f, signCount }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return {
    credentialId: f.credentialId,
    assert: (subject, operatorId, role, verdict) => {
      const a = authenticator.assertVote(subject, operatorId, role, verdict, { signCount, crossOrigin: false });
      return { credentialId: a.credentialId, authenticatorData: Buffer.from(a.authenticatorData), clientDataJson: Buffer.from(a.clientDataJSON), signature: Buffer.from(a.signature) };
    },
  };
}

/** A new software authenticator file (mode 0600) and the device entry to register for it. */
export async function createAuthenticatorFile(path: string, o: { rpId: string; origin: string; keyType: 'es256' | 'ed25519'; now: Date }): Promise<{ device: Record<string, string> }> {
  const { privateKey } = o.keyType === 'es256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519');
  const credentialId = randomBytes(32).toString('base64url');
  const file: AuthenticatorFile = { credentialId, keyType: o.keyType, privateKey: String(privateKey.export({ format: 'pem', type: 'pkcs8' })), rpId: o.rpId, origin: o.origin, signCount: 0 };
  const publicKey = Buffer.from(new (await softwareAuthenticator())(credentialId, o.keyType, privateKey, o.rpId, o.origin).publicKey).toString('hex');
  writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { device: { id: credentialId, keyType: o.keyType, publicKey, kind: 'software', registeredAt: o.now.toISOString() } };
}
