/**
 * Local sealed key store (the embedded default; C-5.4.1-b "keys wrapped at rest"):
 * - keys are generated from the CSPRNG (node:crypto randomBytes), encrypted with
 *   AES-256-GCM under a 32-byte master key (KEK) from config, and only the ciphertext is
 *   stored (blob store port: Postgres table in the service, memory in unit tests);
 * - the associated data binds a blob to its ref, algorithm and KEK id, so swapping blobs or
 *   replaying one under another ref fails authentication;
 * - the plaintext exists only inside `withSecret` for the duration of one signature and is
 *   zeroed in `finally` (Buffers we own; the noble call copies nothing we keep).
 *
 * Limits (honest): the KEK sits in this process's memory, so this is a software boundary,
 * not an HSM; a DB dump alone does not yield keys, a DB dump plus the master key does.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { SignerError } from '../../domain/errors.js';
import type { KeyAlgorithm } from '../../domain/key.js';
import { ed25519GetPublicKey, ed25519Sign } from '../../domain/crypto/ed25519.js';
import { getPublicKey, signDigest } from '../../domain/crypto/secp256k1.js';
import { assertBytes } from '../../domain/crypto/bytes.js';
import type { GeneratedKey, KeyCustody, SignRequest, SignResult } from '../../application/key-custody.js';

export interface SealedBlob {
  readonly ref: string;
  readonly algorithm: KeyAlgorithm;
  readonly kekId: string;
  readonly nonce: Uint8Array;
  /** ciphertext ‖ 16-byte GCM tag. */
  readonly ciphertext: Uint8Array;
}

export interface SealedBlobStore {
  put(blob: SealedBlob): Promise<void>;
  get(ref: string): Promise<SealedBlob | undefined>;
  delete(ref: string): Promise<void>;
}

export class InMemorySealedBlobStore implements SealedBlobStore {
  readonly blobs = new Map<string, SealedBlob>();
  async put(blob: SealedBlob): Promise<void> {
    if (this.blobs.has(blob.ref)) throw new Error(`blob ${blob.ref} exists`);
    this.blobs.set(blob.ref, blob);
  }
  async get(ref: string): Promise<SealedBlob | undefined> {
    return this.blobs.get(ref);
  }
  async delete(ref: string): Promise<void> {
    this.blobs.delete(ref);
  }
}

export interface LocalSealedOptions {
  /** 32-byte master key (KEK). The adapter keeps its own copy and zeroes it on close. */
  readonly masterKey: Uint8Array;
  /** Non-secret id of the master key (rotation), bound into every blob. */
  readonly kekId: string;
  readonly store: SealedBlobStore;
}

const REF = /^lk_[0-9a-f]{32}$/;

export class LocalSealedKeyCustody implements KeyCustody {
  readonly kind = 'local-sealed' as const;
  readonly #kek: Buffer;
  readonly #kekId: string;
  readonly #store: SealedBlobStore;
  #closed = false;

  constructor(options: LocalSealedOptions) {
    if (!(options.masterKey instanceof Uint8Array) || options.masterKey.length !== 32) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'the local sealed store needs a 32-byte master key');
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(options.kekId)) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'kekId must be 1-64 of A-Z a-z 0-9 . _ -');
    this.#kek = Buffer.from(options.masterKey);
    this.#kekId = options.kekId;
    this.#store = options.store;
  }

  async generateKey(algorithm: KeyAlgorithm, _label: string): Promise<GeneratedKey> {
    this.#open();
    assertAlgorithm(algorithm);
    const secret = randomSecret(algorithm);
    try {
      return await this.#seal(algorithm, secret);
    } finally {
      secret.fill(0);
    }
  }

  /** Restore from backup shares: seals a given secret under a fresh ref (the caller zeroes its copy). */
  async importKey(algorithm: KeyAlgorithm, secret: Uint8Array, _label: string): Promise<GeneratedKey> {
    this.#open();
    assertAlgorithm(algorithm);
    if (!(secret instanceof Uint8Array) || secret.length !== 32) throw new SignerError('KEY_ALGORITHM_MISMATCH', 'an imported key must be 32 bytes');
    const copy = Buffer.from(secret);
    try {
      return await this.#seal(algorithm, copy);
    } finally {
      copy.fill(0);
    }
  }

  /** Lends the clear key to `use` (backup split only), zeroed afterwards; never returned. */
  async withKeyMaterial<T>(ref: string, algorithm: KeyAlgorithm, use: (secret: Uint8Array) => Promise<T>): Promise<T> {
    const copy = await this.#withSecret(ref, algorithm, (secret) => Uint8Array.from(secret));
    try {
      return await use(copy);
    } finally {
      copy.fill(0);
    }
  }

  async #seal(algorithm: KeyAlgorithm, secret: Buffer): Promise<GeneratedKey> {
    const ref = `lk_${randomBytes(16).toString('hex')}`;
    const publicKey = publicKeyOf(algorithm, secret);
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#kek, nonce);
    cipher.setAAD(aad(ref, algorithm, this.#kekId));
    const ciphertext = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
    await this.#store.put({ ref, algorithm, kekId: this.#kekId, nonce: new Uint8Array(nonce), ciphertext: new Uint8Array(ciphertext) });
    return Object.freeze({ ref, algorithm, publicKey });
  }

  async publicKey(ref: string, algorithm: KeyAlgorithm): Promise<Uint8Array> {
    return this.#withSecret(ref, algorithm, (secret) => publicKeyOf(algorithm, secret));
  }

  async sign(ref: string, request: SignRequest): Promise<SignResult> {
    if (request.algorithm === 'secp256k1') {
      const digest = assertBytes(request.digest, 'digest', 32);
      return this.#withSecret(ref, 'secp256k1', (secret) => ({ algorithm: 'secp256k1' as const, signature: signDigest(digest, secret) }));
    }
    if (request.algorithm === 'ed25519') {
      const message = assertBytes(request.message, 'message');
      return this.#withSecret(ref, 'ed25519', (secret) => ({ algorithm: 'ed25519' as const, signature: ed25519Sign(message, secret) }));
    }
    throw new SignerError('KEY_ALGORITHM_MISMATCH', 'unsupported signing algorithm');
  }

  async destroyKey(ref: string): Promise<void> {
    this.#open();
    if (!REF.test(ref) || !(await this.#store.get(ref))) throw new SignerError('KEY_NOT_FOUND', `no key ${ref} in the local sealed store`);
    await this.#store.delete(ref);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#kek.fill(0);
  }

  async #withSecret<T>(ref: string, algorithm: KeyAlgorithm, use: (secret: Uint8Array) => T): Promise<T> {
    this.#open();
    assertAlgorithm(algorithm);
    const blob = REF.test(ref) ? await this.#store.get(ref) : undefined;
    if (!blob) throw new SignerError('KEY_NOT_FOUND', `no key ${ref} in the local sealed store`);
    if (blob.algorithm !== algorithm) throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} is ${blob.algorithm}, not ${algorithm}`);
    if (blob.kekId !== this.#kekId) throw new SignerError('KEY_CUSTODY_FAILED', `key ${ref} is sealed under another master key (${blob.kekId})`);
    let secret: Buffer | undefined;
    try {
      const body = blob.ciphertext.subarray(0, blob.ciphertext.length - 16);
      const decipher = createDecipheriv('aes-256-gcm', this.#kek, blob.nonce);
      decipher.setAAD(aad(blob.ref, blob.algorithm, blob.kekId));
      decipher.setAuthTag(blob.ciphertext.subarray(blob.ciphertext.length - 16));
      secret = Buffer.concat([decipher.update(body), decipher.final()]);
    } catch (cause) {
      throw new SignerError('KEY_CUSTODY_FAILED', `key ${ref} does not unseal (wrong master key or tampered blob)`, { cause });
    }
    try {
      return use(secret);
    } finally {
      secret.fill(0);
    }
  }

  #open(): void {
    if (this.#closed) throw new SignerError('KEY_CUSTODY_FAILED', 'the local sealed store is closed');
  }
}

function assertAlgorithm(algorithm: KeyAlgorithm): void {
  if (algorithm !== 'secp256k1' && algorithm !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', 'unsupported key algorithm');
}

function aad(ref: string, algorithm: KeyAlgorithm, kekId: string): Buffer {
  return Buffer.from(`custody.sealed-key.v1\0${ref}\0${algorithm}\0${kekId}`);
}

function randomSecret(algorithm: KeyAlgorithm): Buffer {
  if (algorithm === 'ed25519') return randomBytes(32);
  // secp256k1: rejection-sample a scalar in [1, n-1].
  for (let i = 0; i < 64; i++) {
    const candidate = randomBytes(32);
    try {
      getPublicKey(candidate);
      return candidate;
    } catch {
      candidate.fill(0);
    }
  }
  throw new SignerError('KEY_CUSTODY_FAILED', 'could not draw a valid secp256k1 key');
}

function publicKeyOf(algorithm: KeyAlgorithm, secret: Uint8Array): Uint8Array {
  return algorithm === 'secp256k1' ? getPublicKey(secret, { compressed: true }) : ed25519GetPublicKey(secret);
}
