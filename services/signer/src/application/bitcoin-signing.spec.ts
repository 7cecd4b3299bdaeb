// Bitcoin through the tx.prepared flow (SignTransaction.handle), unit tier: local sealed
// custody, in-memory stores. PSBTs are built with bitcoinjs-lib (an independent library) and
// the signed transaction is validated with bitcoinjs-lib's own BIP-143 sighash code.
import { randomBytes, randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import * as bitcoin from 'bitcoinjs-lib';
import { InMemorySealedBlobStore, LocalSealedKeyCustody } from '../adapters/custody/local-sealed.js';
import type { RefusalCode } from '../domain/refusal.js';
import type { KeyCustody } from './key-custody.js';
import { KeyLifecycle, generationRequest } from './key-lifecycle.js';
import { SignTransaction, type BitcoinAssetProfile } from './sign-transaction.js';
import { MemoryStores, approve, operators, ops, prepared, scenario, signTransition, trustedPolicyKeys, type Scenario } from '../../test/fixtures.js';

const NET = bitcoin.networks.regtest;
const AMOUNT = 250_000n;
const FEE_CAP = 20_000n;
const p2wpkh = (pubkey: Uint8Array) => {
  const out = bitcoin.payments.p2wpkh({ pubkey, network: NET });
  if (!out.output || !out.address) throw new Error('p2wpkh');
  return { script: out.output, address: out.address };
};
const foreignKey = () => secp256k1.getPublicKey(secp256k1.utils.randomSecretKey(), true);
const DESTINATION = p2wpkh(foreignKey());
const OTHER = p2wpkh(foreignKey());
// Account-level tpub whose /1/i keys are our change addresses (HD change wallet of the asset).
const changeAccount = HDKey.fromMasterSeed(randomBytes(32), { private: 0x04358394, public: 0x043587cf }).derive("m/84'/1'/0'");

class Clock {
  ms = Date.UTC(2026, 10, 24, 10, 0, 0);
  now(): Date {
    return new Date(this.ms);
  }
}

function btcProfile(changeXpub?: string): BitcoinAssetProfile {
  return { asset: 'BTC', chain: 'bitcoin-regtest', kind: 'bitcoin', network: 'regtest', maxFee: 50_000n, tierCaps: { hot: 10n ** 8n, warm: 10n ** 9n, cold: 10n ** 12n }, ...(changeXpub ? { changeXpub } : {}) };
}

class CountingCustody implements KeyCustody {
  signCalls = 0;
  constructor(private readonly inner: KeyCustody) {}
  get kind() {
    return this.inner.kind;
  }
  generateKey: KeyCustody['generateKey'] = (a, l) => this.inner.generateKey(a, l);
  publicKey: KeyCustody['publicKey'] = (r, a) => this.inner.publicKey(r, a);
  sign: KeyCustody['sign'] = (r, req) => {
    this.signCalls++;
    return this.inner.sign(r, req);
  };
  destroyKey: KeyCustody['destroyKey'] = (r) => this.inner.destroyKey(r);
  close: KeyCustody['close'] = () => this.inner.close();
}

interface World {
  stores: MemoryStores;
  custody: CountingCustody;
  useCase: SignTransaction;
  walletId: string;
  walletPub: Uint8Array;
  clock: Clock;
}

async function world(profile: BitcoinAssetProfile = btcProfile()): Promise<World> {
  const clock = new Clock();
  const stores = new MemoryStores();
  const custody = new CountingCustody(new LocalSealedKeyCustody({ masterKey: randomBytes(32), kekId: 'kek-btc', store: new InMemorySealedBlobStore() }));
  const custodies = new Map([[custody.kind, custody as KeyCustody]]);
  const lifecycle = new KeyLifecycle({ store: stores, custody: custodies, clock, operators, adminRoles: ['key_custodian', 'security_officer'] });
  const walletId = `btc-hot-${randomUUID().slice(0, 8)}`;
  const keyId = `key-${walletId}`;
  const expiresAt = Math.floor(clock.ms / 1000) + 300;
  const gen = { requestId: randomUUID(), keyId, walletId, chain: profile.chain, algorithm: 'secp256k1' as const, tier: 'hot' as const, custody: 'local-sealed' as const, expiresAt };
  await lifecycle.generate(gen, [signTransition(generationRequest(gen), ops.carol), signTransition(generationRequest(gen), ops.dave)]);
  const act = { requestId: randomUUID(), keyId, transition: 'activate' as const, ttlSeconds: 3600, expiresAt };
  await lifecycle.transition(act, [signTransition(act, ops.carol), signTransition(act, ops.dave)], 'test activation');
  const key = stores.keys.get(keyId);
  if (!key) throw new Error('key');
  const useCase = new SignTransaction({ store: stores, custody: custodies, clock, trustedPolicyKeys, operators, assets: new Map([[profile.asset, profile]]) });
  return { stores, custody, useCase, walletId, walletPub: key.publicKey, clock };
}

function btcScenario(w: World): Scenario {
  const s = scenario(w.walletId, w.clock.now());
  return { ...s, claims: { ...s.claims, asset: 'BTC', destination: { address: DESTINATION.address }, amount: AMOUNT } };
}

interface PsbtSpec {
  inputs: Array<{ script: Uint8Array; value: bigint; bip32?: { pubkey: Uint8Array } }>;
  outputs: Array<{ script: Uint8Array; value: bigint; bip32?: { pubkey: Uint8Array; path: string } }>;
}

/** Honest: 300k + 100k from the wallet; 250k to the destination, 140k change back, fee 10k. */
function honest(w: World): PsbtSpec {
  const own = p2wpkh(w.walletPub);
  return {
    inputs: [
      { script: own.script, value: 300_000n },
      { script: own.script, value: 100_000n },
    ],
    outputs: [
      { script: DESTINATION.script, value: AMOUNT },
      { script: own.script, value: 140_000n },
    ],
  };
}

function build(spec: PsbtSpec): bitcoin.Psbt {
  const psbt = new bitcoin.Psbt({ network: NET });
  spec.inputs.forEach((i, n) =>
    psbt.addInput({
      hash: new Uint8Array(randomBytes(32)),
      index: n,
      witnessUtxo: { script: i.script, value: i.value },
      ...(i.bip32 ? { bip32Derivation: [{ masterFingerprint: new Uint8Array([1, 2, 3, 4]), path: "m/84'/1'/0'/0/0", pubkey: i.bip32.pubkey }] } : {}),
    }),
  );
  for (const o of spec.outputs) {
    psbt.addOutput({ script: o.script, value: o.value, ...(o.bip32 ? { bip32Derivation: [{ masterFingerprint: new Uint8Array([1, 2, 3, 4]), path: o.bip32.path, pubkey: o.bip32.pubkey }] } : {}) });
  }
  return psbt;
}

function request(w: World, s: Scenario, spec: PsbtSpec | Uint8Array, feeCap = FEE_CAP) {
  const unsigned = spec instanceof Uint8Array ? spec : build(spec).toBuffer();
  return prepared(s, {
    approvals: [approve(s, ops.alice), approve(s, ops.bob)],
    fields: { chain: 'bitcoin-regtest', asset: 'BTC', destinationAddress: DESTINATION.address, amount: AMOUNT.toString(), feeCap: feeCap.toString(), nonce: '0', unsignedTx: Buffer.from(unsigned) },
  });
}

const ctx = () => ({ eventId: randomUUID(), correlationId: randomUUID() });

/** bitcoinjs-lib re-checks our raw tx: same PSBT + our witness signatures validate and finalise to the same bytes. */
function validateWithBitcoinjs(spec: PsbtSpec, psbtBytes: Uint8Array, raw: Uint8Array): string {
  const ours = bitcoin.Transaction.fromBuffer(raw);
  const psbt = bitcoin.Psbt.fromBuffer(psbtBytes, { network: NET });
  ours.ins.forEach((input, i) => {
    const [signature, pubkey] = input.witness;
    if (!signature || !pubkey) throw new Error('witness');
    psbt.updateInput(i, { partialSig: [{ pubkey, signature }] });
  });
  const valid = psbt.validateSignaturesOfAllInputs((pubkey, msghash, signature) => secp256k1.verify(signature, msghash, pubkey, { prehash: false, lowS: true, format: 'compact' }));
  expect(valid).toBe(true);
  psbt.finalizeAllInputs();
  const extracted = psbt.extractTransaction();
  expect(Buffer.from(extracted.toBuffer()).toString('hex')).toBe(Buffer.from(raw).toString('hex'));
  expect(spec.inputs).toHaveLength(ours.ins.length);
  return extracted.getId();
}

describe('Bitcoin P2WPKH signing in the tx.prepared flow (PSBT decoded by the signer, validated by bitcoinjs-lib)', () => {
  let w: World;
  beforeEach(async () => {
    w = await world();
  });

  it('honest PSBT → tx.signed with a finalised raw tx that bitcoinjs-lib validates; txHash is its txid', async () => {
    const s = btcScenario(w);
    const spec = honest(w);
    const psbt = build(spec).toBuffer();
    expect(await w.useCase.handle(request(w, s, psbt), ctx())).toBe('signed');
    const outcome = w.stores.outcomes.at(-1);
    if (outcome?.kind !== 'signed') throw new Error(`expected signed, got ${JSON.stringify(outcome)}`);
    const txid = validateWithBitcoinjs(spec, psbt, outcome.signedTx);
    expect(outcome.txHash).toBe(txid);
    const tx = bitcoin.Transaction.fromBuffer(outcome.signedTx);
    expect(tx.outs.map((o) => [bitcoin.address.fromOutputScript(o.script, NET), o.value])).toEqual([
      [DESTINATION.address, AMOUNT],
      [p2wpkh(w.walletPub).address, 140_000n],
    ]);
    expect(w.custody.signCalls).toBe(2);
    // Single use still applies: the same decision again is refused.
    expect(await w.useCase.handle(request(w, s, psbt), ctx())).toBe('refused');
    expect(w.stores.outcomes.at(-1)).toMatchObject({ kind: 'refused', refusal: { code: 'DECISION_ALREADY_USED' } });
  });

  it('change to a key derived from the configured change xpub under /1/i is accepted (bip32Derivation re-derived)', async () => {
    w = await world(btcProfile(changeAccount.publicExtendedKey));
    const s = btcScenario(w);
    const changeKey = changeAccount.deriveChild(1).deriveChild(7).publicKey;
    if (!changeKey) throw new Error('change key');
    const spec = honest(w);
    spec.outputs[1] = { script: p2wpkh(changeKey).script, value: 140_000n, bip32: { pubkey: changeKey, path: "m/84'/1'/0'/1/7" } };
    const psbt = build(spec).toBuffer();
    expect(await w.useCase.handle(request(w, s, psbt), ctx())).toBe('signed');
    const outcome = w.stores.outcomes.at(-1);
    if (outcome?.kind !== 'signed') throw new Error('expected signed');
    validateWithBitcoinjs(spec, psbt, outcome.signedTx);
  });
});

describe('C-8.2.2.5-a Bitcoin: each tampering of the PSBT after approval is refused with its reason, nothing signed', () => {
  const receiveKey = () => {
    const k = changeAccount.deriveChild(0).deriveChild(7).publicKey;
    if (!k) throw new Error('key');
    return k;
  };
  const cases: Array<[string, (w: World, spec: PsbtSpec) => PsbtSpec | Uint8Array, RefusalCode, boolean]> = [
    ['an extra output to a foreign address', (_w, spec) => ({ ...spec, outputs: [...spec.outputs.slice(0, 1), { script: OTHER.script, value: 1_000n }, { script: spec.outputs[1]?.script ?? new Uint8Array(), value: 139_000n }] }), 'TX_EXTRA_OUTPUT', false],
    ['change paid to a foreign address', (_w, spec) => ({ ...spec, outputs: [spec.outputs[0] ?? { script: DESTINATION.script, value: AMOUNT }, { script: OTHER.script, value: 140_000n }] }), 'TX_EXTRA_OUTPUT', false],
    ['the destination paid twice', (_w, spec) => ({ ...spec, outputs: [{ script: DESTINATION.script, value: AMOUNT }, { script: DESTINATION.script, value: 140_000n }] }), 'TX_EXTRA_OUTPUT', false],
    ['change claimed via bip32Derivation on the receive branch /0/i', (_w, spec) => ({ ...spec, outputs: [spec.outputs[0] ?? { script: DESTINATION.script, value: AMOUNT }, { script: p2wpkh(receiveKey()).script, value: 140_000n, bip32: { pubkey: receiveKey(), path: "m/84'/1'/0'/0/7" } }] }), 'TX_EXTRA_OUTPUT', false],
    ['amount 1 sat above the approval', (_w, spec) => ({ ...spec, outputs: [{ script: DESTINATION.script, value: AMOUNT + 1n }, { script: spec.outputs[1]?.script ?? new Uint8Array(), value: 139_999n }] }), 'TX_AMOUNT_MISMATCH', false],
    ['amount 1 sat below the approval', (_w, spec) => ({ ...spec, outputs: [{ script: DESTINATION.script, value: AMOUNT - 1n }, { script: spec.outputs[1]?.script ?? new Uint8Array(), value: 140_001n }] }), 'TX_AMOUNT_MISMATCH', false],
    ['destination changed', (_w, spec) => ({ ...spec, outputs: [{ script: OTHER.script, value: AMOUNT }, spec.outputs[1] ?? { script: OTHER.script, value: 1n }] }), 'TX_DESTINATION_MISMATCH', false],
    ['fee 1 sat above the request cap', (_w, spec) => ({ ...spec, outputs: [spec.outputs[0] ?? { script: DESTINATION.script, value: AMOUNT }, { script: spec.outputs[1]?.script ?? new Uint8Array(), value: 140_000n - (FEE_CAP - 10_000n) - 1n }] }), 'TX_FEE_ABOVE_CAP', false],
    ['one input from a foreign key', (_w, spec) => ({ ...spec, inputs: [spec.inputs[0] ?? { script: OTHER.script, value: 1n }, { script: OTHER.script, value: 100_000n }] }), 'TX_INPUT_NOT_OURS', false],
    ['an input whose bip32Derivation names a key that does not lock it', (w, spec) => ({ ...spec, inputs: [{ script: p2wpkh(w.walletPub).script, value: 300_000n, bip32: { pubkey: foreignKey() } }, ...spec.inputs.slice(1)] }), 'TX_INPUT_NOT_OURS', false],
    ['a P2TR input', (_w, spec) => ({ ...spec, inputs: [spec.inputs[0] ?? { script: OTHER.script, value: 1n }, { script: new Uint8Array([0x51, 0x20, ...randomBytes(32)]), value: 100_000n }] }), 'TX_INPUT_NOT_OURS', false],
    [
      'every input and the change from another wallet key (decided under the key lock: decision spent)',
      () => {
        const other = p2wpkh(foreignKey());
        return { inputs: [{ script: other.script, value: 400_000n }], outputs: [{ script: DESTINATION.script, value: AMOUNT }, { script: other.script, value: 140_000n }] };
      },
      'TX_INPUT_NOT_OURS',
      true,
    ],
    ['bytes that are not a PSBT', () => new Uint8Array(randomBytes(64)), 'TX_MALFORMED', false],
  ];

  it.each(cases)('%s → refused', async (_name, tamper, code, consumed) => {
    const w = await world();
    const s = btcScenario(w);
    const result = await w.useCase.handle(request(w, s, tamper(w, honest(w))), ctx());
    expect(result).toBe('refused');
    expect(w.stores.outcomes.at(-1)).toMatchObject({ kind: 'refused', refusal: { code }, decisionConsumed: consumed });
    expect(w.stores.outcomes.filter((o) => o.kind === 'signed')).toHaveLength(0);
    expect(w.custody.signCalls).toBe(0);
  });

  it('the profile cap binds even when the request cap is higher', async () => {
    const w = await world({ ...btcProfile(), maxFee: 5_000n });
    const s = btcScenario(w);
    expect(await w.useCase.handle(request(w, s, honest(w), 1_000_000n), ctx())).toBe('refused');
    expect(w.stores.outcomes.at(-1)).toMatchObject({ refusal: { code: 'TX_FEE_ABOVE_CAP' } });
    expect(w.custody.signCalls).toBe(0);
  });

  it('an already signed PSBT is refused', async () => {
    const w = await world();
    const s = btcScenario(w);
    const psbt = build(honest(w));
    psbt.updateInput(0, { partialSig: [{ pubkey: w.walletPub, signature: new Uint8Array([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x01]) }] });
    expect(await w.useCase.handle(request(w, s, psbt.toBuffer()), ctx())).toBe('refused');
    expect(w.stores.outcomes.at(-1)).toMatchObject({ refusal: { code: 'TX_MALFORMED' } });
    expect(w.custody.signCalls).toBe(0);
  });
});
