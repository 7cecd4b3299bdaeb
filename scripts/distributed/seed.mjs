// What the pipeline needs before a withdrawal can go through, done through the services'
// own APIs where they have one:
//   signer   the hot wallet key: generation ceremony + 24 h activation over KeyAdminService,
//            each signed by two key custodians (op-carol, op-dave: the admin quorum)
//   anvil    the hot wallet funded with the opening balances' coins (anvil_setBalance)
//   intake   the demo integrator registered over IntakeAdminService (operator mTLS + Ed25519)
//   risk     the demo customers' whitelisted destinations on the allow list (ScreeningListService, mTLS)
//            and their KYC profiles (CustomerProfileService, mTLS, audited first)
//   ledger   opening balances: deposit.detected FINAL events on Kafka (see docs/distributed.md:
//            the ledger has no API to book them, and the chain-adapter's deposits carry no client id);
//            the treasury's cold wallet (offline key, treasury.json) registered watch-only, so the
//            policy's hot-wallet sweeps into it are booked (C-9.3.7.1-a)
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ACCOUNTS, ASSET, CHAIN, CLIENT_ID, HOT_KEY, HOT_WALLET, PORTS, TLS_NAME, clientTls, policyDataDir, rpc } from './lib.mjs';

const unary = (client, method, request, metadata) =>
  new Promise((resolveCall, reject) => {
    const cb = (err, res) => (err ? reject(err) : resolveCall(res));
    if (metadata) client[method](request, metadata, { deadline: Date.now() + 10_000 }, cb);
    else client[method](request, { deadline: Date.now() + 10_000 }, cb);
  });

export async function ensureHotKey(m) {
  const grpc = await import('@grpc/grpc-js');
  const { KeyAdminServiceClient, KeyState } = await import('@custody/contracts');
  const { generationRequest, keyTransitionSigningBytes } = await import('@custody/signer');
  const client = new KeyAdminServiceClient(`127.0.0.1:${PORTS.signerAdmin}`, grpc.credentials.createInsecure());
  const custodians = [m.operators['op-carol'], m.operators['op-dave']];
  const approvals = (request, who = custodians) => who.map((c) => ({ operatorId: c.id, role: c.role, keyId: c.keyId, signature: c.key.sign(keyTransitionSigningBytes(request, c.id)) }));
  try {
    const expiresAt = Math.floor(Date.now() / 1000) + 300;
    let key = await unary(client, 'getKey', { keyId: HOT_KEY }).then(
      (r) => r.key,
      (err) => {
        if (err.code === grpc.status.NOT_FOUND) return undefined;
        throw err;
      },
    );
    let generated = false;
    if (!key) {
      const gen = { requestId: randomUUID(), keyId: HOT_KEY, walletId: HOT_WALLET, chain: CHAIN, algorithm: 'secp256k1', tier: 'hot', custody: 'local-sealed', expiresAt };
      key = (
        await unary(client, 'generateKey', {
          request: { requestId: gen.requestId, keyId: HOT_KEY, expiresAt: String(expiresAt), approvals: approvals(generationRequest(gen)), reason: 'distributed up: hot wallet key ceremony' },
          walletId: HOT_WALLET,
          chain: CHAIN,
          algorithm: 'secp256k1',
          tier: 'hot',
          custody: 'local-sealed',
        })
      ).key;
      generated = true;
    }
    if ([KeyState.KEY_STATE_SUSPENDED, KeyState.KEY_STATE_RETIRED, KeyState.KEY_STATE_DESTROYED].includes(key.state)) {
      throw new Error(`the hot key ${HOT_KEY} is ${KeyState[key.state]}: an operator must decide (up does not override it)`);
    }
    const activeLong = key.effectiveState === KeyState.KEY_STATE_ACTIVE && Number(key.activeUntil) * 1000 - Date.now() > 3_600_000;
    let activated = false;
    if (!activeLong) {
      if (key.state === KeyState.KEY_STATE_ACTIVE) {
        const deactivate = { requestId: randomUUID(), keyId: HOT_KEY, transition: 'deactivate', expiresAt };
        await unary(client, 'deactivateKey', { request: { requestId: deactivate.requestId, keyId: HOT_KEY, expiresAt: String(expiresAt), approvals: approvals(deactivate, custodians.slice(0, 1)), reason: 'distributed up: renew the activation window' } }).catch(() => undefined);
      }
      const activate = { requestId: randomUUID(), keyId: HOT_KEY, transition: 'activate', ttlSeconds: 24 * 3600, expiresAt };
      key = (await unary(client, 'activateKey', { request: { requestId: activate.requestId, keyId: HOT_KEY, expiresAt: String(expiresAt), approvals: approvals(activate), reason: 'distributed up: hot wallet activated for 24 h' }, ttlSeconds: 24 * 3600, maxSignatures: 0 })).key;
      activated = true;
    }
    return { keyId: HOT_KEY, address: key.address.toLowerCase(), generated, activated };
  } finally {
    client.close();
  }
}

/**
 * Puts the coins of the opening balances just booked (publishOpeningBalances: deposits to this
 * address) on the hot wallet (anvil_setBalance, balance + amount), so the books and the chain
 * hold the same: `custody reconcile` is BALANCED. Nothing else mints.
 */
export async function fundHotWallet(address, amount) {
  const balance = BigInt(await rpc('eth_getBalance', [address, 'latest']));
  if (amount <= 0n) return { funded: false, balance };
  await rpc('anvil_setBalance', [address, `0x${(balance + amount).toString(16)}`]);
  return { funded: true, balance: balance + amount };
}

/** Metadata of a call signed the intake way (docs/intake.md): Ed25519 over the canonical encoding. */
export async function signedMetadata(method, clientId, keyId, key, body) {
  const grpc = await import('@grpc/grpc-js');
  const { AuthHeaders, encodeSigningInput } = await import('@custody/intake');
  const timestampMs = Date.now();
  const nonce = randomBytes(16).toString('hex');
  const md = new grpc.Metadata();
  md.set(AuthHeaders.clientId, clientId);
  md.set(AuthHeaders.keyId, keyId);
  md.set(AuthHeaders.timestamp, String(timestampMs));
  md.set(AuthHeaders.nonce, nonce);
  md.set(AuthHeaders.signature, key.sign(encodeSigningInput({ method, clientId, keyId, timestampMs, nonce, body })).toString('base64'));
  return md;
}

export async function ensureIntegrator(m) {
  const grpc = await import('@grpc/grpc-js');
  const { IntakeAdminServiceClient } = await import('@custody/contracts');
  const c = clientTls('operator');
  const client = new IntakeAdminServiceClient(`127.0.0.1:${PORTS.intakeAdmin}`, grpc.credentials.createSsl(c.ca, c.key, c.cert), TLS_NAME);
  const path = '/custody.intake.v1.IntakeAdminService';
  const admin = m.admin;
  try {
    const listed = await unary(client, 'listIntegrators', {}, await signedMetadata(`${path}/ListIntegrators`, admin.id, admin.keyId, admin.key, []));
    if (listed.integrators.some((i) => i.clientId === CLIENT_ID && i.status === 'active')) return { clientId: CLIENT_ID, registered: false };
    const req = {
      clientId: CLIENT_ID,
      keyId: m.integrator.keyId,
      publicKey: m.integrator.key.publicHex,
      certificateSha256: m.tls.integratorPin,
      allowedAssets: [ASSET],
      scopes: ['read', 'withdraw'],
      ratePerSecond: 1_000,
      burst: 1_000,
      ipAllowlist: [],
      customerAccounts: ACCOUNTS.map((a) => a.id),
    };
    const body = [
      ['client_id', req.clientId],
      ['key_id', req.keyId],
      ['public_key', req.publicKey],
      ['certificate_sha256', req.certificateSha256],
      ['allowed_assets', req.allowedAssets],
      ['scopes', req.scopes],
      ['rate_per_second', String(req.ratePerSecond)],
      ['burst', String(req.burst)],
      ['ip_allowlist', req.ipAllowlist],
      ['customer_accounts', req.customerAccounts],
    ];
    await unary(client, 'registerIntegrator', req, await signedMetadata(`${path}/RegisterIntegrator`, admin.id, admin.keyId, admin.key, body));
    return { clientId: CLIENT_ID, registered: true };
  } finally {
    client.close();
  }
}

export async function ensureAllowList() {
  const grpc = await import('@grpc/grpc-js');
  const { ScreeningListServiceClient, InternalList, ListInternalEntriesRequest, AddInternalEntryRequest } = await import('@custody/contracts');
  const c = clientTls('operator');
  const client = new ScreeningListServiceClient(`127.0.0.1:${PORTS.risk}`, grpc.credentials.createSsl(c.ca, c.key, c.cert), TLS_NAME);
  try {
    const allow = InternalList.INTERNAL_LIST_ALLOW;
    const existing = await unary(client, 'listInternalEntries', ListInternalEntriesRequest.fromPartial({ list: allow, pageSize: 500 }));
    const have = new Set((existing.entries ?? []).filter((e) => e.active).map((e) => e.addressKey.toLowerCase()));
    let added = 0;
    for (const a of ACCOUNTS) {
      if (have.has(`evm:${a.destination.toLowerCase()}`)) continue;
      await unary(client, 'addInternalEntry', AddInternalEntryRequest.fromPartial({ list: allow, chain: CHAIN, address: a.destination, reason: `whitelisted destination of ${a.id}` }));
      added++;
    }
    return { added };
  } finally {
    client.close();
  }
}

/**
 * Opening balances as deposit.detected FINAL (deposit id per customer: booked once) to the hot
 * wallet's address: the ledger books them to that wallet (`custodian:ETH:eth-hot-01`, once its
 * registry knows the address from the signer's key event — waited for, 30 s), and up puts the
 * same coins on the chain (fundHotWallet). Returns how many were published and their sum.
 */
export async function publishOpeningBalances(brokers, hotAddress, ledgerOwnerUrl) {
  const { DepositDetected, DepositState, Topics, encodeEvent, topicVersion, timestampFromDate } = await import('@custody/contracts');
  const { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec } = await import('@custody/event-bus');
  const bus = new KafkaBus({ kafka: createKafkaClient({ brokers, clientId: 'custody-distributed-seed', logLevel: 'nothing' }) });
  try {
    // Only for accounts the ledger has never booked ETH on (the ledger would ignore a repeat
    // — one deposit id per customer — but risk would screen it again).
    const grpc = await import('@grpc/grpc-js');
    const { LedgerServiceClient } = await import('@custody/contracts');
    const ledger = new LedgerServiceClient(`127.0.0.1:${PORTS.ledger}`, grpc.credentials.createInsecure());
    const unbooked = [];
    try {
      for (const a of ACCOUNTS) {
        const res = await unary(ledger, 'getBalances', { account: `customer:${CLIENT_ID}:${a.id}`, assets: [ASSET] });
        if (!(res.balances ?? []).some((b) => b.asset === ASSET)) unbooked.push(a);
      }
    } finally {
      ledger.close();
    }
    await registerColdWallet(bus, ledgerOwnerUrl);
    if (unbooked.length === 0) return { published: 0, amount: 0n };
    await waitLedgerWallet(ledgerOwnerUrl, hotAddress);
    const messages = unbooked.map((a) => {
      const depositId = `opening-${CLIENT_ID}-${a.id}`;
      const message = DepositDetected.fromPartial({
        depositId,
        chain: CHAIN,
        asset: ASSET,
        address: hotAddress,
        customerAccount: a.id,
        clientId: CLIENT_ID,
        amount: a.opening.toString(),
        txHash: '',
        blockHeight: '0',
        confirmations: 0,
        detectedAt: timestampFromDate(new Date()),
        state: DepositState.DEPOSIT_STATE_FINAL,
        requiredConfirmations: 0,
      });
      const envelope = createEnvelope({ type: Topics.depositDetected, key: depositId, correlationId: depositId, producer: 'distributed-seed', schemaVersion: topicVersion(Topics.depositDetected), payload: encodeEvent(Topics.depositDetected, message) });
      return { topic: Topics.depositDetected, key: depositId, value: protobufEnvelopeCodec.encode(envelope) };
    });
    await bus.publish(messages);
    return { published: messages.length, amount: unbooked.reduce((sum, a) => sum + a.opening, 0n) };
  } finally {
    await bus.close();
  }
}

/** The treasury's own cold wallet of the asset (policies/data/treasury.json the bundle is built from): id and address. */
export function treasuryColdWallet(dataDir = policyDataDir()) {
  const t = JSON.parse(readFileSync(resolve(dataDir, 'treasury.json'), 'utf8')).treasury.assets[ASSET];
  const w = t?.wallets?.[t.sweep_to]?.[0];
  if (!w) throw new Error(`treasury.json names no ${ASSET} ${t?.sweep_to ?? 'sweep_to'} wallet`);
  return { walletId: w.id, tier: t.sweep_to, address: w.address.toLowerCase() };
}

/**
 * The cold wallet's key is offline (no signer here holds it): it is announced once as the
 * key event an offline ceremony would emit — DEACTIVATED (chain-adapter records it as not
 * usable for signing here), tier cold, its treasury.json address — so the ledger registers
 * the wallet and books the policy's sweeps into it on FINAL (an unregistered destination
 * would park them).
 */
async function registerColdWallet(bus, ledgerOwnerUrl) {
  const { KeyLifecycle, KeyPurpose, KeyTier, KeyTransition, Topics, encodeEvent, topicVersion, timestampFromDate } = await import('@custody/contracts');
  const { createEnvelope, protobufEnvelopeCodec } = await import('@custody/event-bus');
  const cold = treasuryColdWallet();
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: ledgerOwnerUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query(`SELECT 1 FROM "ledger"."ledger_wallet" WHERE "wallet_id" = $1`, [cold.walletId]);
    if (rowCount) return;
  } finally {
    await client.end();
  }
  const keyId = `${cold.walletId}-offline`;
  const message = KeyLifecycle.fromPartial({
    keyId,
    transition: KeyTransition.KEY_TRANSITION_DEACTIVATED,
    purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE,
    tier: cold.tier === 'warm' ? KeyTier.KEY_TIER_WARM : KeyTier.KEY_TIER_COLD,
    chain: CHAIN,
    actor: 'distributed-seed',
    reason: 'treasury cold wallet: offline key, registered watch-only from treasury.json',
    transitionedAt: timestampFromDate(new Date()),
    walletId: cold.walletId,
    address: cold.address,
  });
  const envelope = createEnvelope({ type: Topics.keyLifecycle, key: keyId, correlationId: `seed-${keyId}`, producer: 'distributed-seed', schemaVersion: topicVersion(Topics.keyLifecycle), payload: encodeEvent(Topics.keyLifecycle, message) });
  await bus.publish([{ topic: Topics.keyLifecycle, key: keyId, value: protobufEnvelopeCodec.encode(envelope) }]);
}

/** Waits (bounded) until the ledger's wallet registry names the address (schema ledger, its owner role). */
async function waitLedgerWallet(ownerUrl, address) {
  const { default: pg } = await import('pg');
  const deadline = Date.now() + 30_000;
  for (let n = 0; n < 300; n++) {
    const client = new pg.Client({ connectionString: ownerUrl });
    await client.connect();
    try {
      const { rowCount } = await client.query(`SELECT 1 FROM "ledger"."ledger_wallet" WHERE "chain" = $1 AND lower("address") = lower($2)`, [CHAIN, address]);
      if (rowCount) return;
    } finally {
      await client.end();
    }
    if (Date.now() > deadline) throw new Error(`the ledger has not registered the hot wallet ${address} after 30 s (custody.key.lifecycle.v1 from the signer): see ledger.log`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * The demo customers' KYC profiles in risk (verified, US, opening date) over
 * CustomerProfileService (operator mTLS; each upsert is recorded by audit first), only where
 * missing: expected_version 0 creates, so a profile an operator has since changed is never
 * overwritten. Without a profile every withdrawal is held for review (customer_unknown).
 */
export async function ensureCustomerProfiles() {
  const grpc = await import('@grpc/grpc-js');
  const { CustomerProfileServiceClient, KycStatus, UpsertCustomerProfileRequest, timestampFromDate } = await import('@custody/contracts');
  const c = clientTls('operator');
  const client = new CustomerProfileServiceClient(`127.0.0.1:${PORTS.risk}`, grpc.credentials.createSsl(c.ca, c.key, c.cert), TLS_NAME);
  let recorded = 0;
  try {
    for (const a of ACCOUNTS) {
      const exists = await unary(client, 'getCustomerProfile', { customerAccount: a.id }).then(
        () => true,
        (err) => {
          if (err.code === grpc.status.NOT_FOUND) return false;
          throw err;
        },
      );
      if (exists) continue;
      const request = UpsertCustomerProfileRequest.fromPartial({ customerAccount: a.id, kycStatus: KycStatus.KYC_STATUS_VERIFIED, jurisdiction: 'US', openedAt: timestampFromDate(new Date(a.openedAt)), expectedVersion: 0, note: 'distributed up: demo customer' });
      await unary(client, 'upsertCustomerProfile', request);
      recorded++;
    }
  } finally {
    client.close();
  }
  return { recorded };
}
