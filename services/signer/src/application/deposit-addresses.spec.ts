import { describe, expect, it } from '@jest/globals';
import { HDKey } from '@scure/bip32';
import { DeriveDepositAddress, type DepositAddressAssignment, type DepositAddressStore } from './deposit-addresses.js';
import { deriveEvmDepositAddress, type DepositXpub } from '../domain/deposit-address.js';

// BIP-32 test vector 1 seed; the Ethereum account xpub m/44'/60'/0'.
const master = HDKey.fromMasterSeed(Uint8Array.from(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex')));
const ETH: DepositXpub = { asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: master.derive("m/44'/60'/0'").publicExtendedKey, account: 0 };

class MemoryStore implements DepositAddressStore {
  readonly rows = new Map<string, DepositAddressAssignment>();
  private next = 0;
  async assign(asset: string, customer: string, derive: (index: number) => { address: string; derivationPath: string }): Promise<DepositAddressAssignment> {
    const key = `${asset}|${customer}`;
    const existing = this.rows.get(key);
    if (existing) return existing;
    const index = this.next++;
    const row = { index, ...derive(index) };
    this.rows.set(key, row);
    return row;
  }
}

describe('deposit address derivation (xpub only)', () => {
  it('equals the address of the private derivation m/44\'/60\'/0\'/0/i (same key, public path)', () => {
    for (const i of [0, 1, 7]) {
      const priv = master.derive(`m/44'/60'/0'/0/${i}`);
      const pub = HDKey.fromExtendedKey(ETH.xpub).deriveChild(0).deriveChild(i);
      expect(Buffer.from(pub.publicKey!).toString('hex')).toBe(Buffer.from(priv.publicKey!).toString('hex'));
      expect(deriveEvmDepositAddress(ETH, i).derivationPath).toBe(`m/44'/60'/0'/0/${i}`);
    }
    expect(deriveEvmDepositAddress(ETH, 0).address).toMatch(/^0x[0-9a-fA-F]{40}$/);
  });

  it('refuses an xprv, a non-account-level xpub and an out-of-range index', () => {
    expect(() => deriveEvmDepositAddress({ ...ETH, xpub: master.derive("m/44'/60'/0'").privateExtendedKey }, 0)).toThrow(expect.objectContaining({ code: 'DEPOSIT_XPUB_INVALID' }));
    expect(() => deriveEvmDepositAddress({ ...ETH, xpub: master.publicExtendedKey }, 0)).toThrow(expect.objectContaining({ code: 'DEPOSIT_XPUB_INVALID' }));
    expect(() => deriveEvmDepositAddress(ETH, 2 ** 31)).toThrow(expect.objectContaining({ code: 'DEPOSIT_INDEX_EXHAUSTED' }));
  });
});

describe('DeriveDepositAddress', () => {
  const useCase = (store = new MemoryStore()) => ({ store, uc: new DeriveDepositAddress({ store, xpubs: new Map([['ETH', ETH]]) }) });

  it('returns the same address for the same customer and different ones for different customers', async () => {
    const { uc } = useCase();
    const a = await uc.derive({ customerAccount: 'acme/1', asset: 'ETH' });
    expect(await uc.derive({ customerAccount: 'acme/1', asset: 'ETH' })).toEqual(a);
    const b = await uc.derive({ customerAccount: 'acme/2', asset: 'ETH' });
    expect(b.address).not.toBe(a.address);
    expect(a.chain).toBe('ethereum-mainnet');
  });

  it('refuses an unknown asset and bad accounts before touching the store', async () => {
    const { uc, store } = useCase();
    await expect(uc.derive({ customerAccount: 'acme/1', asset: 'BTC' })).rejects.toMatchObject({ code: 'UNKNOWN_ASSET' });
    await expect(uc.derive({ customerAccount: '', asset: 'ETH' })).rejects.toMatchObject({ code: 'CUSTOMER_ACCOUNT_REQUIRED' });
    await expect(uc.derive({ customerAccount: 'a b', asset: 'ETH' })).rejects.toMatchObject({ code: 'CUSTOMER_ACCOUNT_MALFORMED' });
    expect(store.rows.size).toBe(0);
  });

  it('refuses to hand out a stored address that no longer derives from the configured xpub', async () => {
    const { uc, store } = useCase();
    store.rows.set('ETH|acme/1', { index: 0, address: '0x0000000000000000000000000000000000000001', derivationPath: "m/44'/60'/0'/0/0" });
    await expect(uc.derive({ customerAccount: 'acme/1', asset: 'ETH' })).rejects.toMatchObject({ code: 'DEPOSIT_XPUB_INVALID' });
  });
});
