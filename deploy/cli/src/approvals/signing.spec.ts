import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import type { PendingApproval } from '@custody/contracts';
import { approvalSigningBytes, approvalSubjectBytes, verifyEd25519Strict } from '@custody/decision-token';
import { pendingOf, subject } from '../../test/fixtures.js';
import { CliError, UsageError } from '../types.js';
import { parseOperatorKey, payloadMatches, publicKeyHex, requireIdentifier, signVote, subjectOf } from './signing.js';

describe('operator key file', () => {
  const seed = randomBytes(32);
  const publicHex = Buffer.from(ed25519.getPublicKey(new Uint8Array(seed))).toString('hex');

  it('reads a 32-byte seed as hex or base64 (the policy tools\' format) and a PKCS#8 PEM key', () => {
    expect(publicKeyHex(parseOperatorKey(`${seed.toString('hex')}\n`))).toBe(publicHex);
    expect(publicKeyHex(parseOperatorKey(seed.toString('base64')))).toBe(publicHex);
    const pair = generateKeyPairSync('ed25519');
    const pem = pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    expect(publicKeyHex(parseOperatorKey(pem))).toBe(Buffer.from(String(pair.publicKey.export({ format: 'jwk' }).x), 'base64url').toString('hex'));
  });

  it('refuses other keys and garbage, without echoing the contents', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const cases = [rsa, '-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----\nnot base64 at all\n-----END PRIVATE KEY-----', 'deadbeef', seed.toString('hex').slice(2), randomBytes(31).toString('base64'), ''];
    for (const contents of cases) {
      let error: unknown;
      try {
        parseOperatorKey(contents);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(UsageError);
      const message = (error as Error).message;
      for (const line of contents.split('\n').filter((l) => l.length > 8 && !l.startsWith('-----'))) expect(message).not.toContain(line);
    }
  });
});

describe('signing a vote', () => {
  const seed = randomBytes(32);
  const key = parseOperatorKey(seed.toString('hex'));
  const publicKey = ed25519.getPublicKey(new Uint8Array(seed));

  it('rebuilds the subject from the listed fields; the signature verifies (strict Ed25519) over approvalSigningBytes for exactly this operator, role and verdict', () => {
    const p = pendingOf();
    expect(subjectOf(p)).toEqual({ ...subject, roles: ['compliance', 'treasury'] });
    expect(payloadMatches(p)).toBe(true);
    const vote = signVote(p, { operatorId: 'op-alice', role: 'compliance', keyId: 'op-alice-k1', verdict: 'approve' }, key);
    expect(vote).toMatchObject({ decisionId: subject.decisionId, operatorId: 'op-alice', role: 'compliance', keyId: 'op-alice-k1' });
    expect(vote.signature).toHaveLength(64);
    const sig = new Uint8Array(vote.signature);
    expect(verifyEd25519Strict(sig, approvalSigningBytes(subject, 'op-alice', 'compliance', 'approve'), publicKey)).toBe(true);
    expect(verifyEd25519Strict(sig, approvalSigningBytes(subject, 'op-alice', 'compliance', 'reject'), publicKey)).toBe(false);
    expect(verifyEd25519Strict(sig, approvalSigningBytes(subject, 'op-alice', 'treasury', 'approve'), publicKey)).toBe(false);
    expect(verifyEd25519Strict(sig, approvalSigningBytes(subject, 'op-bob', 'compliance', 'approve'), publicKey)).toBe(false);
    expect(verifyEd25519Strict(sig, approvalSigningBytes({ ...subject, amount: 150000001n }, 'op-alice', 'compliance', 'approve'), publicKey)).toBe(false);
  });

  it('refuses to sign when approve_payload differs from the listed fields (a server showing one withdrawal and asking for another)', () => {
    const shown = pendingOf({ ...subject, amount: 1000n }, approvalSubjectBytes(subject));
    expect(payloadMatches(shown)).toBe(false);
    expect(() => signVote(shown, { operatorId: 'op-alice', role: 'compliance', keyId: 'k', verdict: 'approve' }, key)).toThrow(
      expect.objectContaining({ reason: 'APPROVE_PAYLOAD_MISMATCH', exitCode: 1 }) as unknown as Error,
    );
  });

  it('refuses a malformed listing (amount, digest, expiry) rather than signing it', () => {
    for (const bad of [{ amount: '01' }, { amount: '-1' }, { amount: '1.5' }, { bundleDigest: 'AB'.repeat(32) }, { expiresAt: undefined }]) {
      const p = { ...pendingOf(), ...bad } as PendingApproval;
      expect(() => subjectOf(p)).toThrow(CliError);
      expect(payloadMatches.bind(null, p)).toThrow(CliError);
    }
  });

  it('identifiers are 1-256 printable ASCII characters', () => {
    expect(requireIdentifier('--operator', 'op-alice')).toBe('op-alice');
    for (const bad of ['', 'op alice', 'x'.repeat(257), 'opé']) expect(() => requireIdentifier('--operator', bad)).toThrow(UsageError);
  });
});
