import { randomBytes } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { x25519 } from '@noble/curves/ed25519.js';
import { combine } from 'shamir-secret-sharing';
import { createBackup, openShare, restoreBackup, type Custodian } from './backup.js';
import { deriveNode, exportXpub, masterFromSeed, mnemonicToSeed, entropyToMnemonic } from './crypto/hd.js';

function custodians(n: number): { list: Custodian[]; secrets: Map<string, Uint8Array> } {
  const secrets = new Map<string, Uint8Array>();
  const list = Array.from({ length: n }, (_, i) => {
    const sk = x25519.utils.randomSecretKey();
    secrets.set(`custodian-${i + 1}`, sk);
    return { custodianId: `custodian-${i + 1}`, publicKey: x25519.getPublicKey(sk) };
  });
  return { list, secrets };
}

describe('C-9.3.7.3-b M-of-N Shamir backup of a seed, each share encrypted to one custodian', () => {
  it('any 3 of 5 shares restore the seed, and the restored seed derives the same account xpub (address matches)', async () => {
    const seed = mnemonicToSeed(entropyToMnemonic(randomBytes(32)));
    const { list, secrets } = custodians(5);
    const { manifest, shares } = await createBackup('bk-1', seed, 3, list);
    expect(shares).toHaveLength(5);
    for (const subset of [[0, 1, 2], [0, 2, 4], [1, 3, 4], [2, 3, 4]]) {
      const opened = subset.map((i) => {
        const share = shares[i];
        if (!share) throw new Error('no share');
        return { share, plain: openShare(share, secrets.get(share.custodianId) as Uint8Array) };
      });
      const restored = await restoreBackup(manifest, opened);
      expect(restored).toEqual(seed);
      const path = "m/44'/60'/0'";
      expect(exportXpub(deriveNode(masterFromSeed(restored), path)).xpub).toBe(exportXpub(deriveNode(masterFromSeed(seed), path)).xpub);
    }
  });

  it('M-1 shares restore nothing: the attempt fails the fingerprint check', async () => {
    const seed = randomBytes(32);
    const { list, secrets } = custodians(5);
    const { manifest, shares } = await createBackup('bk-2', seed, 3, list);
    const two = shares.slice(0, 2).map((share) => ({ share, plain: openShare(share, secrets.get(share.custodianId) as Uint8Array) }));
    await expect(restoreBackup(manifest, two)).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    // and what the library reconstructs from them is not the seed
    expect(Buffer.from(await combine(two.map((o) => o.plain))).equals(seed)).toBe(false);
  });

  it('M-1 shares are equally consistent with every candidate secret (information-theoretic: each value has exactly one completion)', async () => {
    const seed = randomBytes(32);
    const { list, secrets } = custodians(3);
    const { shares } = await createBackup('bk-3', seed, 2, list);
    const first = shares[0];
    if (!first) throw new Error('no share');
    const held = openShare(first, secrets.get(first.custodianId) as Uint8Array); // M-1 = 1 share
    // Complete it with a hypothetical second share at another x, varying its first y byte over
    // all 256 values: the first secret byte then takes every one of the 256 values exactly once.
    const xHeld = held[held.length - 1] as number;
    const xOther = xHeld === 255 ? 1 : xHeld + 1;
    const counts = new Map<number, number>();
    for (let y = 0; y < 256; y++) {
      const hypothetical = new Uint8Array(held.length);
      hypothetical[0] = y;
      hypothetical[held.length - 1] = xOther;
      const candidate = await combine([held, hypothetical]);
      counts.set(candidate[0] as number, (counts.get(candidate[0] as number) ?? 0) + 1);
    }
    expect(counts.size).toBe(256);
    expect([...counts.values()].every((c) => c === 1)).toBe(true);
  });

  it('a share opens only for its custodian, and not after being moved to another index or backup', async () => {
    const { list, secrets } = custodians(3);
    const { shares } = await createBackup('bk-4', randomBytes(32), 2, list);
    const [a, b] = shares;
    if (!a || !b) throw new Error('no shares');
    expect(() => openShare(a, secrets.get(b.custodianId) as Uint8Array)).toThrow(expect.objectContaining({ code: 'BACKUP_INVALID' }));
    expect(() => openShare({ ...a, index: 2 }, secrets.get(a.custodianId) as Uint8Array)).toThrow(expect.objectContaining({ code: 'BACKUP_INVALID' }));
    expect(() => openShare({ ...a, backupId: 'bk-other' }, secrets.get(a.custodianId) as Uint8Array)).toThrow(expect.objectContaining({ code: 'BACKUP_INVALID' }));
    const flipped = new Uint8Array(a.ciphertext);
    flipped[0] = (flipped[0] as number) ^ 1;
    expect(() => openShare({ ...a, ciphertext: flipped }, secrets.get(a.custodianId) as Uint8Array)).toThrow(expect.objectContaining({ code: 'BACKUP_INVALID' }));
    // the ciphertext does not contain the plaintext share
    const plain = openShare(a, secrets.get(a.custodianId) as Uint8Array);
    expect(Buffer.from(a.ciphertext).indexOf(Buffer.from(plain.subarray(0, 16)))).toBe(-1);
  });

  it('refuses bad parameters: M < 2, M > N, duplicate custodians, short secrets', async () => {
    const { list } = custodians(3);
    await expect(createBackup('x', randomBytes(32), 1, list)).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    await expect(createBackup('x', randomBytes(32), 4, list)).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    await expect(createBackup('x', randomBytes(32), 2, [list[0] as Custodian, list[0] as Custodian])).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    await expect(createBackup('x', randomBytes(8), 2, list)).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
  });
});
