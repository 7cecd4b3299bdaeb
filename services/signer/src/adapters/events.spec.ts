// key.lifecycle carries the wallet id and the key's chain address (the contract chain-adapter's
// wallet registry relies on: tx.* source_wallet is a wallet id, source_address the address).
import { describe, expect, it } from '@jest/globals';
import { KeyLifecycle, KeyPurpose, KeyTransition, Topics, decodePayload } from '@custody/contracts';
import type { KeyRecord } from '../domain/key.js';
import { identityTopics, keyLifecycleEntry } from './events.js';

const at = new Date('2026-11-24T12:00:00Z');
const key: KeyRecord = {
  keyId: 'key-1',
  walletId: 'eth-hot-01',
  chain: 'ethereum-local',
  algorithm: 'secp256k1',
  purpose: 'signature',
  tier: 'hot',
  custody: 'local-sealed',
  custodyRef: 'ref',
  publicKey: new Uint8Array(33),
  address: '0x00000000000000000000000000000000000000aa',
  state: 'suspended',
  activeUntil: undefined,
  signaturesLeft: undefined,
  updatedAt: at,
};

describe('keyLifecycleEntry', () => {
  it('names the wallet id and the chain address on every transition, keyed by the key id', () => {
    const entry = keyLifecycleEntry(key, { keyId: 'key-1', transition: 'suspended', from: 'active', to: 'suspended', actor: 'erin', reason: 'drill', at }, undefined, { correlationId: 'c' }, identityTopics);
    expect(entry.topic).toBe(Topics.keyLifecycle);
    expect(entry.envelope.key).toBe('key-1');
    const decoded = decodePayload(entry.envelope);
    expect(decoded.type).toBe(Topics.keyLifecycle);
    const m = decoded.message as KeyLifecycle;
    expect(m).toMatchObject({ keyId: 'key-1', walletId: 'eth-hot-01', address: '0x00000000000000000000000000000000000000aa', chain: 'ethereum-local', transition: KeyTransition.KEY_TRANSITION_SUSPENDED, purpose: KeyPurpose.KEY_PURPOSE_SIGNATURE });
  });

  it('an address-less key (Ed25519) carries an empty address but still its wallet id', () => {
    const entry = keyLifecycleEntry({ ...key, algorithm: 'ed25519', address: '' }, { keyId: 'key-1', transition: 'generated', from: undefined, to: 'generated', actor: 'a,b', reason: 'ceremony', at }, undefined, { correlationId: 'c' }, identityTopics);
    const m = KeyLifecycle.decode(entry.envelope.payload);
    expect(m.walletId).toBe('eth-hot-01');
    expect(m.address).toBe('');
    expect(m.transition).toBe(KeyTransition.KEY_TRANSITION_GENERATED);
  });
});
