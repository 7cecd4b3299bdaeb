// The distributed local deployment end to end: `npm run up` starts the seven services as
// separate processes (real Kafka, real PostgreSQL, anvil), ONE withdrawal goes in through
// intake's real gRPC API (mTLS + Ed25519-signed call, as an integrator does) and must become
// FINAL on the dev chain, then `npm run down` stops exactly what up started.
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WithdrawalState } from '@custody/contracts';
import { ETH, Integrator, ROOT, TERMINAL, alive, readState, rpc, runScript, testEnv, type UpState } from './client.js';

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

  it('down stops exactly the processes up started, and every one of them exits', async () => {
    const down = await runScript(['scripts/distributed/down.mjs'], 60_000);
    expect(down.code).toBe(0);
    const pids = [...Object.values(state.pids), state.anvil.pid].filter((p): p is number => p !== null);
    expect(pids).toHaveLength(8);
    expect(pids.filter(alive)).toEqual([]);
  }, 70_000);
});
