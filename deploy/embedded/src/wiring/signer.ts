// signer: the local sealed key store (AES-256-GCM under a master key generated once into the
// data directory, mode 0600), tx.prepared in, tx.signed / tx.refused / key.lifecycle out.
// The demo's hot wallet key is made the way an operator team would: a generation ceremony and
// a time-boxed activation, each signed by two key custodians (the signer's admin quorum).
// Deposit addresses: DepositAddressService on the signer's gRPC server, mTLS on 127.0.0.1
// (wiring/tls.ts), intake's certificate the only allowed caller, deriving from an account
// xpub (public data only) of a BIP-32 seed of its own in the data directory.
import { randomUUID } from 'node:crypto';
import { HDKey } from '@scure/bip32';
import type { EventBus } from '@custody/event-bus';
import type { AuditHandle } from '@custody/audit';
import type { Logger } from '@custody/platform';
import { SIGNER_MIGRATIONS, generationRequest, keyTransitionSigningBytes, startSigner, type KeyTransitionRequest, type Operator, type SignerDeps, type SignerHandle } from '@custody/signer';
import type { EmbeddedDatabases, ServiceDatabase } from '../database.js';
import type { LocalKey } from '../demo.js';
import { DEMO_ASSET, DEMO_CHAIN, ETH } from '../demo-data.js';
import type { LocalMtls } from './tls.js';

export function provisionSigner(dbs: EmbeddedDatabases): Promise<ServiceDatabase> {
  return dbs.provision('signer', SIGNER_MIGRATIONS);
}

/** Fee ceiling the signer accepts per transaction (100 gwei × 21,000 gas), and the chain-adapter's cap per gas. */
export const MAX_FEE_PER_GAS = 100_000_000_000n;
export const TRANSFER_GAS = 21_000n;

export interface Custodian {
  readonly id: string;
  readonly role: 'key_custodian' | 'security_officer';
  readonly key: LocalKey;
}

export function composeSigner(deps: {
  bus: EventBus;
  db: ServiceDatabase;
  logger: Logger;
  clock: { now(): Date };
  masterKey: Uint8Array;
  /** policy's decision-token key (id → Ed25519 public key). */
  trustedPolicyKeys: ReadonlyMap<string, Uint8Array>;
  /** Approvers (their approvals travel in tx.prepared) and key custodians (admin quorum). */
  operators: readonly { id: string; role: string; key: LocalKey }[];
  chainId: bigint;
  /** DepositAddressService: account xpub of the demo asset and the mTLS server material (signer end). */
  deposits?: { xpub: string; mtls: LocalMtls; port: number };
  /** Audit's operator-action gate: key administration is recorded before it applies. */
  operatorAudit: AuditHandle['gate'];
}): Promise<SignerHandle> {
  const operators = new Map<string, Operator>(deps.operators.map((o) => [o.id, { operatorId: o.id, roles: [o.role], keys: new Map([[o.key.keyId, o.key.publicKey]]) }]));
  return startSigner({
    bus: deps.bus,
    database: deps.db.app,
    logger: deps.logger.child({ service: 'signer' }),
    clock: deps.clock,
    trustedPolicyKeys: deps.trustedPolicyKeys,
    operators,
    assets: new Map([
      [
        DEMO_ASSET,
        {
          asset: DEMO_ASSET,
          chain: DEMO_CHAIN,
          kind: 'evm' as const,
          chainId: deps.chainId,
          maxFee: MAX_FEE_PER_GAS * TRANSFER_GAS,
          // The shipped policy caps the hot wallet at 50 ETH; the signer holds its own line.
          tierCaps: { hot: 50n * ETH, warm: 1_000n * ETH, cold: 100_000n * ETH },
        },
      ],
    ]),
    localSealed: { masterKey: deps.masterKey, kekId: 'embedded-kek-1' },
    outboxPollIntervalMs: 50,
    operatorAudit: deps.operatorAudit,
    ...(deps.deposits ? depositServer(deps.deposits) : {}),
  });
}

/** BIP-44 account of the demo asset's deposit addresses (m/44'/60'/0'). */
export const DEPOSIT_ACCOUNT_PATH = "m/44'/60'/0'";

/**
 * The account-level xpub of the deposit addresses, from a 32-byte BIP-32 seed of its own in
 * the data directory (wiring/keys.ts, mode 0600; never the sealed store's master key). The
 * private half exists here only long enough to derive m/44'/60'/0'; the signer gets the xpub.
 */
export function depositXpubFromSeed(seed: Uint8Array): string {
  const master = HDKey.fromMasterSeed(seed);
  const account = master.derive(DEPOSIT_ACCOUNT_PATH);
  const xpub = account.publicExtendedKey;
  account.wipePrivateData();
  master.wipePrivateData();
  return xpub;
}

/** The signer's gRPC server for DepositAddressService: mTLS on 127.0.0.1, only intake's certificate (SHA-256 pin) may call. */
function depositServer(d: { xpub: string; mtls: LocalMtls; port: number }): Pick<SignerDeps, 'grpc' | 'depositXpubs'> {
  return {
    grpc: {
      host: '127.0.0.1',
      port: d.port,
      credentials: { kind: 'tls', certChain: d.mtls.server.cert, privateKey: d.mtls.server.key, clientCa: d.mtls.ca, requireClientCertificate: true },
      allowedCallers: [d.mtls.client.pin],
    },
    depositXpubs: new Map([[DEMO_ASSET, { asset: DEMO_ASSET, chain: DEMO_CHAIN, kind: 'evm' as const, xpub: d.xpub, account: 0 }]]),
  };
}

const signedBy = (request: KeyTransitionRequest, custodians: readonly Custodian[]) =>
  custodians.map((c) => ({ operatorId: c.id, role: c.role, keyId: c.key.keyId, signature: new Uint8Array(c.key.sign(keyTransitionSigningBytes(request, c.id))) }));

/**
 * The hot wallet's signing key: generated in the local sealed store on the first start (two
 * custodians sign the ceremony), activated for 24 h (the hot tier's longest window) whenever
 * it is not active. Returns its address; key.lifecycle events go out through the outbox.
 */
export async function ensureHotKey(signer: SignerHandle, custodians: readonly Custodian[], clock: { now(): Date }, walletId: string): Promise<{ keyId: string; address: string; generated: boolean; activated: boolean }> {
  const keyId = `${walletId}-k1`;
  const expiresAt = Math.floor(clock.now().getTime() / 1000) + 300;
  const [existing] = (await signer.dataSource.query(`SELECT "state", "address", "active_until" FROM "signer_key" WHERE "key_id" = $1`, [keyId])) as { state: string; address: string; active_until: Date | null }[];
  let address = existing?.address ?? '';
  let generated = false;
  if (!existing) {
    const gen = { requestId: randomUUID(), keyId, walletId, chain: DEMO_CHAIN, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
    const key = await signer.lifecycle.generate(gen, signedBy(generationRequest(gen), custodians));
    address = key.address;
    generated = true;
  } else if (existing.state === 'suspended' || existing.state === 'retired' || existing.state === 'destroyed') {
    throw new Error(`the demo hot key ${keyId} is ${existing.state}: an operator must decide (the embedded default does not override it)`);
  }
  // Active with more than an hour left: nothing to do.
  const activeLong = existing?.state === 'active' && existing.active_until !== null && existing.active_until.getTime() - clock.now().getTime() > 3_600_000;
  if (!activeLong) {
    if (existing?.state === 'active') {
      const deactivate = { requestId: randomUUID(), keyId, transition: 'deactivate' as const, expiresAt };
      await signer.lifecycle.transition(deactivate, signedBy(deactivate, custodians.slice(0, 1)), 'embedded start: renew the activation window').catch(() => undefined);
    }
    const activate = { requestId: randomUUID(), keyId, transition: 'activate' as const, ttlSeconds: 24 * 3600, expiresAt };
    await signer.lifecycle.transition(activate, signedBy(activate, custodians), 'embedded start: hot wallet activated for 24 h');
  }
  return { keyId, address, generated, activated: !activeLong };
}
