// Formatting of the signer's key inventory (KeyAdminService ListKeys): public facts only —
// the signer never sends private material or custody references. Pure.
import { KeyState, type KeyInfo } from '@custody/contracts';

const STATES: Readonly<Record<number, string>> = {
  [KeyState.KEY_STATE_GENERATED]: 'generated',
  [KeyState.KEY_STATE_INACTIVE]: 'inactive',
  [KeyState.KEY_STATE_ACTIVE]: 'active',
  [KeyState.KEY_STATE_SUSPENDED]: 'suspended',
  [KeyState.KEY_STATE_RETIRED]: 'retired',
  [KeyState.KEY_STATE_DESTROYED]: 'destroyed',
};

export const stateName = (s: KeyState): string => STATES[s] ?? 'unspecified';

export interface KeyJson {
  readonly keyId: string;
  readonly walletId: string;
  readonly tier: string;
  readonly purpose: string;
  readonly chain: string;
  readonly algorithm: string;
  readonly custody: string;
  readonly address: string;
  readonly state: string;
  readonly effectiveState: string;
  readonly publicKey: string;
  /** ISO time, null when not active. */
  readonly activeUntil: string | null;
  /** null when bounded by time only. */
  readonly signaturesLeft: string | null;
}

export function keyToJson(k: KeyInfo): KeyJson {
  const until = BigInt(k.activeUntil || '0');
  const left = BigInt(k.signaturesLeft || '0');
  return {
    keyId: k.keyId,
    walletId: k.walletId,
    tier: k.tier,
    purpose: k.purpose,
    chain: k.chain,
    algorithm: k.algorithm,
    custody: k.custody,
    address: k.address,
    state: stateName(k.state),
    effectiveState: stateName(k.effectiveState),
    publicKey: Buffer.from(k.publicKey).toString('hex'),
    activeUntil: until > 0n ? new Date(Number(until) * 1000).toISOString() : null,
    signaturesLeft: left < 0n ? null : left.toString(),
  };
}

export function formatKeyTable(keys: readonly KeyJson[]): string {
  if (keys.length === 0) return 'no keys';
  const header = ['KEY ID', 'WALLET', 'TIER', 'CHAIN', 'ALGORITHM', 'CUSTODY', 'STATE', 'ACTIVE UNTIL', 'ADDRESS'];
  const rows = keys.map((k) => [k.keyId, k.walletId, k.tier, k.chain, k.algorithm, k.custody, k.state === k.effectiveState ? k.state : `${k.state} (effective ${k.effectiveState})`, k.activeUntil ?? '-', k.address || '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}
