// KeyAdminService over real gRPC (grpc-js client from @custody/contracts, and grpcurl by
// reflection) and real PostgreSQL, with keys in the local sealed store AND in the SoftHSM2
// token over PKCS#11: generation, suspension, resumption and activation only with the
// operators' quorum signatures (the application's own key-transition scheme), the signing
// path (SignTransaction.handle, the tx.prepared use case) honouring each committed state,
// and M-of-N backup shares that restore the very same key. Nothing secret in responses,
// errors or logs: checked against the key itself, rebuilt independently from the shares.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Metadata, credentials, status, type CallOptions, type ServiceError } from '@grpc/grpc-js';
import { x25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { combine } from 'shamir-secret-sharing';
import {
  ActivateKeyRequest,
  ActivateKeyResponse,
  AdminApproval,
  AdminRequest,
  CreateBackupSharesRequest,
  CreateBackupSharesResponse,
  DepositAddressServiceClient,
  GenerateKeyRequest,
  GenerateKeyResponse,
  GetKeyRequest,
  GetKeyResponse,
  KeyAdminServiceClient,
  KeyState,
  ListKeysRequest,
  ListKeysResponse,
  RestoreFromSharesRequest,
  RestoreFromSharesResponse,
  ResumeKeyRequest,
  ResumeKeyResponse,
  RetireKeyRequest,
  RetireKeyResponse,
  SuspendKeyRequest,
  SuspendKeyResponse,
  type BackupManifest as WireManifest,
  type EncryptedBackupShare,
  type KeyInfo,
} from '@custody/contracts';
import { InProcessBus } from '@custody/event-bus';
import { createLogger, errorReason } from '@custody/platform';
import { backupRequest, generationRequest, openShare, restoreRequest, startSigner, type KeyTransitionRequest, type SignerHandle } from '../../src/index.js';
import { ETH, assets, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys, type TestOperator } from '../fixtures.js';
import { TestClock, createTestDatabase, pkcs11Options, rand, type TestDatabase } from './support.js';

interface Codec<T> {
  encode(message: T): { finish(): Uint8Array };
  toJSON(message: T): unknown;
}

const clock = new TestClock();
let db: TestDatabase;
let bus: InProcessBus;
let signer: SignerHandle;
let client: KeyAdminServiceClient;
const logLines: string[] = [];
/** Every response (wire bytes and canonical JSON) and every error (details + trailers) the test saw. */
const seenBytes: Uint8Array[] = [];
const seenText: string[] = [];

const nowSeconds = (): number => Math.floor(clock.now().getTime() / 1000);

type Unary = (request: unknown, metadata: Metadata, options: CallOptions, callback: (err: ServiceError | null, response?: unknown) => void) => void;

async function rpc<Res>(method: string, request: unknown, codec: Codec<Res>): Promise<Res> {
  const fn = (client as unknown as Record<string, Unary>)[method];
  if (!fn) throw new Error(`no method ${method}`);
  try {
    const res = await new Promise<Res>((resolve, reject) => {
      fn.call(client, request, new Metadata(), { deadline: new Date(Date.now() + 30_000) }, (err, response) => (err || !response ? reject(err ?? new Error('no response')) : resolve(response as Res)));
    });
    seenBytes.push(codec.encode(res).finish());
    seenText.push(JSON.stringify(codec.toJSON(res)));
    return res;
  } catch (e) {
    const err = e as ServiceError;
    seenText.push(`${err.code} ${err.details} ${JSON.stringify(err.metadata?.getMap() ?? {})}`);
    throw err;
  }
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

function wireApprovals(request: KeyTransitionRequest, signers: readonly TestOperator[]): AdminApproval[] {
  return signers.map((op) => {
    const s = signTransition(request, op);
    return AdminApproval.fromPartial({ operatorId: s.operatorId, role: s.role, keyId: s.keyId, signature: Buffer.from(s.signature) });
  });
}

/** An admin request for `transition` on `keyId`, signed by `signers` over the canonical bytes. */
function adminRequest(keyId: string, transition: 'activate' | 'suspend' | 'resume' | 'retire', signers: readonly TestOperator[], box: { ttlSeconds?: number } = {}): AdminRequest {
  const request: KeyTransitionRequest = { requestId: randomUUID(), keyId, transition, expiresAt: nowSeconds() + 300, ...box };
  return AdminRequest.fromPartial({ requestId: request.requestId, keyId, expiresAt: String(request.expiresAt), approvals: wireApprovals(request, signers), reason: `it ${transition}` });
}

function generate(keyId: string, walletId: string, custody: 'local-sealed' | 'pkcs11', signers: readonly TestOperator[]): Promise<GenerateKeyResponse> {
  const facts = { requestId: randomUUID(), keyId, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody, expiresAt: nowSeconds() + 300 };
  return rpc(
    'generateKey',
    GenerateKeyRequest.fromPartial({
      request: { requestId: facts.requestId, keyId, expiresAt: String(facts.expiresAt), approvals: wireApprovals(generationRequest(facts), signers), reason: 'ceremony' },
      walletId,
      chain: facts.chain,
      algorithm: facts.algorithm,
      tier: facts.tier,
      custody,
    }),
    GenerateKeyResponse,
  );
}

const activate = (keyId: string, signers: readonly TestOperator[] = [ops.carol, ops.dave]): Promise<ActivateKeyResponse> =>
  rpc('activateKey', ActivateKeyRequest.fromPartial({ request: adminRequest(keyId, 'activate', signers, { ttlSeconds: 3600 }), ttlSeconds: 3600 }), ActivateKeyResponse);
const suspend = (keyId: string, signers: readonly TestOperator[]): Promise<SuspendKeyResponse> => rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: adminRequest(keyId, 'suspend', signers) }), SuspendKeyResponse);
const resume = (keyId: string, signers: readonly TestOperator[]): Promise<ResumeKeyResponse> => rpc('resumeKey', ResumeKeyRequest.fromPartial({ request: adminRequest(keyId, 'resume', signers) }), ResumeKeyResponse);
const getKey = async (keyId: string): Promise<KeyInfo> => {
  const res = await rpc('getKey', GetKeyRequest.fromPartial({ keyId }), GetKeyResponse);
  if (!res.key) throw new Error('no key in GetKeyResponse');
  return res.key;
};

/** The application's signing path (tx.prepared use case), then the decision row's final status and reason. */
async function trySign(walletId: string): Promise<{ status: string; reason: string }> {
  const s = scenario(walletId, clock.now());
  await signer.signTransaction.handle(prepared(s), { eventId: randomUUID(), correlationId: `corr-${rand()}` });
  const rows = await db.admin<{ status: string; reason_code: string }>(`SELECT status, reason_code FROM signed_decision WHERE decision_id = $1`, [s.decisionId]);
  return { status: rows[0]?.status ?? 'none', reason: rows[0]?.reason_code ?? '' };
}

/** EVM address of a compressed secp256k1 key, independently of the signer's code. */
function evmAddress(compressed: Uint8Array): string {
  const uncompressed = secp256k1.Point.fromHex(Buffer.from(compressed).toString('hex')).toBytes(false);
  return `0x${Buffer.from(keccak_256(uncompressed.subarray(1)).slice(12)).toString('hex')}`;
}

beforeAll(async () => {
  db = await createTestDatabase();
  bus = new InProcessBus();
  const logger = createLogger({ service: 'signer-key-admin-test', level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
  signer = await startSigner({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger,
    clock,
    trustedPolicyKeys,
    operators,
    assets,
    pkcs11: pkcs11Options(),
    localSealed: { masterKey: new Uint8Array(32).fill(11), kekId: 'kek-admin-it' },
    consumerGroupId: `key-admin-${rand()}`,
    outboxPollIntervalMs: 50,
    grpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
    adminGrpc: { host: '127.0.0.1', port: 0, credentials: { kind: 'insecure' } },
  });
  if (signer.adminGrpcPort === undefined) throw new Error('the KeyAdminService server did not start');
  client = new KeyAdminServiceClient(`127.0.0.1:${signer.adminGrpcPort}`, credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  client?.close();
  await signer?.stop();
  await bus?.close();
  await db?.drop();
});

describe('KeyAdminService: its own port', () => {
  it('is served on a port of its own; the DepositAddressService port does not serve it', async () => {
    expect(signer.grpcPort).toBeDefined();
    expect(signer.adminGrpcPort).not.toBe(signer.grpcPort);
    const deposit = new DepositAddressServiceClient(`127.0.0.1:${signer.grpcPort}`, credentials.createInsecure());
    const onDepositPort = new KeyAdminServiceClient(`127.0.0.1:${signer.grpcPort}`, credentials.createInsecure());
    const err = await new Promise<ServiceError | null>((resolve) => onDepositPort.listKeys(ListKeysRequest.fromPartial({}), new Metadata(), { deadline: new Date(Date.now() + 10_000) }, (e) => resolve(e)));
    expect(err?.code).toBe(status.UNIMPLEMENTED);
    onDepositPort.close();
    deposit.close();
  });
});

describe.each([['local-sealed' as const], ['pkcs11' as const]])('KeyAdminService lifecycle over gRPC + PostgreSQL, keys in %s', (custody) => {
  const walletId = `eth-hot-${custody}-${rand()}`;
  const keyId = `key-${walletId}`;

  it('generation with one operator → FAILED_PRECONDITION QUORUM_NOT_MET and no key; with the quorum ListKeys shows it (public facts only)', async () => {
    expect(await failure(generate(keyId, walletId, custody, [ops.carol]))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'QUORUM_NOT_MET' });
    expect((await rpc('listKeys', ListKeysRequest.fromPartial({ walletId }), ListKeysResponse)).keys).toHaveLength(0);

    const generated = await generate(keyId, walletId, custody, [ops.carol, ops.dave]);
    expect(generated.key?.state).toBe(KeyState.KEY_STATE_INACTIVE);
    const listed = await rpc('listKeys', ListKeysRequest.fromPartial({ walletId }), ListKeysResponse);
    expect(listed.keys).toHaveLength(1);
    const key = listed.keys[0] as KeyInfo;
    expect(key).toMatchObject({ keyId, walletId, tier: 'hot', purpose: 'signature', chain: ETH.chain, algorithm: 'secp256k1', custody, state: KeyState.KEY_STATE_INACTIVE, effectiveState: KeyState.KEY_STATE_INACTIVE });
    expect(key.publicKey).toHaveLength(33);
    expect(key.address).toBe(evmAddress(key.publicKey));
    // The custody reference stays inside the signer.
    const [row] = await db.admin<{ custody_ref: string }>(`SELECT custody_ref FROM signer_key WHERE key_id = $1`, [keyId]);
    expect(row?.custody_ref).toBeTruthy();
    expect(JSON.stringify(ListKeysResponse.toJSON(listed))).not.toContain(row?.custody_ref);
    // The ceremony record names the approvers.
    const [ceremony] = await db.admin<{ quorum_operators: string[] }>(`SELECT quorum_operators FROM key_transition WHERE key_id = $1 AND transition = 'generated'`, [keyId]);
    expect(ceremony?.quorum_operators).toEqual(['carol', 'dave']);
  });

  it('activated by the quorum it signs; an illegal transition is FAILED_PRECONDITION INVALID_TRANSITION', async () => {
    expect((await activate(keyId)).key?.state).toBe(KeyState.KEY_STATE_ACTIVE);
    expect(await trySign(walletId)).toEqual({ status: 'signed', reason: '' });
    expect(await failure(rpc('retireKey', RetireKeyRequest.fromPartial({ request: adminRequest(keyId, 'retire', [ops.carol, ops.dave]) }), RetireKeyResponse))).toEqual({
      code: status.FAILED_PRECONDITION,
      reason: 'INVALID_TRANSITION',
    });
    expect((await getKey(keyId)).state).toBe(KeyState.KEY_STATE_ACTIVE);
  });
});

describe.each([['local-sealed' as const], ['pkcs11' as const]])('C-5.4.4-b suspension over gRPC stops the signing path at once; one operator suspends, resuming with one approval is rejected (%s)', (custody) => {
  const walletId = `eth-hot-susp-${custody}-${rand()}`;
  const keyId = `key-${walletId}`;

  beforeAll(async () => {
    await generate(keyId, walletId, custody, [ops.carol, ops.dave]);
    await activate(keyId);
  });

  it('suspend (one security officer) → signing refused KEY_SUSPENDED; resume by one → QUORUM_NOT_MET and still suspended; resume + activate by the quorum → signs', async () => {
    expect(await trySign(walletId)).toEqual({ status: 'signed', reason: '' });
    expect((await suspend(keyId, [ops.erin])).key?.state).toBe(KeyState.KEY_STATE_SUSPENDED);
    expect(await trySign(walletId)).toEqual({ status: 'refused', reason: 'KEY_SUSPENDED' });

    expect(await failure(resume(keyId, [ops.erin]))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'QUORUM_NOT_MET' });
    expect((await getKey(keyId)).state).toBe(KeyState.KEY_STATE_SUSPENDED);
    expect(await trySign(walletId)).toEqual({ status: 'refused', reason: 'KEY_SUSPENDED' });

    expect((await resume(keyId, [ops.erin, ops.carol])).key?.state).toBe(KeyState.KEY_STATE_INACTIVE);
    expect(await trySign(walletId)).toEqual({ status: 'refused', reason: 'KEY_NOT_ACTIVE' });
    await activate(keyId);
    expect(await trySign(walletId)).toEqual({ status: 'signed', reason: '' });
  });

  it('operators outside the admin roles → PERMISSION_DENIED ROLE_MISSING; a bad signature does not count; state unchanged', async () => {
    // alice holds "treasury": a registered operator, but not in an admin role.
    expect(await failure(suspend(keyId, [ops.alice]))).toEqual({ code: status.PERMISSION_DENIED, reason: 'ROLE_MISSING' });
    const forged = adminRequest(keyId, 'suspend', [ops.erin]);
    const approval = forged.approvals[0] as AdminApproval;
    approval.signature = Buffer.from(approval.signature.map((b, i) => (i === 0 ? b ^ 1 : b)));
    expect(await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: forged }), SuspendKeyResponse))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'QUORUM_NOT_MET' });
    expect((await getKey(keyId)).state).toBe(KeyState.KEY_STATE_ACTIVE);
  });
});

describe('GenerateKey for a wallet that already has a key → ALREADY_EXISTS KEY_EXISTS_FOR_WALLET naming the wallet, before the quorum; nothing stored', () => {
  const walletId = `eth-hot-dup-${rand()}`;
  const keyId = `key-${walletId}`;

  it('a second key for the wallet (another key id), even with one approval, is refused precisely; a taken key id is KEY_ID_EXISTS', async () => {
    await generate(keyId, walletId, 'local-sealed', [ops.carol, ops.dave]);
    const before = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM key_transition');
    let message = '';
    const second = await failure(
      generate(`${keyId}-2`, walletId, 'local-sealed', [ops.carol, ops.dave]).catch((e: unknown) => {
        message = (e as ServiceError).details;
        throw e;
      }),
    );
    expect(second).toEqual({ code: status.ALREADY_EXISTS, reason: 'KEY_EXISTS_FOR_WALLET' });
    expect(message).toContain(walletId);
    expect(message).toContain(keyId);
    const [row] = await db.admin<{ custody_ref: string }>(`SELECT custody_ref FROM signer_key WHERE key_id = $1`, [keyId]);
    expect(message).not.toContain(row?.custody_ref);
    // Checked before the quorum: one approval gets the same precise answer, not QUORUM_NOT_MET.
    expect(await failure(generate(`${keyId}-3`, walletId, 'local-sealed', [ops.carol]))).toEqual({ code: status.ALREADY_EXISTS, reason: 'KEY_EXISTS_FOR_WALLET' });
    expect(await failure(generate(keyId, `${walletId}-other`, 'local-sealed', [ops.carol, ops.dave]))).toEqual({ code: status.ALREADY_EXISTS, reason: 'KEY_ID_EXISTS' });
    expect((await rpc('listKeys', ListKeysRequest.fromPartial({ walletId }), ListKeysResponse)).keys.map((k) => k.keyId)).toEqual([keyId]);
    expect((await rpc('listKeys', ListKeysRequest.fromPartial({ walletId: `${walletId}-other` }), ListKeysResponse)).keys).toEqual([]);
    expect(await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM key_transition')).toEqual(before);
  });

  it('two concurrent generations for a new wallet: one key, the other refused KEY_EXISTS_FOR_WALLET (the unique key decides, not INTERNAL)', async () => {
    const raced = `eth-hot-race-${rand()}`;
    const outcomes = await Promise.allSettled([generate(`key-${raced}-a`, raced, 'local-sealed', [ops.carol, ops.dave]), generate(`key-${raced}-b`, raced, 'local-sealed', [ops.carol, ops.dave])]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(refused).toBeDefined();
    expect({ code: (refused?.reason as ServiceError).code, reason: errorReason((refused?.reason as ServiceError).metadata) }).toEqual({ code: status.ALREADY_EXISTS, reason: 'KEY_EXISTS_FOR_WALLET' });
    expect((await rpc('listKeys', ListKeysRequest.fromPartial({ walletId: raced }), ListKeysResponse)).keys).toHaveLength(1);
  });
});

describe('KeyAdminService input and lookup errors', () => {
  it('bad input → INVALID_ARGUMENT naming the field; unknown key → NOT_FOUND KEY_NOT_FOUND; nothing stored', async () => {
    const before = await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM key_transition');
    expect(await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({}), SuspendKeyResponse))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'REQUEST_REQUIRED' });
    const good = adminRequest('key-x', 'suspend', [ops.erin]);
    expect(await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: { ...good, requestId: 'has space' } }), SuspendKeyResponse))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'REQUEST_ID_INVALID' });
    expect(await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: { ...good, keyId: 'a|b' } }), SuspendKeyResponse))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'KEY_ID_INVALID' });
    expect(await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: { ...good, expiresAt: '0' } }), SuspendKeyResponse))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'EXPIRES_AT_INVALID' });
    expect(
      await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: { ...good, approvals: [{ ...good.approvals[0], signature: Buffer.alloc(10) }] } }), SuspendKeyResponse)),
    ).toEqual({ code: status.INVALID_ARGUMENT, reason: 'APPROVALS_INVALID' });
    expect(await failure(rpc('activateKey', ActivateKeyRequest.fromPartial({ request: adminRequest('key-x', 'activate', [ops.carol, ops.dave]), ttlSeconds: 0 }), ActivateKeyResponse))).toEqual({
      code: status.INVALID_ARGUMENT,
      reason: 'TTL_SECONDS_INVALID',
    });
    expect(await failure(generate('key-y', 'wallet y', 'local-sealed', [ops.carol, ops.dave]))).toEqual({ code: status.INVALID_ARGUMENT, reason: 'WALLET_ID_INVALID' });
    expect(await failure(rpc('suspendKey', SuspendKeyRequest.fromPartial({ request: good }), SuspendKeyResponse))).toEqual({ code: status.NOT_FOUND, reason: 'KEY_NOT_FOUND' });
    expect(await failure(getKey('key-missing'))).toEqual({ code: status.NOT_FOUND, reason: 'KEY_NOT_FOUND' });
    expect(await db.admin<{ n: string }>('SELECT count(*)::text AS n FROM key_transition')).toEqual(before);
  });
});

describe('C-9.3.7.3-b backup over gRPC: 3-of-5 shares encrypted per custodian; 3 shares restore the same key (address matches), 2 fail and restore nothing', () => {
  const walletId = `eth-hot-backup-${rand()}`;
  const keyId = `key-${walletId}`;
  const custodians = Array.from({ length: 5 }, (_, i) => {
    const secretKey = x25519.utils.randomSecretKey();
    return { custodianId: `custodian-${i + 1}`, secretKey, publicKey: x25519.getPublicKey(secretKey) };
  });
  let key: KeyInfo;
  let manifest: WireManifest;
  let shares: EncryptedBackupShare[] = [];
  let secret: Uint8Array;
  const plainShares: Uint8Array[] = [];

  const backupArgs = (requestId: string) => ({ requestId, keyId, expiresAt: nowSeconds() + 300, threshold: 3, custodians: custodians.map((c) => ({ custodianId: c.custodianId, publicKey: c.publicKey })) });
  const createBackup = (signers: readonly TestOperator[]): Promise<CreateBackupSharesResponse> => {
    const args = backupArgs(randomUUID());
    return rpc(
      'createBackupShares',
      CreateBackupSharesRequest.fromPartial({
        request: { requestId: args.requestId, keyId, expiresAt: String(args.expiresAt), approvals: wireApprovals(backupRequest(args), signers) },
        threshold: args.threshold,
        custodians: args.custodians.map((c) => ({ custodianId: c.custodianId, publicKey: Buffer.from(c.publicKey) })),
      }),
      CreateBackupSharesResponse,
    );
  };
  /** Custodians open their own shares (openShare with their X25519 secret) and hand them in. */
  const opened = (indexes: readonly number[]) =>
    indexes.map((index) => {
      const share = shares.find((s) => s.index === index) as EncryptedBackupShare;
      const custodian = custodians.find((c) => c.custodianId === share.custodianId);
      if (!custodian) throw new Error('unknown custodian');
      return { custodianId: share.custodianId, index, share: Buffer.from(openShare(share, custodian.secretKey)) };
    });
  const restore = (requestId: string, indexes: readonly number[], signers: readonly TestOperator[]): Promise<RestoreFromSharesResponse> => {
    const domainManifest = { backupId: manifest.backupId, threshold: manifest.threshold, total: manifest.total, custodians: manifest.custodians, fingerprint: manifest.fingerprint };
    const signed = restoreRequest({ requestId, keyId, expiresAt: nowSeconds() + 300, manifest: domainManifest });
    return rpc(
      'restoreFromShares',
      RestoreFromSharesRequest.fromPartial({
        request: { requestId, keyId, expiresAt: String(signed.expiresAt), approvals: wireApprovals(signed, signers) },
        manifest,
        shares: opened(indexes),
      }),
      RestoreFromSharesResponse,
    );
  };
  const keyRow = async () => (await db.admin<{ custody_ref: string }>(`SELECT custody_ref FROM signer_key WHERE key_id = $1`, [keyId]))[0]?.custody_ref;
  const count = async (sql: string, params: unknown[] = []) => (await db.admin<{ n: string }>(sql, params))[0]?.n;

  beforeAll(async () => {
    key = (await generate(keyId, walletId, 'local-sealed', [ops.carol, ops.dave])).key as KeyInfo;
    await activate(keyId);
  });

  it('one operator cannot take a backup (QUORUM_NOT_MET); the quorum gets 5 shares, each only as ciphertext for its custodian', async () => {
    expect(await failure(createBackup([ops.carol]))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'QUORUM_NOT_MET' });
    const res = await createBackup([ops.carol, ops.dave]);
    manifest = res.manifest as WireManifest;
    shares = res.shares;
    expect(manifest).toMatchObject({ keyId, threshold: 3, total: 5, custodians: custodians.map((c) => c.custodianId) });
    expect(shares.map((s) => [s.custodianId, s.index])).toEqual(custodians.map((c, i) => [c.custodianId, i + 1]));
    // A share opens for its custodian only.
    expect(() => openShare(shares[0] as EncryptedBackupShare, (custodians[1] as (typeof custodians)[number]).secretKey)).toThrow(/does not open/);
    for (const o of opened([1, 2, 3, 4, 5])) plainShares.push(o.share);
    // Independently (the audited library itself): any 3 opened shares are the wallet's key.
    // (Uint8Array.from: the library checks instanceof in this realm; the shares are Buffers.)
    secret = await combine([0, 2, 4].map((i) => Uint8Array.from(plainShares[i] as Uint8Array)));
    expect(Buffer.from(secp256k1.getPublicKey(secret, true))).toEqual(Buffer.from(key.publicKey));
    expect(evmAddress(secp256k1.getPublicKey(secret, true))).toBe(key.address);
    const [record] = await db.admin<{ quorum_operators: string[] }>(`SELECT quorum_operators FROM key_transition WHERE key_id = $1 AND transition = 'backup-created'`, [keyId]);
    expect(record?.quorum_operators).toEqual(['carol', 'dave']);
  });

  it('the sealed blob is lost → signing fails; 2 shares → BACKUP_INVALID, one operator → QUORUM_NOT_MET: nothing restored', async () => {
    const ref = await keyRow();
    await db.admin(`DELETE FROM sealed_key WHERE ref = $1`, [ref]);
    expect(await trySign(walletId)).toEqual({ status: 'refused', reason: 'CUSTODY_FAILED' });
    const blobs = await count('SELECT count(*)::text AS n FROM sealed_key');

    expect(await failure(restore(randomUUID(), [1, 4], [ops.carol, ops.dave]))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'BACKUP_INVALID' });
    expect(await failure(restore(randomUUID(), [1, 3, 4], [ops.carol]))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'QUORUM_NOT_MET' });

    expect(await keyRow()).toBe(ref);
    expect(await count('SELECT count(*)::text AS n FROM sealed_key')).toBe(blobs);
    expect(await count(`SELECT count(*)::text AS n FROM key_transition WHERE key_id = $1 AND transition = 'restored'`, [keyId])).toBe('0');
    expect(await trySign(walletId)).toEqual({ status: 'refused', reason: 'CUSTODY_FAILED' });
  });

  it('3 shares + the quorum → the same public key and address, re-sealed; the wallet signs again; the same request again → INVALID_TRANSITION', async () => {
    const before = await keyRow();
    const requestId = randomUUID();
    const restored = (await restore(requestId, [2, 4, 5], [ops.carol, ops.dave])).key as KeyInfo;
    expect(Buffer.from(restored.publicKey)).toEqual(Buffer.from(key.publicKey));
    expect(restored.address).toBe(key.address);
    expect(restored.state).toBe(KeyState.KEY_STATE_ACTIVE);
    expect(await keyRow()).not.toBe(before);
    expect(await trySign(walletId)).toEqual({ status: 'signed', reason: '' });
    expect(await failure(restore(requestId, [1, 2, 3], [ops.carol, ops.dave]))).toEqual({ code: status.FAILED_PRECONDITION, reason: 'INVALID_TRANSITION' });
  });

  it('a key in the PKCS#11 token is not extractable: CreateBackupShares → FAILED_PRECONDITION BACKUP_NOT_SUPPORTED', async () => {
    const hsmWallet = `eth-hot-hsm-backup-${rand()}`;
    await generate(`key-${hsmWallet}`, hsmWallet, 'pkcs11', [ops.carol, ops.dave]);
    const args = { ...backupArgs(randomUUID()), keyId: `key-${hsmWallet}` };
    const res = rpc(
      'createBackupShares',
      CreateBackupSharesRequest.fromPartial({
        request: { requestId: args.requestId, keyId: args.keyId, expiresAt: String(args.expiresAt), approvals: wireApprovals(backupRequest(args), [ops.carol, ops.dave]) },
        threshold: 3,
        custodians: args.custodians.map((c) => ({ custodianId: c.custodianId, publicKey: Buffer.from(c.publicKey) })),
      }),
      CreateBackupSharesResponse,
    );
    expect(await failure(res)).toEqual({ code: status.FAILED_PRECONDITION, reason: 'BACKUP_NOT_SUPPORTED' });
  });

  it('no response, error or log line carries the key or a clear share (raw, hex or base64)', () => {
    expect(logLines.length).toBeGreaterThan(0);
    expect(seenBytes.length).toBeGreaterThan(10);
    const needles = [secret, ...plainShares].map((b) => Buffer.from(b));
    const logs = logLines.join('\n');
    for (const needle of needles) {
      for (const bytes of seenBytes) expect(Buffer.from(bytes).includes(needle)).toBe(false);
      for (const text of [...seenText, logs]) {
        expect(text).not.toContain(needle.toString('hex'));
        expect(text).not.toContain(needle.toString('base64'));
      }
    }
  });
});

describe('KeyAdminService by reflection (grpcurl)', () => {
  it('grpcurl lists the service and ListKeys answers with the inventory in proto JSON', async () => {
    const bin = process.env.GRPCURL_BIN || '.local/bin/grpcurl';
    const run = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(bin, ['-plaintext', '-max-time', '20', ...args], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}: ${stderr}`)) : resolve(stdout)));
      });
    const target = `127.0.0.1:${signer.adminGrpcPort}`;
    expect((await run([target, 'list'])).split('\n')).toContain('custody.signer.v1.KeyAdminService');
    const out = JSON.parse(await run(['-d', '{}', target, 'custody.signer.v1.KeyAdminService/ListKeys'])) as { keys: { keyId: string; address: string; state: string }[] };
    const rows = await db.admin<{ key_id: string; address: string; custody_ref: string }>('SELECT key_id, address, custody_ref FROM signer_key ORDER BY key_id');
    expect(out.keys.map((k) => [k.keyId, k.address])).toEqual(rows.map((r) => [r.key_id, r.address]));
    expect(out.keys.every((k) => k.state.startsWith('KEY_STATE_'))).toBe(true);
    const text = JSON.stringify(out);
    for (const r of rows) expect(text).not.toContain(r.custody_ref);
  });
});
