// Fee-bump re-signature on the real PostgreSQL: the signed payload is kept per decision
// (signed_decision.signed_payload), a bump is checked against it under the key and decision
// row locks, and two concurrent, mutually incompatible bumps cannot both be signed.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServiceDataSource } from '@custody/platform';
import { TxSigned, Topics } from '@custody/contracts';
import { protobufEnvelopeCodec } from '@custody/event-bus';
import type { DataSource } from 'typeorm';
import { SIGNER_ENTITIES } from '../../src/index.js';
import { identityTopics } from '../../src/adapters/events.js';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../../src/adapters/custody/local-sealed.js';
import { PostgresKeyStore, PostgresSigningStore } from '../../src/adapters/persistence/postgres-stores.js';
import { KeyLifecycle, generationRequest } from '../../src/application/key-lifecycle.js';
import { SignTransaction } from '../../src/application/sign-transaction.js';
import { decodeEip1559Transaction, eip1559UnsignedPayload } from '../../src/domain/crypto/evm.js';
import { ETH, assets, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys } from '../fixtures.js';
import { createTestDatabase, type TestDatabase } from './support.js';

const GWEI = 1_000_000_000n;
const clock = { now: () => new Date() };
const ctx = () => ({ eventId: randomUUID(), correlationId: randomUUID() });
let db: TestDatabase;
let dataSource: DataSource;
let useCase: SignTransaction;
let local: LocalSealedKeyCustody;
const walletId = `eth-hot-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  db = await createTestDatabase();
  dataSource = createServiceDataSource({ service: 'signer', url: db.appUrl, schema: db.schema, entities: SIGNER_ENTITIES });
  await dataSource.initialize();
  local = new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-bump-it', store: new InMemorySealedBlobStore() });
  const custody = new Map([[local.kind, local]]);
  const lifecycle = new KeyLifecycle({ store: new PostgresKeyStore(dataSource, identityTopics), custody, clock, operators, adminRoles: ['key_custodian'] });
  const expiresAt = Math.floor(Date.now() / 1000) + 300;
  const gen = { requestId: randomUUID(), keyId: `key-${walletId}`, walletId, chain: ETH.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
  const key = await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const act = { requestId: randomUUID(), keyId: key.keyId, transition: 'activate' as const, ttlSeconds: 3600, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'test activation');
  useCase = new SignTransaction({ store: new PostgresSigningStore(dataSource, identityTopics), custody, clock, trustedPolicyKeys, operators, assets });
}, 60_000);

afterAll(async () => {
  await dataSource?.destroy();
  await local?.close();
  await db?.drop();
});

async function decisionRow(decisionId: string) {
  const rows = await db.admin<{ status: string; tx_hash: string; signed_payload: Buffer | null; fee_bumps: number }>('SELECT status, tx_hash, signed_payload, fee_bumps FROM signed_decision WHERE decision_id = $1', [decisionId]);
  return rows[0];
}

/** tx.signed events in the outbox for one decision, decoded. */
async function signedEvents(decisionId: string): Promise<TxSigned[]> {
  const rows = await db.admin<{ topic: string; envelope: Buffer }>(`SELECT * FROM outbox ORDER BY seq`);
  return rows
    .filter((r) => r.topic === Topics.txSigned)
    .map((r) => TxSigned.decode(protobufEnvelopeCodec.decode(new Uint8Array(r.envelope)).payload))
    .filter((m) => m.decisionId === decisionId);
}

describe('fee bump re-signature on PostgreSQL (signed payload kept per decision, bump checked under the row locks)', () => {
  it('stores the signed payload, signs a higher-fee bump of it, refuses a lower one and a replay as DECISION_ALREADY_USED', async () => {
    const s = scenario(walletId, clock.now());
    expect(await useCase.handle(prepared(s), ctx())).toBe('signed');
    const first = await decisionRow(s.decisionId);
    expect(first?.fee_bumps).toBe(0);
    expect(new Uint8Array(first?.signed_payload ?? Buffer.alloc(0))).toEqual(eip1559UnsignedPayload(s.tx));

    const bump = { maxFeePerGas: 40n * GWEI, maxPriorityFeePerGas: 2n * GWEI };
    expect(await useCase.handle(prepared(s, { tx: bump }), ctx())).toBe('signed');
    const bumped = await decisionRow(s.decisionId);
    expect(bumped).toMatchObject({ status: 'signed', fee_bumps: 1 });
    expect(bumped?.tx_hash).not.toBe(first?.tx_hash);
    expect(new Uint8Array(bumped?.signed_payload ?? Buffer.alloc(0))).toEqual(eip1559UnsignedPayload({ ...s.tx, ...bump }));
    const events = await signedEvents(s.decisionId);
    expect(events.map((e) => e.txHash)).toEqual([first?.tx_hash, bumped?.tx_hash]);
    const decoded = decodeEip1559Transaction(new Uint8Array(events[1]?.signedTx ?? Buffer.alloc(0)));
    expect(decoded.tx).toMatchObject({ nonce: s.tx.nonce, value: s.tx.value, ...bump });

    // 35 gwei is above the original but below the payload signed last: refused, nothing changes.
    expect(await useCase.handle(prepared(s, { tx: { maxFeePerGas: 35n * GWEI, maxPriorityFeePerGas: 2n * GWEI } }), ctx())).toBe('refused');
    expect(await useCase.handle(prepared(s, { tx: bump }), ctx())).toBe('refused');
    expect(await decisionRow(s.decisionId)).toMatchObject({ fee_bumps: 1, tx_hash: bumped?.tx_hash });
    expect(await signedEvents(s.decisionId)).toHaveLength(2);
  });

  it('two concurrent bumps that are not bumps of each other: exactly one is signed', async () => {
    const s = scenario(walletId, clock.now());
    expect(await useCase.handle(prepared(s), ctx())).toBe('signed');
    // A: higher max fee, same tip; B: same max fee + 1 gwei, higher tip. Each is a bump of the
    // original, neither is a bump of the other (one fee field would decrease).
    const a = prepared(s, { tx: { maxFeePerGas: 50n * GWEI, maxPriorityFeePerGas: 1n * GWEI } });
    const b = prepared(s, { tx: { maxFeePerGas: 31n * GWEI, maxPriorityFeePerGas: 3n * GWEI } });
    const results = await Promise.all([useCase.handle(a, ctx()), useCase.handle(b, ctx())]);
    expect([...results].sort()).toEqual(['refused', 'signed']);
    expect(await decisionRow(s.decisionId)).toMatchObject({ fee_bumps: 1 });
    expect(await signedEvents(s.decisionId)).toHaveLength(2);
  });
});
