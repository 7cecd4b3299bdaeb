// CheckpointSigner with an Ed25519 key held in process memory (@noble/curves), loaded from
// a 32-byte secret (a mounted secret file in production). A PKCS#11/HSM adapter can replace
// it behind the same port.
import { ed25519 } from '@noble/curves/ed25519.js';
import type { CheckpointSigner } from '../../application/ports.js';

export class LocalEd25519Signer implements CheckpointSigner {
  readonly publicKey: Uint8Array;
  readonly #secret: Uint8Array;

  constructor(
    readonly keyId: string,
    secretKey: Uint8Array,
  ) {
    if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) throw new TypeError('audit checkpoint key: the Ed25519 secret key must be 32 bytes');
    if (keyId.length === 0) throw new TypeError('audit checkpoint key: keyId is required');
    this.#secret = Uint8Array.from(secretKey);
    this.publicKey = ed25519.getPublicKey(this.#secret);
  }

  static generate(keyId: string): LocalEd25519Signer {
    return new LocalEd25519Signer(keyId, ed25519.utils.randomSecretKey());
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    return Promise.resolve(ed25519.sign(message, this.#secret));
  }

  /** Never serialise the secret. */
  toJSON(): { keyId: string } {
    return { keyId: this.keyId };
  }
}
