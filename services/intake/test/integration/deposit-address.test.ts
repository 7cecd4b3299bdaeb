// GetDepositAddress through GrpcDepositAddressProvider over real gRPC and real PostgreSQL.
// The other end is a DepositAddressService (custody.signer.v1) served by grpc-js in this
// test: services may not import each other (workspace boundary rule), so the signer's own
// implementation is proven in services/signer/test/integration/deposit-address.test.ts;
// here the stand-in derives from an xpub with @scure/bip32 exactly as that contract says,
// and the tests prove what intake does with it: passes the signer's address through,
// scopes customers by integrator, and fails closed (UNAVAILABLE) on every failure.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Server, ServerCredentials, status, type Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { HDKey } from '@scure/bip32';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { DepositAddressServiceService, DeriveDepositAddressResponse, type CustodyGatewayServiceClient, type DeriveDepositAddressRequest } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { GrpcDepositAddressProvider, prefixedTopics, startIntake, type IntakeHandle } from '../../src/index.js';
import { TestClock, call, createTestDatabase, failure, newClient, newSigningKey, quietLogger, rand, signedMetadata, type SigningKey, type TestDatabase } from './support.js';

const XPUB = HDKey.fromMasterSeed(Uint8Array.from(Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex'))).derive("m/44'/60'/0'").publicExtendedKey;

function evmAddress(index: number): string {
  const child = HDKey.fromExtendedKey(XPUB).deriveChild(0).deriveChild(index);
  if (!child.publicKey) throw new Error('no public key');
  const uncompressed = secp256k1.Point.fromHex(Buffer.from(child.publicKey).toString('hex')).toBytes(false);
  const lower = Buffer.from(keccak_256(uncompressed.subarray(1)).slice(12)).toString('hex');
  const hash = Buffer.from(keccak_256(new TextEncoder().encode(lower))).toString('hex');
  return `0x${[...lower].map((c, i) => (Number.parseInt(hash[i] ?? '0', 16) >= 8 ? c.toUpperCase() : c)).join('')}`;
}

/** DepositAddressService stand-in: one index per customer_account, xpub derivation. */
class SignerStandIn {
  readonly seen: string[] = [];
  readonly indices = new Map<string, number>();
  mode: 'ok' | 'hang' | 'wrong-chain' = 'ok';
  private readonly server = new Server();
  port = 0;

  async start(): Promise<void> {
    this.server.addService(DepositAddressServiceService, {
      deriveDepositAddress: (callIn: ServerUnaryCall<DeriveDepositAddressRequest, DeriveDepositAddressResponse>, callback: sendUnaryData<DeriveDepositAddressResponse>) => {
        const { customerAccount, asset } = callIn.request;
        this.seen.push(`${customerAccount}|${asset}`);
        if (this.mode === 'hang') return; // never answers: the client's deadline must fire
        let index = this.indices.get(customerAccount);
        if (index === undefined) {
          index = this.indices.size;
          this.indices.set(customerAccount, index);
        }
        callback(null, DeriveDepositAddressResponse.fromPartial({ address: evmAddress(index), derivationPath: `m/44'/60'/0'/0/${index}`, chain: this.mode === 'wrong-chain' ? 'bitcoin-mainnet' : 'ethereum-mainnet' }));
      },
    });
    this.port = await new Promise<number>((resolve, reject) => this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

const clock = new TestClock();
const ACME = newSigningKey('acme');
const GLOBEX = newSigningKey('globex');
let db: TestDatabase;
let bus: InProcessBus;
let signer: SignerStandIn;
let provider: GrpcDepositAddressProvider;
let downProvider: GrpcDepositAddressProvider;
let intake: IntakeHandle;
let intakeSignerDown: IntakeHandle;
let client: CustodyGatewayServiceClient;
let clientSignerDown: CustodyGatewayServiceClient;

function getAddress(c: CustodyGatewayServiceClient, key: SigningKey, customerAccount: string, asset = 'ETH'): Promise<{ asset: string; chain: string; address: string }> {
  const md: Metadata = signedMetadata(key, 'GetDepositAddress', [['customer_account', customerAccount], ['asset', asset]], { timestampMs: clock.now().getTime() });
  return call(c.getDepositAddress.bind(c) as never, { customerAccount, asset }, md);
}

async function register(handle: IntakeHandle): Promise<void> {
  for (const k of [ACME, GLOBEX]) {
    await handle.integrators.register(
      { clientId: k.clientId, scopes: ['read', 'deposit'], allowedAssets: ['ETH', 'BTC'], rateLimit: { ratePerSecond: 10_000, burst: 10_000 }, keys: [{ keyId: k.keyId, publicKey: k.publicKey }], customerAccounts: ['acct-1', 'acct-2'] },
      clock.now(),
    );
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  signer = new SignerStandIn();
  await signer.start();
  provider = new GrpcDepositAddressProvider({ address: `127.0.0.1:${signer.port}`, timeoutMs: 1_000, logger: quietLogger() });
  // A port nothing listens on: bind and release one.
  const probe = new SignerStandIn();
  await probe.start();
  const deadPort = probe.port;
  probe.stop();
  downProvider = new GrpcDepositAddressProvider({ address: `127.0.0.1:${deadPort}`, timeoutMs: 1_000, logger: quietLogger() });
  const common = { bus, database: { url: db.appUrl, schema: db.schema }, logger: quietLogger(), clock, grpc: { port: 0, credentials: { kind: 'insecure' as const } }, timestampWindowMs: 60_000, outboxPollIntervalMs: 50 };
  intake = await startIntake({ ...common, depositAddressProvider: provider, topicName: prefixedTopics(`d${rand()}.`), consumerGroupId: `d${rand()}` });
  intakeSignerDown = await startIntake({ ...common, depositAddressProvider: downProvider, topicName: prefixedTopics(`d${rand()}.`), consumerGroupId: `d${rand()}` });
  await register(intake); // one database: both gateways see the same integrators
  client = newClient(intake.grpcPort);
  clientSignerDown = newClient(intakeSignerDown.grpcPort);
}, 60_000);

afterAll(async () => {
  client?.close();
  clientSignerDown?.close();
  await intake?.stop();
  await intakeSignerDown?.stop();
  provider?.close();
  downProvider?.close();
  signer?.stop();
  await bus?.close();
  await db?.drop();
});

describe('GetDepositAddress through the signer’s DepositAddressService (GrpcDepositAddressProvider)', () => {
  it('returns the signer-derived address, which matches an independent derivation from the xpub', async () => {
    const res = await getAddress(client, ACME, 'acct-1');
    expect(res).toMatchObject({ asset: 'ETH', chain: 'ethereum-mainnet' });
    const index = signer.indices.get('acme/acct-1');
    expect(index).toBeDefined();
    expect(res.address).toBe(evmAddress(index!));
  });

  it('same customer twice → same address; another customer, or the same account name at another integrator → a different one', async () => {
    const a = await getAddress(client, ACME, 'acct-2');
    const again = await getAddress(client, ACME, 'acct-2');
    const otherCustomer = await getAddress(client, ACME, 'acct-1');
    const otherIntegrator = await getAddress(client, GLOBEX, 'acct-2');
    expect(again.address).toBe(a.address);
    expect(otherCustomer.address).not.toBe(a.address);
    expect(otherIntegrator.address).not.toBe(a.address);
    expect(signer.seen).toEqual(expect.arrayContaining(['acme/acct-2|ETH', 'globex/acct-2|ETH']));
  });

  it('does not ask the signer for an asset the integrator may not use or an account it does not own', async () => {
    const before = signer.seen.length;
    expect(await failure(getAddress(client, ACME, 'acct-1', 'USDC.ETH'))).toMatchObject({ code: status.PERMISSION_DENIED, reason: 'ASSET_NOT_ALLOWED' });
    expect(await failure(getAddress(client, ACME, 'acct-9'))).toMatchObject({ code: status.INVALID_ARGUMENT, reason: 'UNKNOWN_CUSTOMER_ACCOUNT' });
    expect(signer.seen.length).toBe(before);
  });
});

describe('GetDepositAddress fails closed when the signer cannot answer', () => {
  it('signer down → UNAVAILABLE DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE', async () => {
    expect(await failure(getAddress(clientSignerDown, ACME, 'acct-1'))).toMatchObject({ code: status.UNAVAILABLE, reason: 'DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE' });
  });

  it('signer does not answer within the deadline → UNAVAILABLE', async () => {
    signer.mode = 'hang';
    try {
      expect(await failure(getAddress(client, GLOBEX, 'acct-1'))).toMatchObject({ code: status.UNAVAILABLE, reason: 'DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE' });
    } finally {
      signer.mode = 'ok';
    }
  });

  it('signer answers for another chain → UNAVAILABLE, no address handed out', async () => {
    signer.mode = 'wrong-chain';
    try {
      const res = await failure(getAddress(client, GLOBEX, 'acct-1'));
      expect(res).toMatchObject({ code: status.UNAVAILABLE, reason: 'DEPOSIT_ADDRESS_PROVIDER_UNAVAILABLE' });
    } finally {
      signer.mode = 'ok';
    }
  });
});
