import { describe, expect, it } from '@jest/globals';
import { CustodialTier, GetWalletBalancesResponse, ReconciliationOutcome, ReconciliationResult } from '@custody/contracts';
import { runCli } from '../cli.js';
import { CliError, ExitCode, type Io } from '../types.js';
import type { LedgerApi } from './client.js';
import { reconcileGroupWith, type ConnectLedger } from './commands.js';
import { exitCodeOf, formatRun, runToJson } from './format.js';

function fakeIo(env: NodeJS.ProcessEnv = {}): Io & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { stdout, stderr, out: (t) => stdout.push(t), err: (t) => stderr.push(t), env, interactive: false, ask: () => Promise.resolve('') };
}

const BIG = '123456789012345678901234567890';
const balanced = ReconciliationResult.fromPartial({
  runId: 'run-1',
  asset: 'ETH',
  chain: 'ethereum',
  outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_BALANCED,
  ledgerBalance: BIG,
  chainBalance: BIG,
  inFlightWithdrawals: '0',
  fees: '0',
  pendingDeposits: '0',
  unexplained: '0',
  blockHeight: '42',
  blockHash: `0x${'ab'.repeat(32)}`,
  startedAt: { seconds: '1748872800', nanos: 0 },
});
const drift = ReconciliationResult.fromPartial({ ...balanced, runId: 'run-2', outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_DRIFT, chainBalance: '900', ledgerBalance: '1000', unexplained: '-100', incidentId: 'inc-7' });
const failed = ReconciliationResult.fromPartial({ runId: 'run-3', asset: 'ETH', chain: 'ethereum', outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_FAILED, failureReason: 'chain-adapter unavailable' });
const wallets = GetWalletBalancesResponse.fromPartial({
  balances: [
    { account: 'custodian:ETH:hot-1', asset: 'ETH', walletId: 'hot-1', tier: CustodialTier.CUSTODIAL_TIER_HOT, available: BIG },
    { account: 'custodian:BTC:hot-2', asset: 'BTC', walletId: 'hot-2', tier: CustodialTier.CUSTODIAL_TIER_HOT, available: '5' },
  ],
});

function fake(results: ReconciliationResult[]): { connect: ConnectLedger; calls: string[][] } {
  const calls: string[][] = [];
  const api: LedgerApi = {
    reconcile: (assets) => {
      calls.push([...assets]);
      return Promise.resolve({ results });
    },
    walletBalances: () => Promise.resolve(wallets),
    close: () => undefined,
  };
  return { connect: () => Promise.resolve(api), calls };
}

const SERVER = ['--server', '127.0.0.1:50061', '--insecure-loopback'];

describe('custody reconcile: formatting', () => {
  it('keeps amounts as exact base-unit integers (no float rounding) and names the outcome', () => {
    const run = runToJson(balanced);
    expect(run).toMatchObject({ outcome: 'BALANCED', ledgerBalance: BIG, chainBalance: BIG, unexplained: '0', snapshot: { blockHeight: '42' }, incidentId: null, startedAt: '2025-06-02T14:00:00.000Z' });
    expect(formatRun(run, [])).toContain(BIG);
  });
  it('shows a drift with its incident and a failed run with its reason and no figures', () => {
    expect(formatRun(runToJson(drift), [])).toMatch(/DRIFT[\s\S]*unexplained\s+-100[\s\S]*incident inc-7/);
    const f = runToJson(failed);
    expect(f).toMatchObject({ outcome: 'FAILED', snapshot: null, failureReason: 'chain-adapter unavailable', unexplained: '' });
    expect(formatRun(f, [])).toContain('nothing was compared: chain-adapter unavailable');
  });
  it('refuses a malformed answer rather than printing it: a float amount, BALANCED with an unexplained amount, an unknown outcome', () => {
    expect(() => runToJson({ ...balanced, chainBalance: '1.5' })).toThrow(CliError);
    expect(() => runToJson({ ...balanced, unexplained: '3' })).toThrow(/BALANCED with an unexplained/);
    expect(() => runToJson({ ...balanced, outcome: ReconciliationOutcome.RECONCILIATION_OUTCOME_UNSPECIFIED })).toThrow(/unknown reconciliation outcome/);
  });
  it('exits 0 only when every run is balanced', () => {
    expect(exitCodeOf(['BALANCED'])).toBe(ExitCode.OK);
    expect(exitCodeOf(['BALANCED', 'DRIFT'])).toBe(ExitCode.FAILED);
    expect(exitCodeOf(['FAILED'])).toBe(ExitCode.FAILED);
    expect(exitCodeOf([])).toBe(ExitCode.FAILED);
  });
});

describe('custody reconcile: commands', () => {
  it('`custody reconcile --asset ETH --json` sends the asset and prints the run with the wallets of its asset (exit 0)', async () => {
    const f = fake([balanced]);
    const io = fakeIo();
    expect(await runCli(['reconcile', '--asset', 'ETH', ...SERVER, '--json'], io, [reconcileGroupWith(f.connect)])).toBe(ExitCode.OK);
    expect(f.calls).toEqual([['ETH']]);
    const doc = JSON.parse(io.stdout.join('')) as { ok: boolean; runs: { outcome: string; wallets: { walletId: string; tier: string; available: string }[] }[] };
    expect(doc.ok).toBe(true);
    expect(doc.runs[0]?.wallets).toEqual([{ account: 'custodian:ETH:hot-1', walletId: 'hot-1', tier: 'hot', available: BIG }]);
  });
  it('exits 1 on a drift and on a failed run', async () => {
    for (const r of [drift, failed]) {
      const io = fakeIo();
      expect(await runCli(['reconcile', '--asset', 'ETH', ...SERVER], io, [reconcileGroupWith(fake([r]).connect)])).toBe(ExitCode.FAILED);
      expect(io.stdout.join('')).toMatch(/DRIFT|FAILED/);
    }
  });
  it('usage errors: a malformed asset, no server, --insecure-loopback to another host (exit 2, nothing sent)', async () => {
    const f = fake([balanced]);
    const group = [reconcileGroupWith(f.connect)];
    expect(await runCli(['reconcile', '--asset', 'eth', ...SERVER], fakeIo(), group)).toBe(ExitCode.USAGE);
    expect(await runCli(['reconcile', '--asset', 'ETH', '--insecure-loopback'], fakeIo(), group)).toBe(ExitCode.USAGE);
    expect(await runCli(['reconcile', '--asset', 'ETH', '--server', '10.0.0.1:50061', '--insecure-loopback'], fakeIo(), group)).toBe(ExitCode.USAGE);
    expect(f.calls).toEqual([]);
  });
  it('takes the server from $CUSTODY_LEDGER_SERVER and shows the command help after the group name', async () => {
    const f = fake([balanced]);
    expect(await runCli(['reconcile', '--insecure-loopback'], fakeIo({ CUSTODY_LEDGER_SERVER: '127.0.0.1:50061' }), [reconcileGroupWith(f.connect)])).toBe(ExitCode.OK);
    expect(f.calls).toEqual([[]]);
    const io = fakeIo();
    expect(await runCli(['reconcile', '--help'], io, [reconcileGroupWith(f.connect)])).toBe(ExitCode.OK);
    expect(io.stdout.join('')).toContain('Usage: custody reconcile run');
  });
});
