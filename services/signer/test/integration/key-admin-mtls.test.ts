// KeyAdminService with mTLS exactly as production configures it: config.ts reads
// CUSTODY_SIGNER_ADMIN_GRPC_PORT and the platform's CUSTODY_GRPC_TLS* (grpcServerTlsEnv),
// startSigner serves it on 127.0.0.1; a client without a certificate (or plaintext) is
// refused, an operator console with a CA-signed client certificate lists the keys.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { KeyAdminServiceClient, ListKeysRequest, type ListKeysResponse } from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createTestPki, type TestPki } from '@custody/testing';
import { loadSignerConfig } from '../../src/config.js';
import { startSigner, type SignerHandle } from '../../src/index.js';
import { createTestDatabase, quietLogger, rand, type TestDatabase } from './support.js';

let pki: TestPki | undefined;
let dir: string;
let db: TestDatabase;
let bus: InProcessBus;
let signer: SignerHandle;
const pem: Record<string, Buffer> = {};
const file = (name: string): string => join(dir, name);

function listKeys(creds: ChannelCredentials): Promise<ListKeysResponse> {
  const client = new KeyAdminServiceClient(`127.0.0.1:${signer.adminGrpcPort}`, creds);
  return new Promise<ListKeysResponse>((resolve, reject) => {
    client.listKeys(ListKeysRequest.fromPartial({}), new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (err, res) => (err || !res ? reject(err ?? new Error('no response')) : resolve(res)));
  }).finally(() => client.close());
}

beforeAll(async () => {
  pki = createTestPki({ prefix: 'signer-admin-mtls-', caName: 'signer-admin-test-ca' });
  dir = pki.dir;
  pki.server('server');
  pki.client('console');
  Object.assign(pem, pki.pemFiles());
  writeFileSync(file('operators.json'), JSON.stringify([{ operatorId: 'carol', roles: ['key_custodian'], keys: { k1: Buffer.from(ed25519.getPublicKey(ed25519.utils.randomSecretKey())).toString('hex') } }]));
  writeFileSync(file('assets.json'), JSON.stringify([{ asset: 'ETH', chain: 'ethereum-sepolia', kind: 'evm', chainId: '11155111', maxFee: '10000000000000000', tierCaps: { hot: '1', warm: '2', cold: '3' } }]));

  db = await createTestDatabase();
  const config = loadSignerConfig({
    CUSTODY_DB_URL: db.appUrl,
    KAFKA_BROKERS: '127.0.0.1:9092',
    CUSTODY_SIGNER_POLICY_PUBLIC_KEYS: `policy-1=${'ef'.repeat(32)}`,
    CUSTODY_SIGNER_OPERATORS_FILE: file('operators.json'),
    CUSTODY_SIGNER_ASSETS_FILE: file('assets.json'),
    CUSTODY_SIGNER_MASTER_KEY: 'cd'.repeat(32),
    CUSTODY_SIGNER_ADMIN_GRPC_PORT: '0',
    CUSTODY_GRPC_TLS: 'mtls',
    CUSTODY_GRPC_TLS_CERT_FILE: file('server.crt'),
    CUSTODY_GRPC_TLS_KEY_FILE: file('server.key'),
    CUSTODY_GRPC_TLS_CLIENT_CA_FILE: file('ca.crt'),
  });
  if (!config.adminGrpc) throw new Error('admin gRPC not configured');
  bus = new InProcessBus();
  signer = await startSigner({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    trustedPolicyKeys: config.trustedPolicyKeys,
    operators: config.operators,
    assets: config.assets,
    ...(config.localSealed ? { localSealed: config.localSealed } : {}),
    consumerGroupId: `key-admin-mtls-${rand()}`,
    adminGrpc: config.adminGrpc,
  });
}, 60_000);

afterAll(async () => {
  await signer?.stop();
  await bus?.close();
  await db?.drop();
  pki?.cleanup();
});

describe('KeyAdminService over mTLS (config.ts → grpcServerTlsEnv → startSigner)', () => {
  it('serves the admin API on its own port (host from config, default 127.0.0.1) and refuses plaintext and certificate-less clients', async () => {
    expect(signer.adminGrpcPort).toBeGreaterThan(0);
    expect(signer.grpcPort).toBeUndefined();
    const plaintext = await listKeys(credentials.createInsecure()).then(
      () => undefined,
      (e: ServiceError) => e.code,
    );
    expect(plaintext).toBe(status.UNAVAILABLE);
    const noCert = await listKeys(credentials.createSsl(pem['ca.crt'])).then(
      () => undefined,
      (e: ServiceError) => e.code,
    );
    expect(noCert).toBe(status.UNAVAILABLE);
  });

  it('an operator console with a CA-signed client certificate lists the (empty) inventory', async () => {
    const res = await listKeys(credentials.createSsl(pem['ca.crt'], pem['console.key'], pem['console.crt']));
    expect(res.keys).toEqual([]);
  });
});
