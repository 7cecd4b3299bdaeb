// The offline signer CLI (src/offline-cli.ts) end to end: a batch exported online is signed
// by `custody-offline-sign` in a CHILD PROCESS inside an empty network namespace
// (`unshare -rn`: no interface up, like a device without NICs) with a guard that fails and
// records any socket/DNS attempt; the signed batch is imported by the online signer on the
// real PostgreSQL, which re-verifies everything (a tampered signed batch is refused).
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import * as bitcoin from 'bitcoinjs-lib';
import { createServiceDataSource } from '@custody/platform';
import type { DataSource } from 'typeorm';
import { SIGNER_ENTITIES } from '../../src/index.js';
import { identityTopics } from '../../src/adapters/events.js';
import { initOfflineDevice, openOfflineDevice } from '../../src/adapters/offline/device-store.js';
import { PostgresKeyStore, PostgresSigningStore } from '../../src/adapters/persistence/postgres-stores.js';
import { exportColdBatch, importSignedColdBatch, type ColdBatch, type SignedColdBatch } from '../../src/application/cold-signing.js';
import { KeyLifecycle, generationRequest } from '../../src/application/key-lifecycle.js';
import { SignTransaction } from '../../src/application/sign-transaction.js';
import { signEip1559Transaction } from '../../src/domain/crypto/evm.js';
import type { KeyRecord } from '../../src/domain/key.js';
import { AMOUNT, ETH, POLICY_KEY_ID, approve, assets, operators, ops, policySeed, prepared, scenario, signTransition, trustedPolicyKeys, type Scenario } from '../fixtures.js';
import { createTestDatabase, type TestDatabase } from './support.js';

const here = dirname(fileURLToPath(import.meta.url));
const signerRoot = join(here, '..', '..');
const cli = join(signerRoot, 'src', 'offline-cli.ts');
const register = join(here, 'offline', 'register.mjs');

const clock = { now: () => new Date() };
let db: TestDatabase;
let dataSource: DataSource;
let online: SignTransaction;
let work: string;
let device: string;
let masterKeyFile: string;
let coldKey: KeyRecord;
const walletId = `eth-cold-${randomUUID().slice(0, 8)}`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  modules: Array<{ url: string; parent: string | null }>;
  network: string[];
}

/** custody-offline-sign in a child process, no network namespace interface, module log + network guard. */
async function runCli(args: string[]): Promise<Run> {
  const log = join(work, `modules-${randomUUID()}.log`);
  const r = spawnSync('unshare', ['-rn', process.execPath, '--import', register, cli, ...args], {
    cwd: signerRoot,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OFFLINE_CLI_MODULE_LOG: log },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const lines = existsSync(log) ? (await readFile(log, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string | null>) : [];
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    modules: lines.filter((l) => typeof l['url'] === 'string').map((l) => ({ url: l['url'] as string, parent: l['parent'] ?? null })),
    network: lines.flatMap((l) => (typeof l['network'] === 'string' ? [l['network']] : [])),
  };
}

beforeAll(async () => {
  db = await createTestDatabase();
  dataSource = createServiceDataSource({ service: 'signer', url: db.appUrl, schema: db.schema, entities: SIGNER_ENTITIES });
  await dataSource.initialize();
  work = await mkdtemp(join(tmpdir(), 'offline-cli-'));
  device = join(work, 'device');
  masterKeyFile = join(work, 'master.key');
  await writeFile(masterKeyFile, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600 });

  // Device ceremony (on the offline machine): public config, then generate + activate the cold key there.
  await initOfflineDevice(device, {
    kekId: 'cold-kek-1',
    policyKeys: { [POLICY_KEY_ID]: Buffer.from(ed25519.getPublicKey(policySeed)).toString('hex') },
    operators: [...operators.values()].map((o) => ({ operatorId: o.operatorId, roles: [...o.roles], keys: Object.fromEntries([...o.keys].map(([k, v]) => [k, Buffer.from(v).toString('hex')])) })),
    assets: [
      { asset: ETH.asset, chain: ETH.chain, kind: 'evm', chainId: ETH.chainId.toString(), maxFee: ETH.maxFee.toString(), tierCaps: { hot: ETH.tierCaps.hot.toString(), warm: ETH.tierCaps.warm.toString(), cold: ETH.tierCaps.cold.toString() } },
      { asset: 'BTC', chain: 'bitcoin-regtest', kind: 'bitcoin', network: 'regtest', maxFee: '50000', tierCaps: { hot: '100000000', warm: '1000000000', cold: '1000000000000' } },
    ],
  });
  const masterKey = Uint8Array.from(Buffer.from((await readFile(masterKeyFile, 'utf8')).trim(), 'hex'));
  const opened = await openOfflineDevice(device, masterKey, clock);
  const lifecycle = new KeyLifecycle({ store: opened.stores, custody: opened.custodies, clock, operators, adminRoles: ['key_custodian'] });
  const expiresAt = Math.floor(Date.now() / 1000) + 300;
  const gen = { requestId: randomUUID(), keyId: `key-${walletId}`, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'cold' as const, custody: 'local-sealed' as const, expiresAt };
  coldKey = await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const act = { requestId: randomUUID(), keyId: coldKey.keyId, transition: 'activate' as const, ttlSeconds: 900, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'cold ceremony');
  await opened.save();
  await opened.close();

  // Online: the inventory has the cold key's public facts only (inactive); no custody at all.
  await new PostgresKeyStore(dataSource, identityTopics).insertKey({ ...coldKey, state: 'inactive', activeUntil: undefined, signaturesLeft: undefined }, []);
  online = new SignTransaction({ store: new PostgresSigningStore(dataSource, identityTopics), custody: new Map(), clock, trustedPolicyKeys, operators, assets });
}, 120_000);

afterAll(async () => {
  await dataSource?.destroy();
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function decisionStatus(decisionId: string): Promise<string | undefined> {
  const rows = await db.admin<{ status: string }>('SELECT status FROM signed_decision WHERE decision_id = $1', [decisionId]);
  return rows[0]?.status;
}

async function signedEventsInOutbox(): Promise<number> {
  const rows = await db.admin<{ n: string }>(`SELECT count(*)::text AS n FROM outbox WHERE topic LIKE '%tx.signed%'`);
  return Number(rows[0]?.n);
}

/** A BTC withdrawal whose PSBT pays the approved destination AND a foreign address (tampered outputs). */
function tamperedPsbtRequest(): { s: Scenario; request: ReturnType<typeof prepared> } {
  const net = bitcoin.networks.regtest;
  const p2wpkh = (pubkey: Uint8Array) => bitcoin.payments.p2wpkh({ pubkey, network: net });
  const [own, destination, foreign] = [0, 1, 2].map(() => p2wpkh(secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true)));
  if (!own?.output || !destination?.address || !destination.output || !foreign?.output) throw new Error('p2wpkh');
  const base = scenario(`btc-cold-${randomUUID().slice(0, 8)}`, clock.now());
  const s: Scenario = { ...base, claims: { ...base.claims, asset: 'BTC', destination: { address: destination.address }, amount: 250_000n } };
  const psbt = new bitcoin.Psbt({ network: net });
  psbt.addInput({ hash: new Uint8Array(randomBytes(32)), index: 0, witnessUtxo: { script: own.output, value: 400_000n } });
  psbt.addOutput({ script: destination.output, value: 250_000n });
  psbt.addOutput({ script: foreign.output, value: 140_000n });
  const request = prepared(s, {
    approvals: [approve(s, ops.alice), approve(s, ops.bob)],
    fields: { chain: 'bitcoin-regtest', asset: 'BTC', destinationAddress: destination.address, amount: '250000', feeCap: '20000', nonce: '0', unsignedTx: Buffer.from(psbt.toBuffer()) },
  });
  return { s, request };
}

const NETWORK_MODULE = /^node:(net|http|https|http2|tls|dgram|dns)$|\/node_modules\/(@grpc\/|kafkajs\/|pg\/|typeorm\/|undici\/)/;

describe('C-9.3.7.4-a custody-offline-sign: export online → sign in a process with no network → import re-verifies (real PostgreSQL)', () => {
  it('signs the approved items offline, refuses the tampered ones there (EVM amount, PSBT outputs); the import emits tx.signed only for verified items and refuses a tampered signed batch', async () => {
    const good1 = scenario(walletId, clock.now());
    const good2 = scenario(walletId, clock.now());
    const tampered = scenario(walletId, clock.now());
    const btc = tamperedPsbtRequest();
    const batch = exportColdBatch(`batch-${randomUUID()}`, [prepared(good1), prepared(good2), prepared(tampered, { tx: { value: AMOUNT * 3n } }), btc.request], clock.now());
    await writeFile(join(work, 'in.json'), JSON.stringify(batch));

    const run = await runCli(['--batch', join(work, 'in.json'), '--key-store', device, '--master-key-file', masterKeyFile, '--out', join(work, 'signed.json')]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({
      signed: 2,
      refused: [
        { decisionId: tampered.decisionId, code: 'TX_AMOUNT_MISMATCH' },
        { decisionId: btc.s.decisionId, code: 'TX_EXTRA_OUTPUT' },
      ],
    });
    // No socket or DNS attempt was made (the guard records and throws), inside a namespace with no interface up.
    expect(run.network).toEqual([]);
    // The signer's own modules import no network module (network stacks only arrive through the
    // @custody/platform and @custody/contracts barrels; see docs/signer.md).
    const ownNetworkImports = run.modules.filter((m) => NETWORK_MODULE.test(m.url) && (m.parent ?? '').includes('/services/signer/src/'));
    expect(ownNetworkImports).toEqual([]);
    expect(run.modules.some((m) => m.url.endsWith('/services/signer/src/application/sign-transaction.ts'))).toBe(true);

    const signed = JSON.parse(await readFile(join(work, 'signed.json'), 'utf8')) as SignedColdBatch;
    expect(signed.results.map((r) => r.kind)).toEqual(['signed', 'signed', 'refused', 'refused']);
    // Nothing secret in what leaves the device.
    const deviceFiles = (await readFile(join(device, 'device.json'), 'utf8')) + JSON.stringify(signed) + run.stdout;
    expect(deviceFiles).not.toContain((await readFile(masterKeyFile, 'utf8')).trim());

    // A tampered signed batch: good1 replaced by a different transaction signed by a stranger.
    const forged: SignedColdBatch = {
      ...signed,
      results: signed.results.map((r) => (r.decisionId === good1.decisionId && r.kind === 'signed' ? { ...r, signedTx: Buffer.from(signEip1559Transaction({ ...good1.tx, value: AMOUNT * 3n }, randomBytes(32)).raw).toString('base64') } : r)),
    };
    const first = await importSignedColdBatch(batch, forged, online);
    expect(first.map((r) => r.result)).toEqual(['refused', 'signed', 'refused-offline', 'refused-offline']);
    expect(await decisionStatus(good1.decisionId)).toBeUndefined(); // refused before the reservation: not spent
    expect(await decisionStatus(good2.decisionId)).toBe('signed');

    // A signed batch that does not belong to the exported one is refused as a whole.
    await expect(importSignedColdBatch(batch, { ...signed, batchDigest: '00'.repeat(32) }, online)).rejects.toMatchObject({ code: 'BACKUP_INVALID' });

    // The genuine signed batch: good1 now verifies; good2 is a duplicate; nothing else is signed.
    const second = await importSignedColdBatch(batch, signed, online);
    expect(second.map((r) => r.result)).toEqual(['signed', 'duplicate', 'refused-offline', 'refused-offline']);
    expect(await decisionStatus(good1.decisionId)).toBe('signed');
    expect(await decisionStatus(tampered.decisionId)).toBeUndefined();
    expect(await signedEventsInOutbox()).toBe(2);
  }, 180_000);

  it('the device journal persists: a decision signed offline is refused DECISION_ALREADY_USED in a later batch; bad usage exits 2', async () => {
    const s = scenario(walletId, clock.now());
    const first = exportColdBatch(`batch-${randomUUID()}`, [prepared(s)], clock.now());
    await writeFile(join(work, 'j1.json'), JSON.stringify(first));
    const run1 = await runCli(['--batch', join(work, 'j1.json'), '--key-store', device, '--master-key-file', masterKeyFile, '--out', join(work, 'j1-signed.json')]);
    expect(run1.status).toBe(0);
    expect(JSON.parse(run1.stdout)).toMatchObject({ signed: 1, refused: [] });

    const again: ColdBatch = exportColdBatch(`batch-${randomUUID()}`, [prepared(s)], clock.now());
    await writeFile(join(work, 'j2.json'), JSON.stringify(again));
    const run2 = await runCli(['--batch', join(work, 'j2.json'), '--key-store', device, '--master-key-file', masterKeyFile, '--out', join(work, 'j2-signed.json')]);
    expect(run2.status).toBe(0);
    expect(JSON.parse(run2.stdout)).toEqual({ signed: 0, refused: [{ decisionId: s.decisionId, code: 'DECISION_ALREADY_USED' }] });

    const usage = await runCli(['--batch', join(work, 'j2.json')]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: custody-offline-sign');
  }, 180_000);
});
