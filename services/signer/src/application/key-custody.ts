/**
 * The KeyCustody port: where signature keys live and are used. Adapters: local sealed store
 * (AES-256-GCM at rest, embedded default), PKCS#11 HSM (SoftHSM2 in tests). There is no
 * operation that returns private key material: generation returns public facts only
 * (C-5.4.2-a), signing returns a signature. Errors are SignerError with stable codes:
 * KEY_NOT_FOUND, KEY_ALGORITHM_MISMATCH, KEY_CUSTODY_FAILED.
 */
import type { RecoverableSignature } from '../domain/crypto/secp256k1.js';
import type { CustodyKind, KeyAlgorithm } from '../domain/key.js';

export interface GeneratedKey {
  /** Opaque reference inside the custody (stored in the key inventory). */
  readonly ref: string;
  readonly algorithm: KeyAlgorithm;
  /** secp256k1: 33-byte compressed SEC1; Ed25519: 32 bytes. */
  readonly publicKey: Uint8Array;
}

export type SignRequest =
  /** ECDSA over a 32-byte digest the caller computed (EVM: keccak of the unsigned payload). */
  | { readonly algorithm: 'secp256k1'; readonly digest: Uint8Array }
  /** Ed25519 (RFC 8032) over the message itself. */
  | { readonly algorithm: 'ed25519'; readonly message: Uint8Array };

export type SignResult =
  | { readonly algorithm: 'secp256k1'; readonly signature: RecoverableSignature }
  | { readonly algorithm: 'ed25519'; readonly signature: Uint8Array };

export interface KeyCustody {
  readonly kind: CustodyKind;
  /** Generates a key inside the custody; returns public facts only. `label` is non-secret. */
  generateKey(algorithm: KeyAlgorithm, label: string): Promise<GeneratedKey>;
  /** The public key (same encoding as GeneratedKey.publicKey). */
  publicKey(ref: string, algorithm: KeyAlgorithm): Promise<Uint8Array>;
  /** secp256k1 results are low-S with the recovery id computed against the public key. */
  sign(ref: string, request: SignRequest): Promise<SignResult>;
  /** Irreversibly deletes the key (the 'destroyed' lifecycle step; backups are separate). */
  destroyKey(ref: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Custodies whose keys may be split into backup shares and re-sealed from them (C-9.3.7.3-b).
 * Only the local sealed store: its keys are software keys by design (the plaintext already
 * exists in this process for each signature). HSM keys are non-extractable; back them up by
 * HSM cloning instead (BACKUP_NOT_SUPPORTED here). Nothing here returns key material:
 * `withKeyMaterial` lends it to `use` and zeroes it afterwards.
 */
export interface BackupCapableCustody extends KeyCustody {
  withKeyMaterial<T>(ref: string, algorithm: KeyAlgorithm, use: (secret: Uint8Array) => Promise<T>): Promise<T>;
  /** Seals an existing secret as a new key (the restore step); returns public facts only. */
  importKey(algorithm: KeyAlgorithm, secret: Uint8Array, label: string): Promise<GeneratedKey>;
}

export function isBackupCapable(custody: KeyCustody): custody is BackupCapableCustody {
  const c = custody as Partial<BackupCapableCustody>;
  return typeof c.withKeyMaterial === 'function' && typeof c.importKey === 'function';
}
