// DepositAddressService over real gRPC (grpc-js client from @custody/contracts) and real
// PostgreSQL: addresses derive from the configured account xpub only, one index per
// (customer, asset), stable per customer and never shared; checked against an
// independent @scure/bip32 derivation.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { HDKey } from '@scure/bip32';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DepositAddressServiceClient, DeriveDepositAddressRequest, type DeriveDepositAddressResponse } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { startSigner, type SignerHandle } from '../../src/index.js';
import { createTestDatabase, quietLogger, rand, type TestDatabase } from './support.js';

// Test wallet: a fixed seed; only the account xpub (m/44'/60'/0') is given to the signer.
const SEED = Uint8Array.from(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'));
const ACCOUNT = HDKey.fromMasterSeed(SEED).derive("m/44'/60'/0'");
const XPUB = ACCOUNT.publicExtendedKey;

let db: TestDatabase;
let bus: InProcessBus;
let signer: SignerHandle;
let client: DepositAddressServiceClient;

function derive(customerAccount: string, asset = 'ETH'): Promise<DeriveDepositAddressResponse> {
  return new Promise((resolve, reject) => {
    client.deriveDepositAddress(DeriveDepositAddressRequest.fromPartial({ customerAccount, asset }), new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (err: ServiceError | null, res?: DeriveDepositAddressResponse) =>
      err || !res ? reject(err ?? new Error('no response')) : resolve(res),
    );
  });
}

async function failure(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
}

/** Independent EIP-55 address of m/44'/60'/0'/0/index from the xpub (scure + noble only). */
function independentAddress(index: number): string {
  const child = HDKey.fromExtendedKey(XPUB).deriveChild(0).deriveChild(index);
  if (!child.publicKey) throw new Error('no public key');
  const uncompressed = secp256k1.Point.fromHex(Buffer.from(child.publicKey).toString('hex')).toBytes(false);
  const lower = Buffer.from(keccak_256(uncompressed.subarray(1)).slice(12)).toString('hex');
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(lower))).toString('hex');
  return `0x${[...lower].map((c, i) => (Number.parseInt(hash[i] ?? '0', 16) >= 8 ? c.toUpperCase() : c)).join('')}`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  signer = await startSigner({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    trustedPolicyKeys: new Map(),
    operators: new Map(),
    assets: new Map(),
    localSealed: { masterKey: new Uint8Array(32).fill(9), kekId: 'kek-deposit' },
    consumerGroupId: `deposit-${rand()}`,
    grpc: { port: 0, credentials: { kind: 'insecure' } },
    depositXpubs: new Map([['ETH', { asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: XPUB, account: 0 }]]),
  });
  if (signer.grpcPort === undefined) throw new Error('signer gRPC server did not start');
  client = new DepositAddressServiceClient(`127.0.0.1:${signer.grpcPort}`, credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  client?.close();
  await signer?.stop();
  await bus?.close();
  await db?.drop();
});

describe('DepositAddressService: xpub-only derivation, one index per (customer, asset)', () => {
  it('derives m/44\'/60\'/0\'/0/i and matches an independent @scure/bip32 derivation from the xpub', async () => {
    const a = await derive('acme/acct-1');
    expect(a.chain).toBe('ethereum-mainnet');
    const index = Number(/^m\/44'\/60'\/0'\/0\/(\d+)$/.exec(a.derivationPath)?.[1]);
    expect(Number.isInteger(index)).toBe(true);
    expect(a.address).toBe(independentAddress(index));
  });

  it('gives the same customer the same address every time, and two customers different addresses', async () => {
    const first = await derive('acme/acct-2');
    const again = await derive('acme/acct-2');
    const other = await derive('globex/acct-2');
    expect(again).toEqual(first);
    expect(other.address).not.toBe(first.address);
    expect(other.derivationPath).not.toBe(first.derivationPath);
    expect(other.address).toBe(independentAddress(Number(other.derivationPath.split('/').pop())));
  });

  it('resolves 20 concurrent first requests of one customer to one address and one stored row', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => derive('acme/acct-race')));
    expect(new Set(results.map((r) => r.address)).size).toBe(1);
    const rows = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM deposit_address WHERE customer_account = 'acme/acct-race'`);
    expect(rows[0]?.n).toBe('1');
  });

  it('stores unique constraints that forbid two customers sharing an index or an address', async () => {
    const a = await derive('acme/acct-unique');
    const row = (await db.admin<{ derivation_index: number }>(`SELECT derivation_index FROM deposit_address WHERE customer_account = 'acme/acct-unique'`))[0];
    await expect(
      db.admin(`INSERT INTO deposit_address (asset, customer_account, derivation_index, derivation_path, address, created_at) VALUES ('ETH', 'x/other', $1, 'm/x', 'other', now())`, [row?.derivation_index]),
    ).rejects.toThrow(/deposit_address_index/);
    await expect(
      db.admin(`INSERT INTO deposit_address (asset, customer_account, derivation_index, derivation_path, address, created_at) VALUES ('ETH', 'x/other', 999999, 'm/x', $1, now())`, [a.address]),
    ).rejects.toThrow(/deposit_address_address/);
  });

  it('refuses an unknown asset and a malformed customer account with INVALID_ARGUMENT, storing nothing', async () => {
    const before = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM deposit_address');
    expect(await failure(derive('acme/acct-1', 'DOGE'))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'UNKNOWN_ASSET' });
    expect(await failure(derive(''))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'CUSTOMER_ACCOUNT_REQUIRED' });
    expect(await failure(derive('has space'))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'CUSTOMER_ACCOUNT_MALFORMED' });
    expect(await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM deposit_address')).toEqual(before);
  });

  it('refuses to start with an xprv (private key material) in place of the xpub', async () => {
    await expect(
      startSigner({
        bus,
        database: { url: db.appUrl, schema: db.schema },
        logger: quietLogger(),
        trustedPolicyKeys: new Map(),
        operators: new Map(),
        assets: new Map(),
        localSealed: { masterKey: new Uint8Array(32).fill(9), kekId: 'kek-deposit' },
        consumerGroupId: `deposit-${rand()}`,
        grpc: { port: 0, credentials: { kind: 'insecure' } },
        depositXpubs: new Map([['ETH', { asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: ACCOUNT.privateExtendedKey, account: 0 }]]),
      }),
    ).rejects.toMatchObject({ code: 'DEPOSIT_XPUB_INVALID' });
  });
});
