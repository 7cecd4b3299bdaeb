import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../adapters/custody/local-sealed.js';
import { MemoryStores } from '../adapters/offline/memory-stores.js';
import { TxPrepared } from '@custody/contracts';
import { eip1559SigningHash, serializeSignedEip1559, signEip1559Transaction } from '../domain/crypto/evm.js';
import { exportColdBatch, importSignedColdBatch, signColdBatch, type SignedColdBatch } from './cold-signing.js';
import { KeyLifecycle, generationRequest } from './key-lifecycle.js';
import { SignTransaction } from './sign-transaction.js';
import { AMOUNT, ETH, assets, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys } from '../../test/fixtures.js';

const clock = { now: () => new Date(Date.UTC(2026, 10, 24, 10, 0, 0)) };

async function setup() {
  // Offline device: local sealed store, its own journal; same SignTransaction code.
  const offlineStores = new MemoryStores();
  const local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'cold-kek', store: new InMemorySealedBlobStore() });
  const custody = new Map([[local.kind, local]]);
  const lifecycle = new KeyLifecycle({ store: offlineStores, custody, clock, operators, adminRoles: ['key_custodian'] });
  const walletId = `eth-cold-${randomUUID().slice(0, 6)}`;
  const expiresAt = Math.floor(clock.now().getTime() / 1000) + 300;
  const gen = { requestId: randomUUID(), keyId: `key-${walletId}`, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'cold' as const, custody: 'local-sealed' as const, expiresAt };
  const key = await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const act = { requestId: randomUUID(), keyId: key.keyId, transition: 'activate' as const, ttlSeconds: 900, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'cold ceremony');
  const offline = new SignTransaction({ store: offlineStores, custody, clock, trustedPolicyKeys, operators, assets });
  // Online: the inventory knows the cold key's public facts only; no custody at all.
  const onlineStores = new MemoryStores();
  onlineStores.keys.set(key.keyId, { ...key, state: 'inactive' });
  const online = new SignTransaction({ store: onlineStores, custody: new Map(), clock, trustedPolicyKeys, operators, assets });
  return { walletId, offline, offlineStores, online, onlineStores, local, key };
}

describe('C-9.3.7.4-a offline (cold) signing: export → air-gapped sign with the same checks → import re-verifies everything', () => {
  it('signs the approved items offline, refuses a tampered one there, and the import emits tx.signed only for verified items', async () => {
    const w = await setup();
    const good1 = scenario(w.walletId, clock.now());
    const tampered = scenario(w.walletId, clock.now());
    const good2 = scenario(w.walletId, clock.now());
    const batch = exportColdBatch('batch-1', [prepared(good1), prepared(tampered, { tx: { value: AMOUNT * 3n } }), prepared(good2)], clock.now());
    const signed = await signColdBatch(JSON.parse(JSON.stringify(batch)), { useCase: w.offline, outcomes: () => w.offlineStores.outcomes });
    expect(signed.results.map((r) => (r.kind === 'signed' ? 'signed' : r.code))).toEqual(['signed', 'TX_AMOUNT_MISMATCH', 'signed']);
    const imported = await importSignedColdBatch(batch, JSON.parse(JSON.stringify(signed)), w.online);
    expect(imported.map((r) => r.result)).toEqual(['signed', 'refused-offline', 'signed']);
    expect(w.onlineStores.outcomes.filter((o) => o.kind === 'signed').map((o) => o.decisionId)).toEqual([good1.decisionId, good2.decisionId]);
    // importing the same signed batch again signs nothing more
    const again = await importSignedColdBatch(batch, signed, w.online);
    expect(again.map((r) => r.result)).toEqual(['duplicate', 'refused-offline', 'duplicate']);
    expect(w.onlineStores.outcomes.filter((o) => o.kind === 'signed')).toHaveLength(2);
  });

  it('the import refuses a signed tx that is not the exported one (compromised offline signer), or signed by another key', async () => {
    const w = await setup();
    const s1 = scenario(w.walletId, clock.now());
    const s2 = scenario(w.walletId, clock.now());
    const batch = exportColdBatch('batch-2', [prepared(s1), prepared(s2)], clock.now());
    const signed = await signColdBatch(batch, { useCase: w.offline, outcomes: () => w.offlineStores.outcomes });
    // item 1: a different tx (3x the amount) signed with the real cold key; item 2: the exported tx signed by a stranger
    const refRow = [...w.offlineStores.keys.values()][0];
    if (!refRow) throw new Error('no key');
    const swappedTx = { ...s1.tx, value: AMOUNT * 3n };
    const r = await w.local.sign(refRow.custodyRef, { algorithm: 'secp256k1', digest: eip1559SigningHash(swappedTx) });
    if (r.algorithm !== 'secp256k1') throw new Error('alg');
    const rogue = serializeSignedEip1559(swappedTx, r.signature).raw;
    const stranger = signEip1559Transaction(s2.tx, randomBytes(32)).raw;
    const forged: SignedColdBatch = {
      ...signed,
      results: [
        { decisionId: s1.decisionId, kind: 'signed', signedTx: Buffer.from(rogue).toString('base64'), txHash: '0x', keyId: refRow.keyId },
        { decisionId: s2.decisionId, kind: 'signed', signedTx: Buffer.from(stranger).toString('base64'), txHash: '0x', keyId: refRow.keyId },
      ],
    };
    const imported = await importSignedColdBatch(batch, forged, w.online);
    expect(imported.map((r) => r.result)).toEqual(['refused', 'refused']);
    expect(w.onlineStores.outcomes.map((o) => (o.kind === 'refused' ? o.refusal.code : 'signed'))).toEqual(['TX_MALFORMED', 'TX_SENDER_MISMATCH']);
  });

  it('an altered batch file is refused before anything is signed', async () => {
    const w = await setup();
    const batch = exportColdBatch('batch-3', [prepared(scenario(w.walletId, clock.now()))], clock.now());
    const altered = { ...batch, items: [Buffer.from(TxPrepared.encode(prepared(scenario(w.walletId, clock.now()))).finish()).toString('base64')] };
    await expect(signColdBatch(altered, { useCase: w.offline, outcomes: () => w.offlineStores.outcomes })).rejects.toMatchObject({ code: 'BACKUP_INVALID' });
    expect(w.offlineStores.outcomes).toHaveLength(0);
  });
});
