// `custody reconcile --asset ETH` — ledger LedgerService/Reconcile (docs/ledger.md
// "Reconciliation with the chain"): runs one reconciliation now and prints each run's outcome,
// snapshot block, figures (base units) and incident; then the books per wallet
// (GetWalletBalances). Exit 0 only when every run is BALANCED; DRIFT or FAILED → 1.
import { integerOption, stringOption } from '../args.js';
import { ExitCode, UsageError, type CommandContext, type CommandGroup, type CommandSpec, type OptionSpec } from '../types.js';
import { parseServerAddress, transportOf, type ServerAddress, type Transport } from '../approvals/transport.js';
import { exitCodeOf, formatRun, runToJson, walletToJson, type WalletJson } from './format.js';
import type { LedgerApi } from './client.js';

const ASSET = /^[A-Z0-9]{2,12}$/;

const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  asset: { type: 'string', multiple: true, placeholder: 'SYMBOL', description: 'the asset to reconcile, e.g. ETH (default: every asset the ledger reconciles)' },
  server: { type: 'string', placeholder: 'host:port', description: 'ledger LedgerService (default $CUSTODY_LEDGER_SERVER; required)' },
  cert: { type: 'string', placeholder: 'file', description: 'mTLS: the operator client certificate (PEM)' },
  key: { type: 'string', placeholder: 'file', description: 'mTLS: the client certificate\'s private key (PEM)' },
  ca: { type: 'string', placeholder: 'file', description: 'mTLS: the CA certificate that signed the server\'s certificate (PEM)' },
  'insecure-loopback': { type: 'boolean', description: 'plaintext gRPC, allowed for a server on 127.0.0.1 only' },
  timeout: { type: 'string', placeholder: 'seconds', description: 'deadline of each call (default 30: a run waits for the chain-adapter)' },
};

export function assetsOf(values: CommandContext['values']): string[] {
  const raw = values['asset'];
  const list = Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
  for (const a of list) if (!ASSET.test(a)) throw new UsageError(`--asset must be an asset symbol ([A-Z0-9]{2,12}), got "${a}"`);
  return [...new Set(list)];
}

export function serverOf(ctx: CommandContext): ServerAddress {
  const text = stringOption(ctx.values, 'server') ?? ctx.io.env['CUSTODY_LEDGER_SERVER'];
  if (!text) throw new UsageError('--server (or $CUSTODY_LEDGER_SERVER) is required: the ledger\'s gRPC address');
  return parseServerAddress(text);
}

export type ConnectLedger = (address: ServerAddress, transport: Transport, timeoutMs: number) => Promise<LedgerApi>;

const grpcConnect: ConnectLedger = async (address, transport, timeoutMs) => (await import('./client.js')).connectLedger(address, transport, timeoutMs);

const run = (connect: ConnectLedger): CommandSpec => ({
  name: 'run',
  summary: 'reconcile the books with the chain now (ledger Reconcile): outcome, snapshot block, figures, incident',
  options: OPTIONS,
  details: [
    'Amounts are base units (decimal integers). A FAILED run (chain-adapter unreachable, wrong asset) compared',
    'nothing. The books per wallet are the ledger\'s custodial accounts as they are now (GetWalletBalances).',
    'Exit codes: 0 every run BALANCED, 1 a DRIFT or FAILED run (or refused), 3 the ledger unreachable.',
    'Example: custody reconcile --asset ETH --server ledger.internal:50061 --cert op.crt --key op.key --ca ca.crt',
  ].join('\n'),
  run: async (ctx) => {
    const assets = assetsOf(ctx.values);
    const address = serverOf(ctx);
    const transport = transportOf(ctx.values, address);
    const timeoutMs = integerOption(ctx.values, 'timeout', 1, 300, 30) * 1000;
    const api = await connect(address, transport, timeoutMs);
    try {
      const res = await api.reconcile(assets);
      const runs = res.results.map(runToJson);
      const wallets = new Map<string, WalletJson[]>();
      for (const asset of new Set(runs.map((r) => r.asset))) {
        const balances = await api.walletBalances(asset);
        wallets.set(asset, balances.balances.filter((b) => b.asset === asset).map(walletToJson));
      }
      const code = runs.length === 0 ? ExitCode.FAILED : exitCodeOf(runs.map((r) => r.outcome));
      if (ctx.json) ctx.io.out(JSON.stringify({ ok: code === ExitCode.OK, runs: runs.map((r) => ({ ...r, wallets: wallets.get(r.asset) ?? [] })) }));
      else ctx.io.out(runs.length === 0 ? 'the ledger reconciled nothing (no asset configured)' : runs.map((r) => formatRun(r, wallets.get(r.asset) ?? [])).join('\n\n'));
      return code;
    } finally {
      api.close();
    }
  },
});

export function reconcileGroupWith(connect: ConnectLedger = grpcConnect): CommandGroup {
  return {
    name: 'reconcile',
    summary: 'reconcile the ledger with the chain now (ledger Reconcile): `custody reconcile --asset ETH`',
    commands: [run(connect)],
    defaultCommand: 'run',
  };
}

export const reconcileGroup: CommandGroup = reconcileGroupWith();
