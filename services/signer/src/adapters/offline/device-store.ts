/**
 * The air-gapped signer's state on its own disk (C-9.3.7.4-a): one directory per device,
 *
 *   <dir>/device.json   trusted policy keys, operators, asset profiles (public data), the
 *                       key inventory (public facts + custody ref) and the single-use journal
 *   <dir>/sealed/<ref>.json   AES-256-GCM sealed keys (LocalSealedKeyCustody blobs)
 *
 * The master key (KEK) is NOT stored here: the operator brings it on separate media
 * (`--master-key-file`). Nothing in this module opens a socket. The journal and key rows are
 * written back (write-to-temp + rename) BEFORE a signed batch leaves the device, so a
 * decision signed once is refused on the device ever after (DECISION_ALREADY_USED).
 */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ZodError } from 'zod';
import { LocalSealedKeyCustody, type SealedBlob, type SealedBlobStore } from '../custody/local-sealed.js';
import { MemoryStores } from './memory-stores.js';
import { SignTransaction, type AssetProfile } from '../../application/sign-transaction.js';
import { describeAssetIssue, parseAssetProfiles } from '../../application/asset-profile-schema.js';
import type { Clock } from '../../application/ports.js';
import type { KeyCustody } from '../../application/key-custody.js';
import { SignerError } from '../../domain/errors.js';
import { KEY_ALGORITHMS, KEY_STATES, KEY_TIERS, type KeyRecord } from '../../domain/key.js';
import type { Operator } from '../../domain/operators.js';

export const DEVICE_FORMAT = 'custody.offline-device.v1';

const REF = /^lk_[0-9a-f]{32}$/;
const HEX = /^(?:[0-9a-f]{2})*$/;

const invalid = (what: string): SignerError => new SignerError('KEY_CUSTODY_CONFIG_INVALID', `offline device: ${what}`);
const fromHex = (value: unknown, what: string): Uint8Array => {
  if (typeof value !== 'string' || !HEX.test(value)) throw invalid(`${what} must be lowercase hex`);
  return Uint8Array.from(Buffer.from(value, 'hex'));
};
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const str = (value: unknown, what: string): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw invalid(`${what} must be a non-empty string`);
  return value;
};

/** Sealed blobs as files, one per ref (`wx`: a ref is never overwritten). */
export class FileSealedBlobStore implements SealedBlobStore {
  constructor(private readonly dir: string) {}

  #path(ref: string): string {
    if (!REF.test(ref)) throw invalid('sealed key reference');
    return join(this.dir, `${ref}.json`);
  }

  async put(blob: SealedBlob): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const body = { ref: blob.ref, algorithm: blob.algorithm, kekId: blob.kekId, nonce: toHex(blob.nonce), ciphertext: toHex(blob.ciphertext) };
    await writeFile(this.#path(blob.ref), JSON.stringify(body), { flag: 'wx', mode: 0o600 });
  }

  async get(ref: string): Promise<SealedBlob | undefined> {
    let text: string;
    try {
      text = await readFile(this.#path(ref), 'utf8');
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return undefined;
      throw error;
    }
    const raw = JSON.parse(text) as Record<string, unknown>;
    const algorithm = KEY_ALGORITHMS.find((a) => a === raw['algorithm']);
    if (raw['ref'] !== ref || !algorithm) throw invalid(`sealed key ${ref} is malformed`);
    return { ref, algorithm, kekId: str(raw['kekId'], 'kekId'), nonce: fromHex(raw['nonce'], 'nonce'), ciphertext: fromHex(raw['ciphertext'], 'ciphertext') };
  }

  async delete(ref: string): Promise<void> {
    await rm(this.#path(ref), { force: true });
  }
}

/** Public configuration of the device (same meaning as the online signer's configuration). */
export interface DeviceConfig {
  readonly kekId: string;
  /** policy key id → 64 hex Ed25519 public key */
  readonly policyKeys: Readonly<Record<string, string>>;
  readonly operators: ReadonlyArray<{ readonly operatorId: string; readonly roles: readonly string[]; readonly keys: Readonly<Record<string, string>> }>;
  /** As CUSTODY_SIGNER_ASSETS_FILE (decimal strings); kind "evm" or "bitcoin". */
  readonly assets: ReadonlyArray<Record<string, unknown>>;
}

interface DeviceFile extends DeviceConfig {
  readonly format: typeof DEVICE_FORMAT;
  readonly keys: ReadonlyArray<Record<string, unknown>>;
  readonly journal: ReadonlyArray<{ readonly decisionId: string; readonly eventId: string; readonly status: string; readonly reasonCode: string }>;
}

/** The online signer's parser (application/asset-profile-schema.ts); a bad profile names its field. */
function parseAssets(list: unknown): Map<string, AssetProfile> {
  try {
    return parseAssetProfiles(list ?? []);
  } catch (error) {
    throw invalid(`assets ${error instanceof ZodError ? describeAssetIssue(error) : 'are invalid'}`);
  }
}

function keyToJson(k: KeyRecord): Record<string, unknown> {
  return { ...k, publicKey: toHex(k.publicKey), activeUntil: k.activeUntil?.toISOString() ?? null, signaturesLeft: k.signaturesLeft ?? null, updatedAt: k.updatedAt.toISOString() };
}

function keyFromJson(raw: Record<string, unknown>): KeyRecord {
  const pick = <T extends string>(value: unknown, allowed: readonly T[], what: string): T => {
    const found = allowed.find((x) => x === value);
    if (!found) throw invalid(what);
    return found;
  };
  const date = (value: unknown, what: string): Date => {
    const d = new Date(str(value, what));
    if (Number.isNaN(d.getTime())) throw invalid(what);
    return d;
  };
  const left = raw['signaturesLeft'];
  if (left !== null && (typeof left !== 'number' || !Number.isSafeInteger(left) || left < 0)) throw invalid('signaturesLeft');
  return {
    keyId: str(raw['keyId'], 'keyId'),
    walletId: str(raw['walletId'], 'walletId'),
    chain: str(raw['chain'], 'chain'),
    algorithm: pick(raw['algorithm'], KEY_ALGORITHMS, 'algorithm'),
    purpose: pick(raw['purpose'], ['signature', 'encryption'] as const, 'purpose'),
    tier: pick(raw['tier'], KEY_TIERS, 'tier'),
    custody: pick(raw['custody'], ['local-sealed'] as const, 'custody (only local-sealed keys live on the device)'),
    custodyRef: str(raw['custodyRef'], 'custodyRef'),
    publicKey: fromHex(raw['publicKey'], 'publicKey'),
    address: typeof raw['address'] === 'string' ? raw['address'] : '',
    state: pick(raw['state'], KEY_STATES, 'state'),
    activeUntil: raw['activeUntil'] === null ? undefined : date(raw['activeUntil'], 'activeUntil'),
    signaturesLeft: left === null ? undefined : left,
    updatedAt: date(raw['updatedAt'], 'updatedAt'),
  };
}

export interface OfflineDevice {
  readonly stores: MemoryStores;
  readonly custody: LocalSealedKeyCustody;
  readonly custodies: ReadonlyMap<string, KeyCustody>;
  readonly useCase: SignTransaction;
  readonly operators: ReadonlyMap<string, Operator>;
  /** Writes the key rows and the single-use journal back (temp file + rename). */
  save(): Promise<void>;
  close(): Promise<void>;
}

const devicePath = (dir: string): string => join(dir, 'device.json');

async function writeDevice(dir: string, file: DeviceFile): Promise<void> {
  const tmp = join(dir, `device.json.tmp-${process.pid}`);
  await writeFile(tmp, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, devicePath(dir));
}

/** A new, empty device directory (no keys yet: generate them with KeyLifecycle on the device). */
export async function initOfflineDevice(dir: string, config: DeviceConfig): Promise<void> {
  await mkdir(join(dir, 'sealed'), { recursive: true, mode: 0o700 });
  // Validate now rather than on the first batch.
  parseAssets(config.assets);
  await writeFile(devicePath(dir), '', { flag: 'wx', mode: 0o600 });
  await writeDevice(dir, { format: DEVICE_FORMAT, ...config, keys: [], journal: [] });
}

/** Opens the device directory with the operator's master key; the clock is the device's. */
export async function openOfflineDevice(dir: string, masterKey: Uint8Array, clock: Clock): Promise<OfflineDevice> {
  let file: DeviceFile;
  try {
    file = JSON.parse(await readFile(devicePath(dir), 'utf8')) as DeviceFile;
  } catch {
    throw invalid('device.json is missing or not JSON');
  }
  if (file.format !== DEVICE_FORMAT) throw invalid(`device.json is not ${DEVICE_FORMAT}`);
  const trustedPolicyKeys = new Map(Object.entries(file.policyKeys ?? {}).map(([id, key]) => [id, fromHex(key, `policy key ${id}`)]));
  const operators = new Map<string, Operator>(
    (file.operators ?? []).map((o) => [str(o.operatorId, 'operatorId'), { operatorId: o.operatorId, roles: [...o.roles], keys: new Map(Object.entries(o.keys).map(([k, v]) => [k, fromHex(v, `operator key ${k}`)])) }]),
  );
  const assets = parseAssets(file.assets);
  const stores = new MemoryStores();
  for (const raw of file.keys ?? []) {
    const key = keyFromJson(raw);
    stores.keys.set(key.keyId, key);
  }
  for (const j of file.journal ?? []) stores.decisions.set(str(j.decisionId, 'journal decisionId'), { eventId: j.eventId, status: j.status, reasonCode: j.reasonCode });
  const custody = new LocalSealedKeyCustody({ masterKey, kekId: str(file.kekId, 'kekId'), store: new FileSealedBlobStore(join(dir, 'sealed')) });
  const custodies = new Map<string, KeyCustody>([[custody.kind, custody]]);
  const useCase = new SignTransaction({ store: stores, custody: custodies, clock, trustedPolicyKeys, operators, assets });
  return {
    stores,
    custody,
    custodies,
    useCase,
    operators,
    save: () =>
      writeDevice(dir, {
        ...file,
        keys: [...stores.keys.values()].map(keyToJson),
        journal: [...stores.decisions.entries()].map(([decisionId, d]) => ({ decisionId, eventId: d.eventId, status: d.status, reasonCode: d.reasonCode })),
      }),
    close: () => custody.close(),
  };
}
