/**
 * Deposit-address derivation from public data only: an account-level extended public key
 * (xpub at m/44'/60'/account') and a non-hardened index give the BIP-44 external address
 * m/44'/60'/account'/0/index. No private key is read, held or derivable here.
 */
import { DomainError } from '@custody/platform';
import { bip44EvmPath, deriveXpub } from './crypto/hd.js';
import { publicKeyToAddress, toChecksumAddress } from './crypto/evm.js';

export type DepositAddressErrorCode =
  | 'CUSTOMER_ACCOUNT_REQUIRED'
  | 'CUSTOMER_ACCOUNT_MALFORMED'
  | 'ASSET_REQUIRED'
  | 'UNKNOWN_ASSET'
  | 'DEPOSIT_XPUB_INVALID'
  | 'DEPOSIT_INDEX_EXHAUSTED';

export class DepositAddressError extends DomainError {
  override readonly code: DepositAddressErrorCode;

  constructor(code: DepositAddressErrorCode, publicMessage: string) {
    super(code, publicMessage);
    this.code = code;
  }
}

/** Public derivation facts of one asset: chain id, account xpub, BIP-44 account number. */
export interface DepositXpub {
  readonly asset: string;
  readonly chain: string;
  readonly kind: 'evm';
  /** Extended PUBLIC key of m/44'/60'/account' (an xprv is refused). */
  readonly xpub: string;
  readonly account: number;
}

/** Highest non-hardened index. */
export const MAX_DEPOSIT_INDEX = 0x7fffffff;

export interface DerivedAddress {
  readonly address: string;
  readonly derivationPath: string;
}

/** EIP-55 address and absolute path of m/44'/60'/account'/0/index from the account xpub. */
export function deriveEvmDepositAddress(source: DepositXpub, index: number): DerivedAddress {
  if (!Number.isSafeInteger(index) || index < 0 || index > MAX_DEPOSIT_INDEX) throw new DepositAddressError('DEPOSIT_INDEX_EXHAUSTED', 'no derivation index is left for this asset');
  let node;
  try {
    node = deriveXpub(source.xpub, [0, index]);
  } catch {
    throw new DepositAddressError('DEPOSIT_XPUB_INVALID', `the deposit xpub configured for ${source.asset} is not a valid extended public key`);
  }
  if (node.depth !== 5) throw new DepositAddressError('DEPOSIT_XPUB_INVALID', `the deposit xpub configured for ${source.asset} is not an account-level (depth 3) key`);
  return { address: toChecksumAddress(publicKeyToAddress(node.publicKey)), derivationPath: bip44EvmPath(index, source.account) };
}

/** Checks a configured xpub once at boot (public, depth 3, derivable). */
export function assertDepositXpub(source: DepositXpub): void {
  deriveEvmDepositAddress(source, 0);
}

const CUSTOMER_ACCOUNT = /^[!-~]{1,256}$/;

export function validateDepositRequest(input: { readonly customerAccount: string; readonly asset: string }): void {
  if (input.customerAccount === '') throw new DepositAddressError('CUSTOMER_ACCOUNT_REQUIRED', 'customer_account is required');
  if (!CUSTOMER_ACCOUNT.test(input.customerAccount)) throw new DepositAddressError('CUSTOMER_ACCOUNT_MALFORMED', 'customer_account must be 1..256 printable ASCII characters');
  if (input.asset === '') throw new DepositAddressError('ASSET_REQUIRED', 'asset is required');
}
