// The distributed local deployment end to end: `npm run up` starts the seven services as
// separate processes (real Kafka, real PostgreSQL, anvil), ONE withdrawal goes in through
// intake's real gRPC API (mTLS + Ed25519-signed call, as an integrator does) and must become
// FINAL on the dev chain, then `npm run down` stops exactly what up started.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { credentials, Metadata } from '@grpc/grpc-js';
import { DepositDetected, DepositState, LedgerServiceClient, Topics, WithdrawalState, encodeEvent, timestampFromDate, topicVersion, type GetWalletBalancesResponse } from '@custody/contracts';
import { KafkaBus, createEnvelope, createKafkaClient, protobufEnvelopeCodec } from '@custody/event-bus';
import { ETH, Integrator, ROOT, TERMINAL, alive, query, readState, rpc, runScript, testEnv, type UpState } from './client.js';

// Risk without the rapid-repeat review rules, policy without the daily freeze (client.ts
// testEnv): restarted by down + up.
const env = testEnv();

describe('distributed deployment: seven processes over real Kafka and PostgreSQL, one withdrawal FINAL on the dev chain', () => {
  let up: { code: number | null; output: string };
  let state: UpState;

  beforeAll(async () => {
    await runScript(['scripts/distributed/down.mjs', '--purge-if-stale'], 60_000, env);
    up = await runScript(['scripts/up.mjs'], 150_000, env);
    if (up.code === 0) state = readState();
  }, 220_000);

  afterAll(async () => {
    await runScript(['scripts/distributed/down.mjs'], 60_000);
  }, 70_000);

  it('up starts every service as its own process, healthy over gRPC', () => {
    expect({ code: up.code, output: up.code === 0 ? '' : up.output.slice(-3_000) }).toEqual({ code: 0, output: '' });
    expect(up.output).toContain('Custody policy engine — distributed');
    const pids = Object.values(state.pids);
    expect(pids).toHaveLength(7);
    expect(new Set(pids).size).toBe(7);
    for (const pid of pids) expect(pid !== null && alive(pid)).toBe(true);
  });

  it('up again starts no duplicates (same pids)', async () => {
    const again = await runScript(['scripts/up.mjs', '--no-build', '--no-infra'], 120_000, env);
    expect({ code: again.code, output: again.code === 0 ? '' : again.output.slice(-3_000) }).toEqual({ code: 0, output: '' });
    expect(readState().pids).toEqual(state.pids);
    expect(again.output).not.toContain(' started (pid');
  }, 130_000);

  it('up refuses to run policy on a bundle built from other rules or data (it names the purge), and changes nothing', async () => {
    const other = await runScript(['scripts/up.mjs', '--no-build', '--no-infra'], 60_000, { CUSTODY_DIST_POLICY_DATA: resolve(ROOT, 'policies/data') });
    expect(other.code).toBe(1);
    expect(other.output).toContain('was built from other rules or data');
    expect(other.output).toContain('npm run down -- --purge');
    expect(readState().pids).toEqual(state.pids);
    for (const pid of Object.values(state.pids)) expect(pid !== null && alive(pid)).toBe(true);
  }, 70_000);

  it('a withdrawal submitted over intake gRPC (mTLS + signed) is FINAL on anvil, across the processes', async () => {
    const integrator = new Integrator(state);
    const destination = '0x1111111111111111111111111111111111111111';
    const amount = ETH / 100n;
    const before = BigInt(await rpc<string>(state.anvil.url, 'eth_getBalance', [destination, 'latest']));
    try {
      const withdrawalId = await integrator.submit({ idempotencyKey: `dist-smoke-${randomUUID()}`, customerAccount: 'acct-retail-1', amount, destination });
      // PENDING_APPROVAL would wait for operators: stop there too (the assertion says why).
      const last = await integrator.waitFor(withdrawalId, 90_000, (w) => TERMINAL.includes(w.state) || w.state === WithdrawalState.WITHDRAWAL_STATE_PENDING_APPROVAL);
      expect({ state: last && WithdrawalState[last.state], reason: last?.reasonCode }).toEqual({ state: 'WITHDRAWAL_STATE_COMPLETED', reason: expect.any(String) });
      // On the chain: mined from the hot wallet to the destination, with the amount, and confirmed.
      const tx = await rpc<{ from: string; to: string; value: string; blockNumber: string | null }>(state.anvil.url, 'eth_getTransactionByHash', [last?.txHash]);
      expect({ from: tx.from.toLowerCase(), to: tx.to.toLowerCase(), value: BigInt(tx.value) }).toEqual({ from: state.hotWallet.address, to: destination, value: amount });
      const head = BigInt(await rpc<string>(state.anvil.url, 'eth_blockNumber'));
      expect(head - BigInt(tx.blockNumber ?? '0x0') + 1n).toBeGreaterThanOrEqual(2n);
      const after = BigInt(await rpc<string>(state.anvil.url, 'eth_getBalance', [destination, 'latest']));
      expect(after - before).toBe(amount);
    } finally {
      integrator.close();
    }
  }, 100_000);

  // C-9.3.7.1-a end to end across the processes: policy's monitor (main.ts, the ledger's
  // GetWalletBalances over gRPC, a round every 30 s) sees the ETH hot exposure above the
  // 50 ETH cap of the bundle and proposes a sweep of balance − target (30 ETH, treasury.json)
  // hot → our cold address; chain-adapter prepares it, the signer signs it with the hot key,
  // it is FINAL on anvil and the ledger books the internal transfer (cold wallet registered
  // watch-only by up: seed.mjs). The opening balances (25 ETH) are under the cap, so a deposit
  // to the hot wallet puts the exposure at exactly 60 ETH first.
  describe('C-9.3.7.1-a hot-wallet cap end to end across the processes', () => {
    it('C-9.3.7.1-a hot-wallet cap: a deposit puts the hot exposure above the cap → the monitor sweeps balance − target to our cold address, FINAL on anvil, booked; hot withdrawals not paused', async () => {
      const treasury = JSON.parse(readFileSync(resolve(ROOT, 'policies/data/treasury.json'), 'utf8')) as { treasury: { assets: { ETH: { hot_target: string; wallets: { cold: { id: string; address: string }[] } } } } };
      const target = BigInt(treasury.treasury.assets.ETH.hot_target);
      const cold = treasury.treasury.assets.ETH.wallets.cold[0] as { id: string; address: string };
      const cap = 50n * ETH;
      const exposure = async (): Promise<bigint> => {
        const ledger = new LedgerServiceClient(`127.0.0.1:${state.ports.ledger}`, credentials.createInsecure());
        try {
          const res = await new Promise<GetWalletBalancesResponse>((ok, fail) => ledger.getWalletBalances({ asset: 'ETH' }, new Metadata(), { deadline: Date.now() + 5_000 }, (err, r) => (err ? fail(err) : ok(r))));
          return res.balances.filter((b) => b.walletId === 'eth-hot-01' || b.walletId === 'deposits').reduce((sum, b) => sum + BigInt(b.available), 0n);
        } finally {
          ledger.close();
        }
      };
      const sweeps = async () =>
        query<{ transfer_id: string; status: string; close_reason: string; amount: string; destination_address: string }>(
          `SELECT "transfer_id", "status", "close_reason", "amount"::text AS amount, "destination_address" FROM "policy"."treasury_transfer" WHERE "asset" = 'ETH' AND "direction" = 'sweep' ORDER BY "opened_at"`,
        );
      const until = async <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> => {
        const deadline = Date.now() + ms;
        for (;;) {
          const v = await probe();
          if (v !== undefined) return v;
          if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
          await new Promise((r) => setTimeout(r, 500));
        }
      };
      // The cold wallet is in the ledger's registry (up registered it), and nothing is in flight.
      expect(await query(`SELECT "tier", "address" FROM "ledger"."ledger_wallet" WHERE "wallet_id" = $1`, [cold.id])).toEqual([{ tier: 'cold', address: cold.address.toLowerCase() }]);
      await until('no open sweep', 120_000, async () => ((await sweeps()).some((t) => t.status === 'open') ? undefined : true));
      const known = new Set((await sweeps()).map((t) => t.transfer_id));
      const before = await exposure();
      expect(before).toBeLessThanOrEqual(cap);
      const deposit = 60n * ETH - before;
      // The coins on the chain first (as up funds the opening balances), then the deposit's FINAL event.
      const hotOnChain = BigInt(await rpc<string>(state.anvil.url, 'eth_getBalance', [state.hotWallet.address, 'latest']));
      await rpc(state.anvil.url, 'anvil_setBalance', [state.hotWallet.address, `0x${(hotOnChain + deposit).toString(16)}`]);
      const coldBefore = BigInt(await rpc<string>(state.anvil.url, 'eth_getBalance', [cold.address, 'latest']));
      const depositId = `dist-sweep-${randomUUID()}`;
      const message = DepositDetected.fromPartial({
        depositId,
        chain: 'ethereum-mainnet',
        asset: 'ETH',
        address: state.hotWallet.address,
        customerAccount: 'acct-inst-1',
        clientId: state.integrator.clientId,
        amount: deposit.toString(),
        detectedAt: timestampFromDate(new Date()),
        state: DepositState.DEPOSIT_STATE_FINAL,
      });
      const bus = new KafkaBus({ kafka: createKafkaClient({ brokers: (process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092').split(','), clientId: 'distributed-test', logLevel: 'nothing' }) });
      try {
        const envelope = createEnvelope({ type: Topics.depositDetected, key: depositId, correlationId: depositId, producer: 'distributed-test', schemaVersion: topicVersion(Topics.depositDetected), payload: encodeEvent(Topics.depositDetected, message) });
        await bus.publish([{ topic: Topics.depositDetected, key: depositId, value: protobufEnvelopeCodec.encode(envelope) }]);
      } finally {
        await bus.close();
      }
      await until('the deposit booked', 30_000, async () => ((await exposure()) === 60n * ETH ? true : undefined));

      // The monitor's next round (≤ 30 s): one sweep of balance − target, to our cold address, closed final.
      const sweep = await until('the sweep FINAL and closed', 150_000, async () => (await sweeps()).find((t) => !known.has(t.transfer_id) && t.status === 'closed'));
      expect({ close: sweep.close_reason, amount: BigInt(sweep.amount), to: sweep.destination_address }).toEqual({ close: 'final', amount: 60n * ETH - target, to: cold.address });
      expect((await sweeps()).filter((t) => !known.has(t.transfer_id))).toHaveLength(1);
      // On anvil: the transaction from the hot wallet to the cold address with that value, confirmed.
      const [tx] = await query<{ tx_hash: string; state: string }>(`SELECT "tx_hash", "state" FROM "chain_adapter"."withdrawal_tx" WHERE "withdrawal_id" = $1`, [sweep.transfer_id]);
      expect(tx?.state).toBe('FINAL');
      const onChain = await rpc<{ from: string; to: string; value: string; blockNumber: string | null }>(state.anvil.url, 'eth_getTransactionByHash', [tx?.tx_hash]);
      expect({ from: onChain.from.toLowerCase(), to: onChain.to.toLowerCase(), value: BigInt(onChain.value) }).toEqual({ from: state.hotWallet.address, to: cold.address.toLowerCase(), value: 60n * ETH - target });
      expect(BigInt(await rpc<string>(state.anvil.url, 'eth_getBalance', [cold.address, 'latest'])) - coldBefore).toBe(60n * ETH - target);
      // The ledger: the internal transfer booked (hot −amount −fee, cold +amount, the fee), exposure back under the cap.
      const booked = await until('the ledger transfer SETTLED', 30_000, async () => {
        const [t] = await query<{ state: string; amount: string; source_wallet: string; destination_wallet: string; settle_entry_id: string }>(
          `SELECT "state", "amount"::text AS amount, "source_wallet", "destination_wallet", "settle_entry_id" FROM "ledger"."ledger_transfer" WHERE "transfer_id" = $1`,
          [sweep.transfer_id],
        );
        return t?.state === 'SETTLED' ? t : undefined;
      });
      expect({ amount: BigInt(booked.amount), from: booked.source_wallet, to: booked.destination_wallet }).toEqual({ amount: 60n * ETH - target, from: 'eth-hot-01', to: cold.id });
      const lines = await query<{ account: string; amount: string }>(`SELECT "account", "amount"::text AS amount FROM "ledger"."journal_line" WHERE "entry_id" = $1`, [booked.settle_entry_id]);
      const net = (account: string) => lines.filter((l) => l.account === account).reduce((sum, l) => sum + BigInt(l.amount), 0n);
      const fee = net('network-fees:ETH');
      expect(fee).toBeGreaterThan(0n);
      expect({ cold: net(`custodian:ETH:${cold.id}`), hot: net('custodian:ETH:eth-hot-01') }).toEqual({ cold: 60n * ETH - target, hot: -(60n * ETH - target + fee) });
      expect(await exposure()).toBe(target - fee);
      // The breach is over before its grace period: hot withdrawals of ETH are not paused.
      await until('the breach cleared by a round', 60_000, async () => {
        const [h] = await query<{ paused: boolean; breach_since: Date | null }>(`SELECT "paused", "breach_since" FROM "policy"."treasury_hot_wallet" WHERE "asset" = 'ETH'`);
        return h && !h.paused && h.breach_since === null ? true : undefined;
      });
    }, 300_000);
  });

  it('down stops exactly the processes up started, and every one of them exits', async () => {
    const down = await runScript(['scripts/distributed/down.mjs'], 60_000);
    expect(down.code).toBe(0);
    const pids = [...Object.values(state.pids), state.anvil.pid].filter((p): p is number => p !== null);
    expect(pids).toHaveLength(8);
    expect(pids.filter(alive)).toEqual([]);
  }, 70_000);
});
