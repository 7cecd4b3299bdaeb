// The custodian's promise under crashes (bounded): 10 withdrawals go through the distributed
// deployment while two services picked at random are SIGKILLed and restarted once each (by
// `npm run up`, which starts what is missing). Afterwards, from the services' own records and
// the chain: every withdrawal reached exactly one terminal state, the hot wallet's nonces are
// neither reused nor skipped, no decision was signed twice, the ledger is balanced.
// CUSTODY_FAULT_SERVICES=a,b picks the two services (else random; printed).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WithdrawalState, type Withdrawal } from '@custody/contracts';
import { ETH, Integrator, TERMINAL, alive, query, readState, rpc, runScript, testEnv, type UpState } from './client.js';

const SERVICES = ['audit', 'ledger', 'risk', 'policy', 'signer', 'chain-adapter', 'intake'] as const;
const COUNT = 10;
const TERMINAL_ROWS = ['FINAL', 'DENIED', 'CANCELLED', 'FAILED', 'REORGED']; // intake's TERMINAL_STATES
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Risk without the rapid-repeat review rules (client.ts testEnv).
const env = testEnv();

function pickFaults(): [string, string] {
  const chosen = process.env.CUSTODY_FAULT_SERVICES?.split(',').map((s) => s.trim());
  if (chosen && chosen.length === 2 && chosen.every((s) => (SERVICES as readonly string[]).includes(s)) && chosen[0] !== chosen[1]) return [chosen[0]!, chosen[1]!];
  const pool = [...SERVICES];
  const a = pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!;
  const b = pool[Math.floor(Math.random() * pool.length)]!;
  return [a, b];
}

describe('distributed fault injection: 10 withdrawals while two services are SIGKILLed and restarted', () => {
  let state: UpState;
  let upOk = { code: null as number | null, output: '' };

  beforeAll(async () => {
    // Risk must start with the test rules: stop whatever runs, then up.
    await runScript(['scripts/distributed/down.mjs', '--purge-if-stale'], 60_000, env);
    upOk = await runScript(['scripts/up.mjs'], 150_000, env);
    if (upOk.code === 0) state = readState();
  }, 230_000);

  afterAll(async () => {
    await runScript(['scripts/distributed/down.mjs'], 60_000);
  }, 70_000);

  it('every withdrawal ends in exactly one terminal state; no nonce reused or skipped; no decision signed twice; ledger balanced', async () => {
    expect({ code: upOk.code, output: upOk.code === 0 ? '' : upOk.output.slice(-3_000) }).toEqual({ code: 0, output: '' });
    const [first, second] = pickFaults();
    process.stdout.write(`fault injection: SIGKILL ${first}, then ${second} (CUSTODY_FAULT_SERVICES=${first},${second} to repeat)\n`);
    const integrator = new Integrator(state);
    const ids: string[] = [];
    const faults: { service: string; pid: number; restartedPid: number | null }[] = [];
    try {
      // Submissions: each retried with its idempotency key while intake is down (bounded).
      const submitAll = (async () => {
        for (let i = 0; i < COUNT; i++) {
          const request = { idempotencyKey: `dist-fault-${randomUUID()}`, customerAccount: i % 2 === 0 ? 'acct-retail-1' : 'acct-inst-1', amount: ETH / 1_000n + BigInt(i), destination: i % 2 === 0 ? '0x1111111111111111111111111111111111111111' : '0x2222222222222222222222222222222222222222' };
          const deadline = Date.now() + 60_000;
          for (let attempt = 0; ; attempt++) {
            try {
              ids.push(await integrator.submit(request));
              break;
            } catch (error) {
              if (Date.now() > deadline || attempt > 200) throw error;
              await sleep(300);
            }
          }
          await sleep(400);
        }
      })();
      // Faults: SIGKILL (no graceful stop), restart by `up` (starts what is missing).
      const inject = (async () => {
        for (const [n, service] of [first, second].entries()) {
          await sleep(n === 0 ? 700 : 1_500);
          const pid = readState().pids[service];
          if (pid === null || pid === undefined) throw new Error(`no pid for ${service}`);
          process.kill(-pid, 'SIGKILL');
          for (let i = 0; i < 50 && alive(pid); i++) await sleep(50);
          await sleep(1_000);
          const restarted = await runScript(['scripts/up.mjs', '--no-build', '--no-infra'], 120_000, env);
          if (restarted.code !== 0) throw new Error(`restart after killing ${service} failed:\n${restarted.output.slice(-2_000)}`);
          faults.push({ service, pid, restartedPid: readState().pids[service] ?? null });
        }
      })();
      await Promise.all([submitAll, inject]);
      expect(faults.map((f) => f.service)).toEqual([first, second]);
      for (const f of faults) expect(f.restartedPid !== null && f.restartedPid !== f.pid && alive(f.restartedPid)).toBe(true);
      expect(ids).toHaveLength(COUNT);
      expect(new Set(ids).size).toBe(COUNT);

      // Every withdrawal terminal (bounded wait), seen through intake's API.
      const finals: Withdrawal[] = [];
      const deadline = Date.now() + 150_000;
      for (const id of ids) {
        const w = await integrator.waitFor(id, Math.max(1_000, deadline - Date.now()));
        finals.push(w ?? ({ withdrawalId: id, state: WithdrawalState.WITHDRAWAL_STATE_UNSPECIFIED } as Withdrawal));
      }
      const byState = finals.reduce<Record<string, number>>((acc, w) => ({ ...acc, [WithdrawalState[w.state]]: (acc[WithdrawalState[w.state]] ?? 0) + 1 }), {});
      process.stdout.write(`fault injection: ${JSON.stringify(byState)}\n`);
      expect(finals.filter((w) => !TERMINAL.includes(w.state)).map((w) => `${w.withdrawalId}: ${WithdrawalState[w.state]}`)).toEqual([]);

      // Exactly one terminal transition per withdrawal in intake's history.
      const terminalRows = await query<{ withdrawal_id: string; n: string }>(
        `SELECT "withdrawal_id"::text AS withdrawal_id, count(*) FILTER (WHERE "to_state" = ANY($2))::text AS n FROM "intake"."withdrawal_transition" WHERE "withdrawal_id"::text = ANY($1) GROUP BY 1`,
        [ids, TERMINAL_ROWS],
      );
      expect(terminalRows.map((r) => r.n).sort()).toEqual(ids.map(() => '1'));

      // Completed ones are on chain: from the hot wallet, to their destination, their amount.
      for (const w of finals.filter((x) => x.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED)) {
        const tx = await rpc<{ from: string; to: string; value: string }>(state.anvil.url, 'eth_getTransactionByHash', [w.txHash]);
        expect({ from: tx.from.toLowerCase(), to: tx.to.toLowerCase(), value: BigInt(tx.value) }).toEqual({ from: state.hotWallet.address, to: w.destinationAddress.toLowerCase(), value: BigInt(w.amount) });
      }

      // Hot wallet nonces: the chain-adapter's mined transactions use 0..n-1 once each, and n is
      // the chain's count (nothing reused, nothing skipped, nothing left pending).
      const mined = await query<{ nonce: string }>(`SELECT "nonce"::text AS nonce FROM "chain_adapter"."withdrawal_tx" WHERE "wallet" = $1 AND "tx_hash" IS NOT NULL AND "state" IN ('CONFIRMED', 'FINAL')`, [state.hotWallet.address]);
      const latest = Number(BigInt(await rpc<string>(state.anvil.url, 'eth_getTransactionCount', [state.hotWallet.address, 'latest'])));
      const pending = Number(BigInt(await rpc<string>(state.anvil.url, 'eth_getTransactionCount', [state.hotWallet.address, 'pending'])));
      expect(mined.map((r) => Number(r.nonce)).sort((a, b) => a - b)).toEqual(Array.from({ length: latest }, (_, i) => i));
      expect(pending).toBe(latest);

      // The signer signed each withdrawal's decision at most once.
      const signed = await query<{ withdrawal_id: string; n: string }>(`SELECT "withdrawal_id", count(*)::text AS n FROM "signer"."signed_decision" WHERE "withdrawal_id" = ANY($1) AND "status" = 'signed' GROUP BY 1`, [ids]);
      expect(signed.filter((r) => r.n !== '1')).toEqual([]);
      const completed = finals.filter((w) => w.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED).length;
      expect(signed.length).toBeGreaterThanOrEqual(completed);

      // Ledger: every journal entry balances per asset, so the books do.
      const unbalanced = await query<{ entry_id: string }>(`SELECT "entry_id"::text AS entry_id FROM "ledger"."journal_line" GROUP BY "entry_id", "asset" HAVING sum("amount") <> 0`);
      expect(unbalanced).toEqual([]);
      // Each completed withdrawal is settled in the ledger (bounded wait: settlement follows FINAL).
      const completedIds = finals.filter((w) => w.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED).map((w) => w.withdrawalId);
      let unsettled: { withdrawal_id: string; state: string }[] = [];
      for (let n = 0, until = Date.now() + 30_000; n < 300; n++) {
        unsettled = await query<{ withdrawal_id: string; state: string }>(`SELECT "withdrawal_id", "state" FROM "ledger"."ledger_withdrawal" WHERE "withdrawal_id" = ANY($1) AND "state" <> 'SETTLED'`, [completedIds]);
        const settled = await query<{ n: string }>(`SELECT count(*)::text AS n FROM "ledger"."ledger_withdrawal" WHERE "withdrawal_id" = ANY($1) AND "state" = 'SETTLED'`, [completedIds]);
        if (settled[0]?.n === String(completedIds.length) || Date.now() > until) break;
        await sleep(250);
      }
      expect(unsettled).toEqual([]);
      // Denials fail closed with a reason; something went through while services were dying.
      expect(finals.filter((w) => w.state !== WithdrawalState.WITHDRAWAL_STATE_COMPLETED && w.reasonCode === '').map((w) => w.withdrawalId)).toEqual([]);
      expect(completed).toBeGreaterThan(0);
    } finally {
      integrator.close();
    }
  }, 300_000);
});
