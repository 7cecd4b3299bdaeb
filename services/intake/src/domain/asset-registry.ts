// The asset registry intake validates against: per asset its chain, decimals, address
// format and whether a destination tag (memo) is required. Immutable values.
import { checkBitcoinAddress, BITCOIN_MAINNET, BITCOIN_REGTEST, BITCOIN_TESTNET, type BitcoinNetwork } from './address/bitcoin.js';
import { checkEvmAddress, type AddressCheck } from './address/evm.js';
import { InvalidArgumentError } from './errors.js';

export type AddressFormat = { readonly kind: 'evm' } | { readonly kind: 'bitcoin'; readonly network: BitcoinNetwork };

export interface Asset {
  /** Registry id, e.g. "ETH", "USDC.ETH", "BTC". */
  readonly id: string;
  /** Chain id, e.g. "ethereum-mainnet". */
  readonly chain: string;
  readonly decimals: number;
  readonly address: AddressFormat;
  /** 'forbidden': a tag would be ignored on chain, so one is refused rather than lost. */
  readonly destinationTag: 'required' | 'optional' | 'forbidden';
}

export class AssetRegistry {
  private readonly assets: ReadonlyMap<string, Asset>;

  constructor(assets: readonly Asset[]) {
    const map = new Map<string, Asset>();
    for (const asset of assets) {
      if (map.has(asset.id)) throw new TypeError(`asset ${asset.id} registered twice`);
      if (!Number.isInteger(asset.decimals) || asset.decimals < 0 || asset.decimals > 36) throw new TypeError(`asset ${asset.id}: bad decimals`);
      map.set(asset.id, Object.freeze({ ...asset }));
    }
    this.assets = map;
  }

  get(id: string): Asset | undefined {
    return this.assets.get(id);
  }

  /** The asset or INVALID_ARGUMENT naming `field`. */
  require(id: string, field = 'asset'): Asset {
    if (id.length === 0) throw new InvalidArgumentError(field, 'ASSET_REQUIRED', 'is required');
    const asset = this.assets.get(id);
    if (!asset) throw new InvalidArgumentError(field, 'UNKNOWN_ASSET', `"${id.slice(0, 32)}" is not a supported asset (see GetServiceStatus)`);
    return asset;
  }

  list(): readonly Asset[] {
    return [...this.assets.values()];
  }
}

export function checkAddress(asset: Asset, address: string): AddressCheck {
  if (address.length === 0) return { ok: false, code: 'ADDRESS_REQUIRED', message: 'is required' };
  if (address.length > 128) return { ok: false, code: 'ADDRESS_MALFORMED', message: 'is too long' };
  if (address.trim() !== address) return { ok: false, code: 'ADDRESS_MALFORMED', message: 'has leading or trailing whitespace' };
  switch (asset.address.kind) {
    case 'evm': {
      const check = checkEvmAddress(address);
      if (!check.ok && /^(bc|tb|bcrt)1/i.test(address)) {
        return { ok: false, code: 'ADDRESS_WRONG_NETWORK', message: `is a Bitcoin address, but ${asset.id} is on ${asset.chain}` };
      }
      return check;
    }
    case 'bitcoin': {
      const check = checkBitcoinAddress(address, asset.address.network);
      if (!check.ok && /^0x[0-9a-fA-F]{40}$/.test(address)) {
        return { ok: false, code: 'ADDRESS_WRONG_NETWORK', message: `is an EVM address, but ${asset.id} is on ${asset.chain}` };
      }
      return check;
    }
  }
}

/** The default registry (configurable assets are a later step; see docs/intake.md). */
export const DEFAULT_ASSETS: readonly Asset[] = Object.freeze([
  { id: 'BTC', chain: BITCOIN_MAINNET.name, decimals: 8, address: { kind: 'bitcoin', network: BITCOIN_MAINNET }, destinationTag: 'forbidden' },
  { id: 'BTC.TESTNET', chain: BITCOIN_TESTNET.name, decimals: 8, address: { kind: 'bitcoin', network: BITCOIN_TESTNET }, destinationTag: 'forbidden' },
  { id: 'BTC.REGTEST', chain: BITCOIN_REGTEST.name, decimals: 8, address: { kind: 'bitcoin', network: BITCOIN_REGTEST }, destinationTag: 'forbidden' },
  { id: 'ETH', chain: 'ethereum-mainnet', decimals: 18, address: { kind: 'evm' }, destinationTag: 'forbidden' },
  { id: 'USDC.ETH', chain: 'ethereum-mainnet', decimals: 6, address: { kind: 'evm' }, destinationTag: 'forbidden' },
  { id: 'ETH.ANVIL', chain: 'anvil-local', decimals: 18, address: { kind: 'evm' }, destinationTag: 'forbidden' },
]);
