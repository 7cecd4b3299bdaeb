// DepositAddressService caller identity over real gRPC with mTLS and real PostgreSQL: two
// client certificates from the SAME client CA; only the one on the signer's allow-list
// (intake's) may derive addresses, the other gets PERMISSION_DENIED and nothing is stored.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { HDKey } from '@scure/bip32';
import { DepositAddressServiceClient, DeriveDepositAddressRequest, type DeriveDepositAddressResponse } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { errorReason } from '@custody/platform';
import { createTestPki, type TestPki } from '@custody/testing';
import { startSigner, type SignerDeps, type SignerHandle } from '../../src/index.js';
import { createTestDatabase, quietLogger, rand, type TestDatabase } from './support.js';

const XPUB = HDKey.fromMasterSeed(Uint8Array.from(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'))).derive("m/44'/60'/0'").publicExtendedKey;

let pki: TestPki | undefined;
let db: TestDatabase;
let bus: InProcessBus;
const pem: Record<string, Buffer> = {};
const handles: SignerHandle[] = [];
const clients: DepositAddressServiceClient[] = [];

const pin = (certPem: Buffer): string => createHash('sha256').update(Buffer.from(certPem.toString().replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64')).digest('hex');

async function signerWith(allowedCallers: readonly string[] | undefined): Promise<SignerHandle> {
  const deps: SignerDeps = {
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    trustedPolicyKeys: new Map(),
    operators: new Map(),
    assets: new Map(),
    localSealed: { masterKey: new Uint8Array(32).fill(7), kekId: 'kek-callers' },
    consumerGroupId: `callers-${rand()}`,
    grpc: {
      port: 0,
      credentials: { kind: 'tls', certChain: pem['server.crt']!, privateKey: pem['server.key']!, clientCa: pem['ca.crt']!, requireClientCertificate: true },
      ...(allowedCallers ? { allowedCallers } : {}),
    },
    depositXpubs: new Map([['ETH', { asset: 'ETH', chain: 'ethereum-mainnet', kind: 'evm', xpub: XPUB, account: 0 }]]),
  };
  const h = await startSigner(deps);
  handles.push(h);
  return h;
}

function derive(signer: SignerHandle, cert: string, customerAccount: string): Promise<DeriveDepositAddressResponse> {
  const client = new DepositAddressServiceClient(`127.0.0.1:${signer.grpcPort}`, credentials.createSsl(pem['ca.crt'], pem[`${cert}.key`], pem[`${cert}.crt`]));
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.deriveDepositAddress(DeriveDepositAddressRequest.fromPartial({ customerAccount, asset: 'ETH' }), new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (err: ServiceError | null, res?: DeriveDepositAddressResponse) =>
      err || !res ? reject(err ?? new Error('no response')) : resolve(res),
    );
  });
}

async function refusal(p: Promise<unknown>): Promise<{ code: number; reason: string | undefined }> {
  try {
    await p;
  } catch (e) {
    const err = e as ServiceError;
    return { code: err.code, reason: errorReason(err.metadata) };
  }
  throw new Error('expected the call to fail');
}

const stored = async (account: string): Promise<number> => Number((await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM deposit_address WHERE customer_account = $1`, [account]))[0]?.n);

beforeAll(async () => {
  pki = createTestPki({ prefix: 'signer-callers-', caName: 'custody-internal-ca' });
  pki.server('server', { cn: 'signer' });
  // Both from the same CA: only the names and the keys differ.
  pki.client('intake', { dns: ['intake.custody.svc'], uri: ['spiffe://custody/ns/custody/sa/intake'] });
  pki.client('ledger', { dns: ['ledger.custody.svc'], uri: ['spiffe://custody/ns/custody/sa/ledger'] });
  Object.assign(pem, pki.pemFiles());
  db = await createTestDatabase();
  bus = new InProcessBus();
}, 120_000);

afterAll(async () => {
  for (const c of clients) c.close();
  for (const h of handles) await h.stop();
  await bus?.close();
  await db?.drop();
  pki?.cleanup();
});

describe('DepositAddressService: the client CA is not enough, the caller must be on the allow-list', () => {
  it("pinned by SHA-256: intake's certificate derives, another CA-valid service certificate is PERMISSION_DENIED and stores nothing", async () => {
    const signer = await signerWith([`sha256:${pin(pem['intake.crt']!)}`]);
    const ok = await derive(signer, 'intake', 'acme/pin-1');
    expect(ok.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(await refusal(derive(signer, 'ledger', 'acme/pin-2'))).toEqual({ code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' });
    expect(await stored('acme/pin-2')).toBe(0);
  });

  it('by certificate name (SAN DNS, SAN URI, subject CN): the same split', async () => {
    for (const rule of ['dns:intake.custody.svc', 'uri:spiffe://custody/ns/custody/sa/intake', 'cn:intake']) {
      const signer = await signerWith([rule]);
      const account = `acme/name-${rand()}`;
      expect((await derive(signer, 'intake', account)).chain).toBe('ethereum-mainnet');
      expect(await refusal(derive(signer, 'ledger', `${account}-x`))).toEqual({ code: status.PERMISSION_DENIED, reason: 'CALLER_NOT_ALLOWED' });
      expect(await stored(`${account}-x`)).toBe(0);
    }
  });

  it('refuses to start an mTLS server without an allow-list (fail closed)', async () => {
    await expect(signerWith(undefined)).rejects.toThrow(/allowedCallers/);
    await expect(signerWith([])).rejects.toThrow(/allowedCallers/);
  });
});
