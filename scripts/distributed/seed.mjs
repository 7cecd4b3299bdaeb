// What the pipeline needs before a withdrawal can go through, done through the services'
// own APIs where they have one:
//   signer   the hot wallet key: generation ceremony + 24 h activation over KeyAdminService,
//            each signed by two key custodians (op-carol, op-dave: the admin quorum)
//   anvil    the hot wallet funded (anvil_setBalance)
//   intake   the demo integrator registered over IntakeAdminService (operator mTLS + Ed25519)
//   risk     the demo customers' whitelisted destinations on the allow list (ScreeningListService, mTLS)
//   ledger   opening balances: deposit.detected FINAL events on Kafka (see docs/distributed.md:
//            the ledger has no API to book them, and the chain-adapter's deposits carry no client id)
import { randomBytes, randomUUID } from 'node:crypto';
import { ACCOUNTS, ASSET, CHAIN, CLIENT_ID, ETH, HOT_KEY, HOT_WALLET, PORTS, TLS_NAME, clientTls, rpc } from './lib.mjs';

const HOT_WALLET_FUNDING = 1_000n * ETH;

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

export async function fundHotWallet(address) {
  const balance = BigInt(await rpc('eth_getBalance', [address, 'latest']));
  if (balance >= HOT_WALLET_FUNDING / 2n) return { funded: false, balance };
  await rpc('anvil_setBalance', [address, `0x${HOT_WALLET_FUNDING.toString(16)}`]);
  return { funded: true, balance: HOT_WALLET_FUNDING };
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

/** Opening balances as deposit.detected FINAL (deposit id per customer: booked once). */
export async function publishOpeningBalances(brokers) {
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
    if (unbooked.length === 0) return 0;
    const messages = unbooked.map((a) => {
      const depositId = `opening-${CLIENT_ID}-${a.id}`;
      const message = DepositDetected.fromPartial({
        depositId,
        chain: CHAIN,
        asset: ASSET,
        address: '',
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
    return messages.length;
  } finally {
    await bus.close();
  }
}

/**
 * The demo customers' KYC profiles in risk (verified, US, opening date). Risk run as a process
 * has no way to receive them (no RPC, no event, no config file: only the in-process handle's
 * recordCustomerProfile — see docs/distributed.md), and without a profile every withdrawal is
 * held for review (customer_unknown). Written here as risk's own store writes them (same row,
 * same audit-log entry), as risk's owner role, only where missing.
 */
export async function ensureCustomerProfiles(riskOwnerUrl) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: riskOwnerUrl });
  await client.connect();
  let recorded = 0;
  try {
    for (const a of ACCOUNTS) {
      const { rowCount } = await client.query('SELECT 1 FROM "risk"."risk_customer" WHERE "customer_account" = $1', [a.id]);
      if (rowCount) continue;
      const at = new Date();
      await client.query('BEGIN');
      await client.query('INSERT INTO "risk"."risk_customer" ("customer_account", "kyc_status", "jurisdiction", "opened_at", "updated_by", "updated_at") VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ("customer_account") DO NOTHING', [a.id, 'verified', 'US', new Date(a.openedAt), 'distributed-seed', at]);
      await client.query('INSERT INTO "risk"."risk_audit_log" ("id", "at", "actor", "action", "subject", "detail") VALUES ($1, $2, $3, $4, $5, $6)', [randomUUID(), at, 'distributed-seed', 'customer.profile.recorded', a.id, JSON.stringify({ kycStatus: 'verified', jurisdiction: 'US' })]);
      await client.query('COMMIT');
      recorded++;
    }
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  return { recorded };
}
