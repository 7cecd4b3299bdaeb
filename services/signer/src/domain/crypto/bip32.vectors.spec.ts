/** BIP-32 test vectors 1, 2 and 3: every chain's xpub and xprv. */
import { describe, expect, it } from '@jest/globals';
import { hexToBytes } from './bytes.js';
import { deriveChild, deriveNode, exportXprvForBackup, exportXpub, masterFromSeed, parsePath, XPRV_EXPORT_ACKNOWLEDGEMENT, type HdNode } from './hd.js';

const { default: vectors } = await import('./vectors/bip32.json', { with: { type: 'json' } });
const HARDENED = 0x80000000;

const cases = vectors.vectors.flatMap((vector) =>
  vector.chains.map((chain) => [`${vector.name}: ${chain.path}`, vector.seed, chain] as const),
);

describe('C-5.5.3.2-a BIP-32 known answers (test vectors 1, 2, 3)', () => {
  it('covers the 14 chains of vectors 1-3', () => {
    expect(vectors.vectors.map((v) => v.chains.length)).toEqual([6, 6, 2]);
  });

  it.each(cases)('%s: absolute derivation gives the published xpub and xprv', (_name, seed, chain) => {
    const node = deriveNode(masterFromSeed(hexToBytes(seed, 'seed')), chain.path);
    expect(exportXpub(node).xpub).toBe(chain.xpub);
    expect(exportXprvForBackup(node, XPRV_EXPORT_ACKNOWLEDGEMENT)).toBe(chain.xprv);
  });

  it.each(cases)('%s: step-by-step derivation agrees', (_name, seed, chain) => {
    let node: HdNode = masterFromSeed(hexToBytes(seed, 'seed'));
    for (const index of parsePath(chain.path)) {
      node = index >= HARDENED ? deriveChild(node, index - HARDENED, true) : deriveChild(node, index, false);
    }
    expect(exportXpub(node).xpub).toBe(chain.xpub);
    expect(exportXprvForBackup(node, XPRV_EXPORT_ACKNOWLEDGEMENT)).toBe(chain.xprv);
  });
});
