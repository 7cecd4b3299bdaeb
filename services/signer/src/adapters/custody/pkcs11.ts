/**
 * PKCS#11 key custody (SoftHSM2 in tests, any PKCS#11 HSM in production).
 *
 * Keys are generated INSIDE the token (C_GenerateKeyPair) as token objects with
 * CKA_SENSITIVE = true, CKA_EXTRACTABLE = false, and that is checked after generation
 * together with CKA_LOCAL / CKA_NEVER_EXTRACTABLE (a token that silently ignores the
 * template makes generation fail, the key is destroyed). The private key never leaves.
 *
 * secp256k1: CKM_ECDSA over the 32-byte digest gives a bare r‖s that may be high-S and has no
 * recovery id (FINDINGS): `signatureFromCompact` → `normaliseLowS` → `computeRecoveryId`
 * against the token's public key (which also verifies the signature). Ed25519: SoftHSM2's
 * CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055 / CKM_EDDSA = 0x1057 (no named constants), and the
 * signature is verified locally before it is returned (an HSM fault never leaves unchecked).
 *
 * A bad argument to pkcs11js can crash the process, so every call goes through the narrow
 * `Token` class below, which validates types and lengths first and exposes nothing else.
 */
import { randomBytes } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { SignerError } from '../../domain/errors.js';
import type { KeyAlgorithm } from '../../domain/key.js';
import { assertBytes } from '../../domain/crypto/bytes.js';
import { ed25519Verify } from '../../domain/crypto/ed25519.js';
import { compressPublicKey, computeRecoveryId, normaliseLowS, signatureFromCompact } from '../../domain/crypto/secp256k1.js';
import type { GeneratedKey, KeyCustody, SignRequest, SignResult } from '../../application/key-custody.js';

export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
export const CKK_EC_EDWARDS = 0x40;
const SECP256K1_OID = Buffer.from('06052b8104000a', 'hex');
const ED25519_OID = Buffer.from('06032b6570', 'hex');
const REF = /^hk_[0-9a-f]{32}$/;
const LABEL = /^[ -~]{1,64}$/;
const MAX_MESSAGE = 64 * 1024;

export interface Pkcs11Options {
  readonly modulePath: string;
  readonly tokenLabel: string;
  /** User PIN; kept only for the login call, never logged. */
  readonly pin: string;
}

// One C_Initialize per library per process; adapters share it by reference count.
const libraries = new Map<string, { lib: pkcs11js.PKCS11; users: number }>();

function acquire(modulePath: string): pkcs11js.PKCS11 {
  const existing = libraries.get(modulePath);
  if (existing) {
    existing.users++;
    return existing.lib;
  }
  const lib = new pkcs11js.PKCS11();
  lib.load(modulePath);
  try {
    lib.C_Initialize();
  } catch (error) {
    if (!isCkr(error, pkcs11js.CKR_CRYPTOKI_ALREADY_INITIALIZED)) throw error;
  }
  libraries.set(modulePath, { lib, users: 1 });
  return lib;
}

function release(modulePath: string): void {
  const entry = libraries.get(modulePath);
  if (!entry) return;
  entry.users--;
  if (entry.users > 0) return;
  libraries.delete(modulePath);
  try {
    entry.lib.C_Finalize();
  } finally {
    entry.lib.close();
  }
}

function isCkr(error: unknown, code: number): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

function ckrName(error: unknown): string {
  if (error instanceof Error && /^CKR_[A-Z_]+/.test(error.message)) return /^CKR_[A-Z_]+/.exec(error.message)?.[0] ?? 'CKR_?';
  return 'PKCS#11 error';
}

function fail(what: string, error: unknown): never {
  if (error instanceof SignerError) throw error;
  throw new SignerError('KEY_CUSTODY_FAILED', `HSM ${what} failed (${ckrName(error)})`, { cause: error });
}

function ulong(buffer: Buffer | undefined): number {
  if (!buffer || buffer.length < 4) throw new SignerError('KEY_CUSTODY_FAILED', 'HSM returned a malformed attribute');
  return buffer.length >= 8 ? Number(buffer.readBigUInt64LE(0)) : buffer.readUInt32LE(0);
}

function bool(buffer: Buffer | undefined): boolean {
  return buffer !== undefined && buffer.length > 0 && buffer[0] !== 0;
}

/** The narrow surface over pkcs11js: validated arguments only, one logged-in RW session. */
class Token {
  private constructor(
    private readonly lib: pkcs11js.PKCS11,
    private readonly session: Buffer,
    private readonly modulePath: string,
  ) {}

  static open(options: Pkcs11Options): Token {
    if (typeof options.modulePath !== 'string' || options.modulePath.length === 0) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'PKCS#11 module path is required');
    if (typeof options.tokenLabel !== 'string' || !LABEL.test(options.tokenLabel)) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'PKCS#11 token label must be 1-64 printable ASCII characters');
    if (typeof options.pin !== 'string' || options.pin.length === 0) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', 'PKCS#11 PIN is required');
    let lib: pkcs11js.PKCS11;
    try {
      lib = acquire(options.modulePath);
    } catch (error) {
      fail('library load', error);
    }
    try {
      const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trim() === options.tokenLabel);
      if (!slot) throw new SignerError('KEY_CUSTODY_CONFIG_INVALID', `no PKCS#11 token labelled ${options.tokenLabel}`);
      const session = lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
      try {
        lib.C_Login(session, pkcs11js.CKU_USER, options.pin);
      } catch (error) {
        if (!isCkr(error, pkcs11js.CKR_USER_ALREADY_LOGGED_IN)) {
          lib.C_CloseSession(session);
          throw error;
        }
      }
      return new Token(lib, session, options.modulePath);
    } catch (error) {
      release(options.modulePath);
      fail('session open', error);
    }
  }

  generate(algorithm: KeyAlgorithm, id: Buffer, label: string): { publicKey: Buffer; privateKey: Buffer } {
    const mechanism = algorithm === 'secp256k1' ? pkcs11js.CKM_EC_KEY_PAIR_GEN : CKM_EC_EDWARDS_KEY_PAIR_GEN;
    const params = algorithm === 'secp256k1' ? SECP256K1_OID : ED25519_OID;
    const common = [
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_ID, value: id },
      { type: pkcs11js.CKA_LABEL, value: label },
    ];
    return this.lib.C_GenerateKeyPair(
      this.session,
      { mechanism },
      [...common, { type: pkcs11js.CKA_EC_PARAMS, value: params }, { type: pkcs11js.CKA_VERIFY, value: true }, { type: pkcs11js.CKA_PRIVATE, value: false }],
      [
        ...common,
        { type: pkcs11js.CKA_SIGN, value: true },
        { type: pkcs11js.CKA_PRIVATE, value: true },
        { type: pkcs11js.CKA_SENSITIVE, value: true },
        { type: pkcs11js.CKA_EXTRACTABLE, value: false },
        { type: pkcs11js.CKA_DECRYPT, value: false },
        { type: pkcs11js.CKA_DERIVE, value: false },
      ],
    );
  }

  find(objectClass: 'private' | 'public', id: Buffer): Buffer | undefined {
    this.lib.C_FindObjectsInit(this.session, [
      { type: pkcs11js.CKA_CLASS, value: objectClass === 'private' ? pkcs11js.CKO_PRIVATE_KEY : pkcs11js.CKO_PUBLIC_KEY },
      { type: pkcs11js.CKA_ID, value: id },
    ]);
    try {
      const found = this.lib.C_FindObjects(this.session, 2);
      if (found.length > 1) throw new SignerError('KEY_CUSTODY_FAILED', 'two HSM objects share one key reference');
      return found[0];
    } finally {
      this.lib.C_FindObjectsFinal(this.session);
    }
  }

  attributes(handle: Buffer, types: readonly number[]): Map<number, Buffer | undefined> {
    const out = this.lib.C_GetAttributeValue(this.session, handle, types.map((type) => ({ type })));
    return new Map(out.map((a) => [a.type, a.value as Buffer | undefined]));
  }

  sign(handle: Buffer, mechanism: number, data: Buffer, signatureLength: number): Buffer {
    this.lib.C_SignInit(this.session, { mechanism }, handle);
    return this.lib.C_Sign(this.session, data, Buffer.alloc(signatureLength));
  }

  destroy(handle: Buffer): void {
    this.lib.C_DestroyObject(this.session, handle);
  }

  close(): void {
    try {
      try {
        this.lib.C_Logout(this.session);
      } catch {
        // another session of this process may still be logged in; closing is what matters
      }
      this.lib.C_CloseSession(this.session);
    } finally {
      release(this.modulePath);
    }
  }
}

export class Pkcs11KeyCustody implements KeyCustody {
  readonly kind = 'pkcs11' as const;
  readonly #publicKeys = new Map<string, { algorithm: KeyAlgorithm; publicKey: Uint8Array }>();
  #token: Token | undefined;

  private constructor(token: Token) {
    this.#token = token;
  }

  static async open(options: Pkcs11Options): Promise<Pkcs11KeyCustody> {
    return new Pkcs11KeyCustody(Token.open(options));
  }

  async generateKey(algorithm: KeyAlgorithm, label: string): Promise<GeneratedKey> {
    const token = this.#open();
    if (algorithm !== 'secp256k1' && algorithm !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', 'unsupported key algorithm');
    if (typeof label !== 'string' || !LABEL.test(label)) throw new SignerError('KEY_CUSTODY_FAILED', 'key label must be 1-64 printable ASCII characters');
    const ref = `hk_${randomBytes(16).toString('hex')}`;
    let pair: { publicKey: Buffer; privateKey: Buffer };
    try {
      pair = token.generate(algorithm, Buffer.from(ref), label);
    } catch (error) {
      fail('key generation', error);
    }
    try {
      // The token must have honoured the template: generated on the token, never extractable.
      const a = token.attributes(pair.privateKey, [pkcs11js.CKA_SENSITIVE, pkcs11js.CKA_EXTRACTABLE, pkcs11js.CKA_LOCAL, pkcs11js.CKA_NEVER_EXTRACTABLE]);
      if (!bool(a.get(pkcs11js.CKA_SENSITIVE)) || bool(a.get(pkcs11js.CKA_EXTRACTABLE)) || !bool(a.get(pkcs11js.CKA_LOCAL)) || !bool(a.get(pkcs11js.CKA_NEVER_EXTRACTABLE))) {
        throw new SignerError('KEY_CUSTODY_FAILED', 'the HSM did not create a sensitive, non-extractable, locally generated key');
      }
      const publicKey = this.#readPublicKey(token, pair.publicKey, algorithm);
      this.#publicKeys.set(ref, { algorithm, publicKey });
      return Object.freeze({ ref, algorithm, publicKey });
    } catch (error) {
      try {
        token.destroy(pair.privateKey);
        token.destroy(pair.publicKey);
      } catch {
        // best effort: the generation already failed
      }
      fail('key generation check', error);
    }
  }

  async publicKey(ref: string, algorithm: KeyAlgorithm): Promise<Uint8Array> {
    return this.#lookup(ref, algorithm).publicKey;
  }

  async sign(ref: string, request: SignRequest): Promise<SignResult> {
    const token = this.#open();
    if (request.algorithm !== 'secp256k1' && request.algorithm !== 'ed25519') throw new SignerError('KEY_ALGORITHM_MISMATCH', 'unsupported signing algorithm');
    const { publicKey, privateKey } = this.#lookup(ref, request.algorithm);
    if (request.algorithm === 'secp256k1') {
      const digest = Buffer.from(assertBytes(request.digest, 'digest', 32));
      let raw: Buffer;
      try {
        raw = token.sign(privateKey, pkcs11js.CKM_ECDSA, digest, 64);
      } catch (error) {
        fail('ECDSA signature', error);
      }
      if (raw.length !== 64) throw new SignerError('KEY_CUSTODY_FAILED', 'HSM returned an ECDSA signature that is not 64 bytes');
      const signature = normaliseLowS(signatureFromCompact(new Uint8Array(raw)));
      try {
        return { algorithm: 'secp256k1', signature: { ...signature, recovery: computeRecoveryId(digest, signature, publicKey) } };
      } catch (cause) {
        throw new SignerError('KEY_CUSTODY_FAILED', 'HSM ECDSA signature does not verify under the key', { cause });
      }
    }
    const message = assertBytes(request.message, 'message');
    if (message.length > MAX_MESSAGE) throw new SignerError('KEY_CUSTODY_FAILED', `message longer than ${MAX_MESSAGE} bytes`);
    let raw: Buffer;
    try {
      raw = token.sign(privateKey, CKM_EDDSA, Buffer.from(message), 64);
    } catch (error) {
      fail('EdDSA signature', error);
    }
    const signature = new Uint8Array(raw);
    if (signature.length !== 64 || !ed25519Verify(signature, message, publicKey)) throw new SignerError('KEY_CUSTODY_FAILED', 'HSM Ed25519 signature does not verify under the key');
    return { algorithm: 'ed25519', signature };
  }

  async destroyKey(ref: string): Promise<void> {
    const token = this.#open();
    if (typeof ref !== 'string' || !REF.test(ref)) throw new SignerError('KEY_NOT_FOUND', `no key ${String(ref)} in the HSM`);
    const id = Buffer.from(ref);
    const privateKey = token.find('private', id);
    const publicKey = token.find('public', id);
    if (!privateKey && !publicKey) throw new SignerError('KEY_NOT_FOUND', `no key ${ref} in the HSM`);
    try {
      if (privateKey) token.destroy(privateKey);
      if (publicKey) token.destroy(publicKey);
    } catch (error) {
      fail('key destruction', error);
    }
    this.#publicKeys.delete(ref);
  }

  async close(): Promise<void> {
    const token = this.#token;
    this.#token = undefined;
    token?.close();
  }

  /** Test and audit hook: the raw attribute read an attacker would try (CKA_VALUE). */
  readValueAttribute(ref: string): Buffer | undefined {
    const token = this.#open();
    const { privateKey } = this.#lookup(ref, undefined);
    return token.attributes(privateKey, [pkcs11js.CKA_VALUE]).get(pkcs11js.CKA_VALUE);
  }

  #lookup(ref: string, algorithm: KeyAlgorithm | undefined): { publicKey: Uint8Array; privateKey: Buffer; algorithm: KeyAlgorithm } {
    const token = this.#open();
    if (typeof ref !== 'string' || !REF.test(ref)) throw new SignerError('KEY_NOT_FOUND', `no key ${String(ref)} in the HSM`);
    const id = Buffer.from(ref);
    let privateKey: Buffer | undefined;
    try {
      privateKey = token.find('private', id);
    } catch (error) {
      fail('key lookup', error);
    }
    if (!privateKey) throw new SignerError('KEY_NOT_FOUND', `no key ${ref} in the HSM`);
    let known = this.#publicKeys.get(ref);
    if (!known) {
      try {
        const type = ulong(token.attributes(privateKey, [pkcs11js.CKA_KEY_TYPE]).get(pkcs11js.CKA_KEY_TYPE));
        const keyAlgorithm: KeyAlgorithm | undefined = type === pkcs11js.CKK_EC ? 'secp256k1' : type === CKK_EC_EDWARDS ? 'ed25519' : undefined;
        if (!keyAlgorithm) throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} has an unsupported key type`);
        const publicHandle = token.find('public', id);
        if (!publicHandle) throw new SignerError('KEY_CUSTODY_FAILED', `key ${ref} has no public key object`);
        known = { algorithm: keyAlgorithm, publicKey: this.#readPublicKey(token, publicHandle, keyAlgorithm) };
        this.#publicKeys.set(ref, known);
      } catch (error) {
        fail('key lookup', error);
      }
    }
    if (algorithm !== undefined && known.algorithm !== algorithm) throw new SignerError('KEY_ALGORITHM_MISMATCH', `key ${ref} is ${known.algorithm}, not ${algorithm}`);
    return { ...known, privateKey };
  }

  #readPublicKey(token: Token, handle: Buffer, algorithm: KeyAlgorithm): Uint8Array {
    const a = token.attributes(handle, [pkcs11js.CKA_EC_PARAMS, pkcs11js.CKA_EC_POINT]);
    const params = a.get(pkcs11js.CKA_EC_PARAMS);
    const point = a.get(pkcs11js.CKA_EC_POINT);
    const expectedParams = algorithm === 'secp256k1' ? SECP256K1_OID : ED25519_OID;
    if (!params || !params.equals(expectedParams)) throw new SignerError('KEY_ALGORITHM_MISMATCH', `HSM key is not ${algorithm}`);
    // CKA_EC_POINT is a DER OCTET STRING (04 len value).
    if (!point || point[0] !== 0x04 || point[1] !== point.length - 2) throw new SignerError('KEY_CUSTODY_FAILED', 'HSM public key is not a DER OCTET STRING');
    const value = new Uint8Array(point.subarray(2));
    if (algorithm === 'secp256k1') return compressPublicKey(value);
    if (value.length !== 32) throw new SignerError('KEY_CUSTODY_FAILED', 'HSM Ed25519 public key is not 32 bytes');
    return value;
  }

  #open(): Token {
    if (!this.#token) throw new SignerError('KEY_CUSTODY_FAILED', 'the PKCS#11 custody is closed');
    return this.#token;
  }
}
