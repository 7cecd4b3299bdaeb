// An integrator (API client): how it authenticates and what it may do (C-9.3.6.3-e).

export const Scopes = ['read', 'withdraw', 'deposit'] as const;
export type Scope = (typeof Scopes)[number];

export interface IntegratorKey {
  readonly keyId: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
  readonly revoked: boolean;
  /** Set by a rotation: the key is refused from this time on (KEY_EXPIRED). */
  readonly expiresAt?: Date | undefined;
  readonly createdAt?: Date | undefined;
}

/** Whether the key may sign at `now` (not revoked, not past its rotation overlap). */
export function keyUsable(key: IntegratorKey, now: Date): boolean {
  return !key.revoked && (key.expiresAt === undefined || now < key.expiresAt);
}

export interface Integrator {
  readonly clientId: string;
  readonly status: 'active' | 'revoked';
  /** Withdraw is off unless granted. */
  readonly scopes: readonly Scope[];
  /** Assets this client may withdraw; empty = none. */
  readonly allowedAssets: readonly string[];
  /** Source addresses/CIDRs allowed for mutating calls; empty = no restriction. */
  readonly ipAllowlist: readonly string[];
  readonly rateLimit: { readonly ratePerSecond: number; readonly burst: number };
  readonly keys: readonly IntegratorKey[];
  /** SHA-256 fingerprints (lower-case hex of the DER) of its mTLS client certificates. */
  readonly certificateFingerprints: readonly string[];
}
