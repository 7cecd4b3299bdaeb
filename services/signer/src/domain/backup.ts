/**
 * Backup of a seed or key by M-of-N Shamir secret sharing (C-9.3.7.3-b), each share
 * encrypted to one custodian's X25519 public key (C-9.3.7.3-a: encrypted at least as
 * strongly as the primary), restorable from any M.
 *
 * - Splitting/combining: `shamir-secret-sharing` (Privy; audited by Cure53 and Zellic),
 *   GF(2^8) per byte, share = y bytes ‖ x.
 * - Share encryption (ECIES): ephemeral X25519 (@noble/curves) → HKDF-SHA256 (@noble/hashes;
 *   salt = ephemeral pub ‖ custodian pub, info = domain) → AES-256-GCM (node:crypto) with
 *   the share's header as associated data, so a share cannot be moved to another backup,
 *   index or custodian without failing authentication.
 * - The manifest carries a fingerprint of the secret (SHA-256 over domain ‖ backup id ‖
 *   secret). Combining fewer than M shares yields an unrelated value (Shamir's guarantee);
 *   the fingerprint makes that a detected failure instead of a silently wrong key.
 *
 * Plaintext shares and the secret live only in local buffers that are zeroed after use.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { combine, split } from 'shamir-secret-sharing';
import { bytesToHex, concatBytes, equalBytes, wipe } from './crypto/bytes.js';
import { SignerError } from './errors.js';

export const BACKUP_DOMAIN = 'custody.backup-share.v1';
const enc = new TextEncoder();

export interface Custodian {
  readonly custodianId: string;
  /** 32-byte X25519 public key. */
  readonly publicKey: Uint8Array;
}

export interface EncryptedShare {
  readonly backupId: string;
  readonly custodianId: string;
  /** 1-based position among the N shares. */
  readonly index: number;
  readonly threshold: number;
  readonly total: number;
  readonly ephemeralPublicKey: Uint8Array;
  readonly nonce: Uint8Array;
  /** AES-256-GCM ciphertext ‖ 16-byte tag. */
  readonly ciphertext: Uint8Array;
}

export interface BackupManifest {
  readonly backupId: string;
  readonly threshold: number;
  readonly total: number;
  readonly custodians: readonly string[];
  /** Hex SHA-256 fingerprint of the secret (domain-separated, bound to the backup id). */
  readonly fingerprint: string;
}

function fingerprintOf(backupId: string, secret: Uint8Array): string {
  return bytesToHex(sha256(concatBytes(enc.encode(BACKUP_DOMAIN), Uint8Array.of(0), enc.encode(backupId), Uint8Array.of(0), secret)));
}

function header(s: Pick<EncryptedShare, 'backupId' | 'custodianId' | 'index' | 'threshold' | 'total'>): Uint8Array {
  return enc.encode(JSON.stringify([BACKUP_DOMAIN, s.backupId, s.custodianId, s.index, s.threshold, s.total]));
}

function shareKey(shared: Uint8Array, ephemeralPublicKey: Uint8Array, custodianPublicKey: Uint8Array): Uint8Array {
  return hkdf(sha256, shared, concatBytes(ephemeralPublicKey, custodianPublicKey), enc.encode(BACKUP_DOMAIN), 32);
}

function assertParameters(threshold: number, custodians: readonly Custodian[]): void {
  const total = custodians.length;
  if (!Number.isSafeInteger(threshold) || threshold < 2 || threshold > total || total > 255) {
    throw new SignerError('BACKUP_INVALID', 'backup needs 2 <= M <= N <= 255 custodians');
  }
  if (new Set(custodians.map((c) => c.custodianId)).size !== total) throw new SignerError('BACKUP_INVALID', 'custodians must be distinct');
  for (const c of custodians) {
    if (!(c.publicKey instanceof Uint8Array) || c.publicKey.length !== 32) throw new SignerError('BACKUP_INVALID', `custodian ${c.custodianId} has no 32-byte X25519 public key`);
  }
}

/** Splits `secret` into one encrypted share per custodian; any `threshold` of them restore it. */
export async function createBackup(backupId: string, secret: Uint8Array, threshold: number, custodians: readonly Custodian[]): Promise<{ manifest: BackupManifest; shares: EncryptedShare[] }> {
  assertParameters(threshold, custodians);
  if (!(secret instanceof Uint8Array) || secret.length < 16) throw new SignerError('BACKUP_INVALID', 'secret must be at least 16 bytes');
  // A copy we own (and zero): also normalises a Buffer/foreign-realm array for the library.
  const copy = Uint8Array.from(secret);
  const raw = await split(copy, custodians.length, threshold).finally(() => wipe(copy));
  try {
    const shares = custodians.map((custodian, i): EncryptedShare => {
      const plain = raw[i] as Uint8Array;
      const ephemeralSecret = x25519.utils.randomSecretKey();
      const ephemeralPublicKey = x25519.getPublicKey(ephemeralSecret);
      const shared = x25519.getSharedSecret(ephemeralSecret, custodian.publicKey);
      const key = shareKey(shared, ephemeralPublicKey, custodian.publicKey);
      const base = { backupId, custodianId: custodian.custodianId, index: i + 1, threshold, total: custodians.length };
      const nonce = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, nonce);
      cipher.setAAD(header(base));
      const ciphertext = concatBytes(cipher.update(plain), cipher.final(), cipher.getAuthTag());
      wipe(ephemeralSecret);
      wipe(shared);
      wipe(key);
      return Object.freeze({ ...base, ephemeralPublicKey, nonce: new Uint8Array(nonce), ciphertext });
    });
    const manifest: BackupManifest = Object.freeze({ backupId, threshold, total: custodians.length, custodians: custodians.map((c) => c.custodianId), fingerprint: fingerprintOf(backupId, secret) });
    return { manifest, shares };
  } finally {
    for (const r of raw) wipe(r);
  }
}

/** A custodian opens their share with their X25519 secret key (throws BACKUP_INVALID on any tampering). */
export function openShare(share: EncryptedShare, custodianSecretKey: Uint8Array): Uint8Array {
  let key: Uint8Array | undefined;
  try {
    const custodianPublicKey = x25519.getPublicKey(custodianSecretKey);
    const shared = x25519.getSharedSecret(custodianSecretKey, share.ephemeralPublicKey);
    key = shareKey(shared, share.ephemeralPublicKey, custodianPublicKey);
    wipe(shared);
    if (share.ciphertext.length < 17) throw new Error('short ciphertext');
    const body = share.ciphertext.subarray(0, share.ciphertext.length - 16);
    const tag = share.ciphertext.subarray(share.ciphertext.length - 16);
    const decipher = createDecipheriv('aes-256-gcm', key, share.nonce);
    decipher.setAAD(header(share));
    decipher.setAuthTag(tag);
    return new Uint8Array(Buffer.concat([decipher.update(body), decipher.final()]));
  } catch (cause) {
    throw new SignerError('BACKUP_INVALID', `share ${share.index} of backup ${share.backupId} does not open for custodian ${share.custodianId}`, { cause });
  } finally {
    if (key) wipe(key);
  }
}

/**
 * Restores the secret from opened shares (plaintext Shamir shares with their header).
 * Needs at least M distinct shares of this backup and checks the fingerprint: fewer than M
 * shares, or shares of another backup, fail with BACKUP_INVALID.
 */
export async function restoreBackup(manifest: BackupManifest, opened: readonly { readonly share: Pick<EncryptedShare, 'backupId' | 'index'>; readonly plain: Uint8Array }[]): Promise<Uint8Array> {
  const distinct = new Map<number, Uint8Array>();
  for (const o of opened) {
    if (o.share.backupId !== manifest.backupId) throw new SignerError('BACKUP_INVALID', 'a share belongs to another backup');
    distinct.set(o.share.index, o.plain);
  }
  if (distinct.size < 2) throw new SignerError('BACKUP_INVALID', `restore needs ${manifest.threshold} shares, got ${distinct.size}`);
  const secret = await combine([...distinct.values()].map((plain) => Uint8Array.from(plain)));
  const fingerprint = fingerprintOf(manifest.backupId, secret);
  if (distinct.size < manifest.threshold || !equalBytes(enc.encode(fingerprint), enc.encode(manifest.fingerprint))) {
    wipe(secret);
    throw new SignerError('BACKUP_INVALID', `restore needs ${manifest.threshold} shares of backup ${manifest.backupId}; the shares given do not reconstruct it`);
  }
  return secret;
}
