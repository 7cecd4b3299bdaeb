import { describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { verifyDecisionToken } from '../../domain/decision-token.js';
import { localDecisionSigner, parseSeed } from './local-decision-signer.js';

describe('local decision signer: the key port on a local seed', () => {
  const seed = ed25519.utils.randomSecretKey();
  const hexSeed = Buffer.from(seed).toString('hex');
  const signer = localDecisionSigner('policy-k1', seed);

  it('signs tokens that verify with its public key', () => {
    const token = signer.sign({
      decisionId: 'd-1',
      withdrawalId: 'wd-1',
      asset: 'BTC',
      sourceWallet: 'btc-hot-01',
      destination: { address: 'bc1qx' },
      amount: 5n,
      bundleDigest: 'ab'.repeat(32),
      approvals: { quorum: 0, roles: [] },
      issuedAt: 1_000,
      expiresAt: 1_600,
    });
    const result = verifyDecisionToken(token, {
      trustedKeys: new Map([['policy-k1', signer.publicKey]]),
      clock: { now: () => new Date(1_100_000) },
      expected: { withdrawalId: 'wd-1', asset: 'BTC', sourceWallet: 'btc-hot-01', destination: { address: 'bc1qx' }, amount: 5n },
    });
    expect(result.ok).toBe(true);
  });

  it('never exposes the seed: not in JSON, not in its properties, not in errors', () => {
    const json = JSON.stringify(signer);
    expect(json).toContain('policy-k1');
    expect(json).not.toContain(hexSeed);
    expect(json).not.toContain(Buffer.from(seed).toString('base64'));
    expect(Object.values(signer).some((v) => v instanceof Uint8Array && Buffer.from(v).equals(Buffer.from(seed)))).toBe(false);
    const bad = `${hexSeed.slice(0, 62)}`;
    expect(() => parseSeed(bad)).toThrow(/32-byte Ed25519 seed/);
    try {
      parseSeed(bad);
    } catch (e) {
      expect(String((e as Error).message)).not.toContain(bad);
    }
  });

  it('reads hex or base64 seeds', () => {
    expect(Buffer.from(parseSeed(`${hexSeed}\n`)).equals(Buffer.from(seed))).toBe(true);
    expect(Buffer.from(parseSeed(Buffer.from(seed).toString('base64'))).equals(Buffer.from(seed))).toBe(true);
  });
});
