// The custodian's promise under crashes (bounded): 10 withdrawals go through the distributed
// deployment while, one after the other, a service picked at random is SIGKILLed and restarted
// (by `npm run up`, which starts what is missing), PostgreSQL is paused (SIGSTOP ~5 s), Kafka is
// restarted (`kafka.sh stop`, 3 s, `kafka.sh start`; the services reconnect on their own), and
// a second random service is SIGKILLed and restarted. Afterwards, from the services' own
// records, the chain and the operators' tools: every withdrawal reached exactly one terminal
// state, the hot wallet's nonces are neither reused nor skipped, no decision was signed twice,
// the ledger is balanced, every transaction the hot wallet broadcast was approved by policy
// (decision token) and signed by the signer for that decision, `custody reconcile` finds the
// books equal to the chain, and `custody audit verify` finds the audit chain intact.
// CUSTODY_FAULT_SERVICES=a,b picks the two services (else random); the schedule is printed.
//
// Kafka and PostgreSQL are THIS checkout's scripts/infra ones (.local/): the test restarts and
// pauses them, so it must not share them with tests running in parallel (CI runs jest with one
// worker; a second copy of the repository on other ports: scripts/infra/README.md).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { WithdrawalState, type Withdrawal } from '@custody/contracts';
import {
  ETH,
  Integrator,
  TERMINAL,
  alive,
  custodyCli,
  distributedDbUrl,
  kafkaScript,
  pausePostgres,
  publicKeyHexOfSeed,
  query,
  readState,
  rpc,
  runScript,
  testEnv,
  transactionsFrom,
  type UpState,
} from './client.js';

const SERVICES = ['audit', 'ledger', 'risk', 'policy', 'signer', 'chain-adapter', 'intake'] as const;
const COUNT = 10;
const SUBMIT_RETRY_MS = 120_000; // per withdrawal, while intake or Kafka is down
const PG_PAUSE_MS = 5_000;
const KAFKA_DOWN_MS = 3_000;
const TERMINAL_ROWS = ['FINAL', 'DENIED', 'CANCELLED', 'FAILED', 'REORGED']; // intake's TERMINAL_STATES
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Risk without the rapid-repeat review rules, policy without the daily freeze (client.ts testEnv).
const env = testEnv();

function pickFaults(): [string, string] {
  const chosen = process.env.CUSTODY_FAULT_SERVICES?.split(',').map((s) => s.trim());
  if (chosen && chosen.length === 2 && chosen.every((s) => (SERVICES as readonly string[]).includes(s)) && chosen[0] !== chosen[1]) return [chosen[0]!, chosen[1]!];
  const pool = [...SERVICES];
  const a = pool.splice(Math.floor(Math.random() * pool.length), 1)[0]!;
  const b = pool[Math.floor(Math.random() * pool.length)]!;
  return [a, b];
}

interface ReconcileRun {
  readonly outcome: string;
  readonly snapshot?: { readonly blockHeight: string; readonly blockHash: string } | null;
  readonly ledgerBalance: string;
  readonly chainBalance: string;
  readonly inFlightWithdrawals: string;
  readonly unexplained: string;
  readonly failureReason: string | null;
}

describe('distributed fault injection: 10 withdrawals while services are SIGKILLed, PostgreSQL paused and Kafka restarted', () => {
  let state: UpState;
  let upOk = { code: null as number | null, output: '' };

  beforeAll(async () => {
    // A fresh deployment (database, chain, bundle): the reconciliation below compares the books
    // with a chain that only this deployment has moved. Risk must start with the test rules.
    await runScript(['scripts/distributed/down.mjs', '--purge'], 60_000, env);
    upOk = await runScript(['scripts/up.mjs'], 150_000, env);
    if (upOk.code === 0) state = readState();
  }, 220_000);

  afterAll(async () => {
    await runScript(['scripts/distributed/down.mjs'], 60_000);
  }, 70_000);

  it('one terminal state each; no nonce reused or skipped; no decision signed twice; ledger balanced; no unapproved broadcast; books = chain; audit chain intact', async () => {
    expect({ code: upOk.code, output: upOk.code === 0 ? '' : upOk.output.slice(-3_000) }).toEqual({ code: 0, output: '' });
    const [first, second] = pickFaults();
    const t0 = Date.now();
    const schedule: string[] = [];
    const note = (what: string) => {
      const line = `t+${((Date.now() - t0) / 1000).toFixed(1)}s ${what}`;
      schedule.push(line);
      process.stdout.write(`fault injection: ${line}\n`);
    };
    process.stdout.write(
      `fault injection: schedule SIGKILL ${first} + up → PostgreSQL SIGSTOP ${PG_PAUSE_MS / 1000} s → Kafka stop, ${KAFKA_DOWN_MS / 1000} s, start → SIGKILL ${second} + up; ` +
        `${COUNT} withdrawals in waves of 3, 2, 2 (+1 while Kafka is down), 2 just before each fault (CUSTODY_FAULT_SERVICES=${first},${second} to repeat)\n`,
    );
    const startBlock = Number(BigInt(await rpc<string>(state.anvil.url, 'eth_blockNumber')));
    const integrator = new Integrator(state);
    const ids: string[] = new Array<string>(COUNT);
    const faults: { service: string; pid: number; restartedPid: number | null }[] = [];
    let survivedInfra: { before: Record<string, number | null>; deadAfter: string[] } | undefined;
    let pgPause: { pids: number[]; stoppedSeen: number } | undefined;
    try {
      // Submissions, in waves just before each fault, so withdrawals are in flight through it;
      // each retried with its idempotency key while intake (or what it needs) is down, bounded.
      const submissions: Promise<void>[] = [];
      const submitOne = async (i: number) => {
        const request = { idempotencyKey: `dist-fault-${randomUUID()}`, customerAccount: i % 2 === 0 ? 'acct-retail-1' : 'acct-inst-1', amount: ETH / 1_000n + BigInt(i), destination: i % 2 === 0 ? '0x1111111111111111111111111111111111111111' : '0x2222222222222222222222222222222222222222' };
        const deadline = Date.now() + SUBMIT_RETRY_MS;
        for (let attempt = 0; ; attempt++) {
          try {
            ids[i] = await integrator.submit(request);
            return;
          } catch (error) {
            if (Date.now() > deadline || attempt > 400) throw error;
            await sleep(300);
          }
        }
      };
      const wave = (from: number, to: number) => {
        note(`submitting withdrawals ${from}..${to - 1}`);
        for (let i = from; i < to; i++) submissions.push(sleep((i - from) * 300).then(() => submitOne(i)));
      };
      // Faults, one after the other (a restart by `up` needs Kafka and PostgreSQL).
      const killAndRestart = async (service: string) => {
        const pid = readState().pids[service];
        if (pid === null || pid === undefined) throw new Error(`no pid for ${service}`);
        note(`SIGKILL ${service} (pid ${pid})`);
        process.kill(-pid, 'SIGKILL');
        for (let i = 0; i < 50 && alive(pid); i++) await sleep(50);
        await sleep(1_000);
        const restarted = await runScript(['scripts/up.mjs', '--no-build', '--no-infra'], 120_000, env);
        if (restarted.code !== 0) throw new Error(`restart after killing ${service} failed:\n${restarted.output.slice(-2_000)}`);
        const restartedPid = readState().pids[service] ?? null;
        note(`${service} restarted by up (pid ${restartedPid})`);
        faults.push({ service, pid, restartedPid });
      };
      const inject = (async () => {
        wave(0, 3);
        await sleep(700);
        await killAndRestart(first);
        // Infrastructure faults: no service may die of them (same pids afterwards).
        const before = readState().pids;
        wave(3, 5);
        await sleep(500);
        note(`PostgreSQL SIGSTOP for ${PG_PAUSE_MS / 1000} s`);
        pgPause = await pausePostgres(PG_PAUSE_MS);
        note(`PostgreSQL SIGCONT (${pgPause.pids.length} processes, ${pgPause.stoppedSeen} seen stopped)`);
        wave(5, 7);
        await sleep(500);
        note('Kafka stop (kafka.sh stop)');
        try {
          await kafkaScript('stop');
          note(`Kafka stopped; starting again in ${KAFKA_DOWN_MS / 1000} s`);
          wave(7, 8); // accepted by intake while the broker is away (its outbox relays later)
          await sleep(KAFKA_DOWN_MS);
        } finally {
          await kafkaScript('start');
        }
        note('Kafka started (kafka.sh start: broker ready, coordinators loaded)');
        wave(8, 10);
        await sleep(1_000);
        survivedInfra = { before, deadAfter: Object.entries(before).filter(([, pid]) => pid === null || !alive(pid)).map(([svc]) => svc) };
        await killAndRestart(second);
      })();
      // Both bounded; a failed fault or submission fails the test after the others have ended.
      const [injected] = await Promise.allSettled([inject]);
      const submitted = await Promise.allSettled(submissions);
      if (injected?.status === 'rejected') throw injected.reason;
      for (const r of submitted) if (r.status === 'rejected') throw r.reason;
      note('submissions and faults done; waiting for every withdrawal to settle');
      expect(faults.map((f) => f.service)).toEqual([first, second]);
      for (const f of faults) expect(f.restartedPid !== null && f.restartedPid !== f.pid && alive(f.restartedPid)).toBe(true);
      // PostgreSQL was really paused; no service died of the pause or of the Kafka restart.
      expect(pgPause!.stoppedSeen).toBe(pgPause!.pids.length);
      expect(survivedInfra!.deadAfter).toEqual([]);
      expect(ids.filter((id) => typeof id === 'string' && id !== '')).toHaveLength(COUNT);
      expect(new Set(ids).size).toBe(COUNT);

      // Every withdrawal terminal (bounded wait), seen through intake's API.
      const finals: Withdrawal[] = [];
      const deadline = Date.now() + 90_000;
      for (const id of ids) {
        const w = await integrator.waitFor(id, Math.max(1_000, deadline - Date.now()));
        finals.push(w ?? ({ withdrawalId: id, state: WithdrawalState.WITHDRAWAL_STATE_UNSPECIFIED } as Withdrawal));
      }
      const byState = finals.reduce<Record<string, number>>((acc, w) => ({ ...acc, [WithdrawalState[w.state]]: (acc[WithdrawalState[w.state]] ?? 0) + 1 }), {});
      note(`settled: ${JSON.stringify(byState)}`);
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

      // No broadcast that was not approved: every transaction the hot wallet sent since the run
      // began (the chain's blocks, not the services' records) is one of this run's withdrawals,
      // allowed by policy with a decision token for exactly that destination and amount, and
      // signed by the signer for that decision.
      const sent = await transactionsFrom(state.anvil.url, state.hotWallet.address, startBlock);
      // (the scan sees the completed ones' transactions: it is the chain the API reported)
      expect(finals.filter((w) => w.state === WithdrawalState.WITHDRAWAL_STATE_COMPLETED).map((w) => w.txHash.toLowerCase()).filter((h) => !sent.some((t) => t.hash === h))).toEqual([]);
      const evidence = await query<{
        tx_hash: string;
        withdrawal_id: string;
        decision_status: string | null;
        has_token: boolean | null;
        decision_withdrawal: string | null;
        decision_destination: string | null;
        decision_amount: string | null;
        signed_status: string | null;
        signed_tx_hash: string | null;
        fee_bumps: number | null;
      }>(
        `SELECT lower(a."tx_hash") AS tx_hash, w."withdrawal_id", d."status" AS decision_status,
                (d."decision_token" IS NOT NULL AND d."decision_token" <> '') AS has_token, d."withdrawal_id" AS decision_withdrawal,
                lower(d."destination_address") AS decision_destination, d."amount"::text AS decision_amount,
                s."status" AS signed_status, lower(s."tx_hash") AS signed_tx_hash, s."fee_bumps"
           FROM "chain_adapter"."tx_attempt" a
           JOIN "chain_adapter"."withdrawal_tx" w ON w."withdrawal_id" = a."withdrawal_id"
           LEFT JOIN "policy"."decision" d ON d."id"::text = w."decision_id"
           LEFT JOIN "signer"."signed_decision" s ON s."decision_id" = w."decision_id"
          WHERE lower(a."tx_hash") = ANY($1)`,
        [sent.map((t) => t.hash)],
      );
      const unapproved = sent.flatMap((tx) => {
        const e = evidence.find((r) => r.tx_hash === tx.hash);
        const problems = [
          !e && 'no withdrawal of the chain-adapter broadcast it',
          e && !ids.includes(e.withdrawal_id) && `withdrawal ${e.withdrawal_id} is not one of this run's`,
          e && e.decision_status !== 'allow' && `policy decision ${e.decision_status ?? 'missing'}`,
          e && e.has_token !== true && 'no decision token',
          e && e.decision_withdrawal !== e.withdrawal_id && 'decision for another withdrawal',
          e && (e.decision_destination !== tx.to || e.decision_amount !== tx.value.toString()) && `decision for ${e.decision_amount} to ${e.decision_destination}, chain ${tx.value} to ${tx.to}`,
          e && e.signed_status !== 'signed' && `signer ${e.signed_status ?? 'never signed the decision'}`,
          e && e.signed_status === 'signed' && e.signed_tx_hash !== tx.hash && !(e.fee_bumps ?? 0) && 'signer signed another transaction',
        ].filter((p): p is string => typeof p === 'string');
        return problems.length ? [`${tx.hash} (nonce ${tx.nonce}): ${problems.join('; ')}`] : [];
      });
      expect(unapproved).toEqual([]);

      // The books equal the chain: `custody reconcile` (ledger Reconcile against the
      // chain-adapter's snapshot) BALANCED, nothing in flight, nothing unexplained — at a snapshot
      // that covers every transaction of the run. The snapshot is the top of the chain-adapter's
      // block index, which may still be catching up after the faults while the ledger has already
      // settled the last withdrawals: such a run compares an older chain with newer books (its
      // DRIFT is the settled amounts; docs/distributed.md "Gaps") and is repeated, bounded (90 s),
      // as is a FAILED one (chain-adapter not answering). A DRIFT at a covering snapshot is not.
      const lastMinedBlock = Math.max(startBlock, ...sent.map((t) => t.block));
      let reconcile: { code: number | null; run?: ReconcileRun; output: string } = { code: null, output: '' };
      for (let attempt = 0, until = Date.now() + 90_000; attempt < 45; attempt++) {
        const r = await custodyCli(['reconcile', '--asset', 'ETH', '--server', `127.0.0.1:${state.ports.ledger}`, '--insecure-loopback', '--json']);
        const run = (JSON.parse(r.stdout.trim() || '{}') as { runs?: ReconcileRun[] }).runs?.[0];
        reconcile = { code: r.code, ...(run ? { run } : {}), output: r.output };
        const covering = run !== undefined && run.outcome !== 'FAILED' && Number(run.snapshot?.blockHeight ?? -1) >= lastMinedBlock;
        if (covering || Date.now() > until) break;
        note(`custody reconcile: ${run?.outcome ?? `exit ${r.code}`} at block ${run?.snapshot?.blockHeight ?? '-'} (last transaction in block ${lastMinedBlock}${run?.failureReason ? `; ${run.failureReason}` : ''}): again in 2 s`);
        await sleep(2_000);
      }
      note(`custody reconcile: ${reconcile.run?.outcome} at block ${reconcile.run?.snapshot?.blockHeight}: ledger ${reconcile.run?.ledgerBalance} chain ${reconcile.run?.chainBalance} in flight ${reconcile.run?.inFlightWithdrawals} unexplained ${reconcile.run?.unexplained}`);
      expect(Number(reconcile.run?.snapshot?.blockHeight ?? -1)).toBeGreaterThanOrEqual(lastMinedBlock);
      expect({ code: reconcile.code, outcome: reconcile.run?.outcome, inFlight: reconcile.run?.inFlightWithdrawals, unexplained: reconcile.run?.unexplained }).toEqual({ code: 0, outcome: 'BALANCED', inFlight: '0', unexplained: '0' });
      expect(BigInt(reconcile.run!.chainBalance)).toBe(BigInt(reconcile.run!.ledgerBalance));

      // The audit chain verifies: `custody audit verify` (the audit service's own verifier) over
      // schema audit of custody_distributed, trusting the deployment's checkpoint key.
      const verify = await custodyCli(['audit', 'verify', '--schema', 'audit', '--trusted-key', `dist-audit-k1:${publicKeyHexOfSeed('keys/audit-checkpoint.seed')}`, '--json'], { CUSTODY_DB_URL: distributedDbUrl() });
      const report = JSON.parse(verify.stdout.trim() || '{}') as { ok?: boolean; recordsChecked?: number };
      note(`custody audit verify: exit ${verify.code}, ${report.recordsChecked} records verified`);
      expect({ code: verify.code, ok: report.ok }).toEqual({ code: 0, ok: true });
      expect(report.recordsChecked).toBeGreaterThan(0);
    } finally {
      integrator.close();
      process.stdout.write(`fault injection: schedule as run (CUSTODY_FAULT_SERVICES=${first},${second}):\n  ${schedule.join('\n  ')}\n`);
    }
  }, 260_000);
});
