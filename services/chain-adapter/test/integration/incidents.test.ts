// Chain incidents published as custody.incident.raised.v1 through the outbox, on a REAL anvil,
// PostgreSQL and Kafka: a real reorganisation deeper than the finality depth (snapshot/revert +
// a longer branch) removes a FINAL deposit; the incident is read back from Kafka with kcat
// (not our client) and decoded with the contracts codec. Recorded and published once per id.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DepositState, IncidentSeverity, Topics, decodePayload, type IncidentRaised } from '@custody/contracts';
import { protobufEnvelopeCodec, type Envelope, type KafkaBus, type Subscription } from '@custody/event-bus';
import type { Hex } from 'viem';
import { prefixedTopics, startChainAdapter, type ChainAdapterHandle, type EvmAssetProfile } from '../../src/index.js';
import {
  createPrefixedTopics,
  createTestDatabase,
  deletePrefixedTopics,
  fundedAccount,
  messagesOf,
  newBus,
  observe,
  quietLogger,
  rand,
  randomAddress,
  readTopicWithKcat,
  startAnvil,
  waitFor,
  type Anvil,
  type Observed,
  type TestDatabase,
} from './support.js';

const prefix = `cai${rand()}.`;
const CONFIRMATIONS = 3;
let anvil: Anvil;
let db: TestDatabase;
let bus: KafkaBus;
let adapter: ChainAdapterHandle | undefined;
const subscriptions: Subscription[] = [];
const observed: Observed[] = [];
const depositAddress = randomAddress();

async function mineAndTick(blocks = 1): Promise<void> {
  for (let i = 0; i < blocks; i++) {
    await anvil.mine();
    await adapter?.tick();
  }
}

/** custody.incident.raised.v1 as an outside reader sees it: kcat, then the contracts codec. */
function incidentsOnKafka(): { key: string; envelope: Envelope; message: IncidentRaised }[] {
  return readTopicWithKcat(`${prefix}${Topics.incidentRaised}`).map(({ key, value }) => {
    const envelope = protobufEnvelopeCodec.decode(value);
    const decoded = decodePayload(envelope);
    if (decoded.type !== Topics.incidentRaised) throw new Error(`unexpected ${decoded.type}`);
    return { key, envelope, message: decoded.message };
  });
}

beforeAll(async () => {
  anvil = await startAnvil();
  const profile: EvmAssetProfile = {
    asset: 'ETH',
    chain: 'anvil',
    chainId: anvil.chainId,
    genesisHash: anvil.genesisHash,
    confirmations: CONFIRMATIONS,
    gasLimit: 21_000n,
    fees: { maxFeePerGas: 100_000_000_000n, maxPriorityFeePerGas: 2_000_000_000n, minPriorityFeePerGas: 1_000_000n },
  };
  db = await createTestDatabase();
  await createPrefixedTopics(prefix);
  bus = newBus();
  subscriptions.push(await observe(bus, prefix, observed));
  adapter = await startChainAdapter({
    bus,
    database: { url: db.appUrl, schema: db.schema },
    logger: quietLogger(),
    rpcUrl: anvil.url,
    profile,
    depositAddresses: new Map([[depositAddress, 'acct-7']]),
    topicName: prefixedTopics(prefix),
    consumerGroupId: `chain-adapter-${prefix}`,
    outboxPollIntervalMs: 50,
    pollIntervalMs: 0,
  });
});

afterAll(async () => {
  await adapter?.stop();
  for (const s of subscriptions) await s.stop();
  await bus?.close();
  await deletePrefixedTopics(prefix).catch(() => undefined);
  await db?.drop();
  await anvil?.stop();
});

describe('incidents out: a reorganisation deeper than finality is published as custody.incident.raised.v1 (outbox, same transaction)', () => {
  it('a FINAL deposit removed by a real 4-block reorg → one REORG_BEYOND_FINALITY incident on Kafka (kcat + contracts codec) with stable id and evidence; found again → not published again', async () => {
    const payer = await fundedAccount(anvil);
    const amount = 7n * 10n ** 15n;
    const raw = await payer.signTransaction({ chainId: Number(anvil.chainId), type: 'eip1559', nonce: 0, to: depositAddress as Hex, value: amount, gas: 21_000n, maxFeePerGas: 50_000_000_000n, maxPriorityFeePerGas: 1n });
    const snapshot = await anvil.call<string>('evm_snapshot');
    const txHash = await anvil.call<string>('eth_sendRawTransaction', [raw]);
    await mineAndTick(CONFIRMATIONS);
    const ofTx = () => messagesOf(observed, Topics.depositDetected).filter((d) => d.txHash === txHash);
    await waitFor(() => ofTx().some((d) => d.state === DepositState.DEPOSIT_STATE_FINAL), 15_000, () => JSON.stringify(ofTx().map((d) => [d.confirmations, d.state])));
    const credited = ofTx().find((d) => d.state === DepositState.DEPOSIT_STATE_FINAL);

    // A longer branch without the deposit: the 3 blocks we indexed are replaced (depth ≥ the rule).
    await anvil.call('evm_revert', [snapshot]);
    await anvil.mine(CONFIRMATIONS + 1);
    expect(await anvil.call('eth_getTransactionReceipt', [txHash])).toBeNull();
    const result = await adapter!.tick();
    expect(result.reorgDepth).toBeGreaterThanOrEqual(CONFIRMATIONS);

    const rows = await db.admin<{ incident_id: string; kind: string; wallet: string; tx_hash: string }>(`SELECT "incident_id", "kind", "wallet", "tx_hash" FROM "chain_incident" WHERE "kind" = 'REORG_BEYOND_FINALITY'`);
    expect(rows).toHaveLength(1);
    const incidentId = rows[0]!.incident_id;
    expect(incidentId).toMatch(/^chain-adapter:anvil:REORG_BEYOND_FINALITY:[0-9a-f]{32}$/);

    await waitFor(() => incidentsOnKafka().some((i) => i.message.incidentId === incidentId), 30_000, () => 'incident on Kafka');
    const onKafka = incidentsOnKafka().filter((i) => i.message.incidentId === incidentId);
    expect(onKafka).toHaveLength(1);
    const [incident] = onKafka;
    expect(incident!.key).toBe(incidentId);
    expect(incident!.envelope).toMatchObject({ type: Topics.incidentRaised, producer: 'chain-adapter', key: incidentId });
    expect(incident!.message).toMatchObject({
      incidentId,
      source: 'chain-adapter',
      kind: 'REORG_BEYOND_FINALITY',
      severity: IncidentSeverity.INCIDENT_SEVERITY_CRITICAL,
      chain: 'anvil',
      asset: 'ETH',
      wallet: depositAddress,
    });
    expect(incident!.message.detail).toContain(`anvil:${txHash}:0`);
    const evidence = JSON.parse(incident!.message.evidenceJson) as Record<string, string>;
    expect(evidence).toMatchObject({ depositId: `anvil:${txHash}:0`, amount: amount.toString(), blockHash: credited!.blockHash, blockHeight: credited!.blockHeight, txHash, requiredConfirmations: String(CONFIRMATIONS) });
    expect(Number(evidence['reorgDepth'])).toBeGreaterThanOrEqual(CONFIRMATIONS);

    // The same finding again (a redelivered event, a pass re-run): no second row, no second event.
    const again = await adapter!.store.transaction((s) => s.recordIncident({ chain: 'anvil', asset: 'ETH', kind: 'REORG_BEYOND_FINALITY', detail: 'same', wallet: '', txHash: '', incidentId }));
    expect(again).toBe(false);
    await mineAndTick(2);
    expect(await db.admin(`SELECT 1 FROM "chain_incident" WHERE "incident_id" = $1`, [incidentId])).toHaveLength(1);
    expect(await db.admin(`SELECT 1 FROM "outbox" WHERE "key" = $1`, [incidentId])).toHaveLength(1);
  });
});
