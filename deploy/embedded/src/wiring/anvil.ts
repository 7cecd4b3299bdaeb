// The local EVM dev node of the embedded default: foundry's anvil from node_modules on
// 127.0.0.1 and a free port, mining a block every second, chain id 31337. Its state lives in
// the data directory, one file per embedded database (--state: loaded at start, dumped every
// few seconds and on shutdown), so the chain and the chain-adapter's rows in that database
// stay in step across restarts. Stopped (SIGTERM, then SIGKILL) with the system.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';

export const ANVIL_CHAIN_ID = 31337n;
const ANVIL_BIN = resolve('node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil');

export interface DevChain {
  readonly url: string;
  readonly chainId: bigint;
  readonly genesisHash: string;
  /** true when no state file existed: a new chain (block 0 just made). */
  readonly fresh: boolean;
  call<T = unknown>(method: string, params?: unknown[]): Promise<T>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no free port'))));
    });
  });
}

export async function startDevChain(options: { dataDir: string; name: string; blockTimeSeconds?: number }): Promise<DevChain> {
  if (!existsSync(ANVIL_BIN)) throw new Error(`anvil not found at ${ANVIL_BIN}: run npm install (package @foundry-rs/anvil)`);
  if (!/^[a-z0-9_]+$/.test(options.name)) throw new TypeError(`bad chain state name ${JSON.stringify(options.name)}`);
  const dir = join(options.dataDir, 'anvil');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stateFile = join(dir, `${options.name}.json`);
  const fresh = !existsSync(stateFile);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['--host', '127.0.0.1', '--port', String(port), '--chain-id', ANVIL_CHAIN_ID.toString(), '--block-time', String(options.blockTimeSeconds ?? 1), '--state', stateFile, '--state-interval', '5', '--silent'];
  const child: ChildProcess = spawn(ANVIL_BIN, args, { stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });

  let id = 0;
  const call = async <T>(method: string, params: unknown[] = []): Promise<T> => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: ++id, method, params }), signal: AbortSignal.timeout(5_000) });
    const body = (await res.json()) as { result?: T; error?: { message: string } };
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result as T;
  };
  const stop = async (): Promise<void> => {
    if (exited || child.exitCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM'); // anvil dumps its state on SIGTERM
    await Promise.race([done, new Promise((r) => setTimeout(r, 5_000))]);
    if (!exited && child.exitCode === null) child.kill('SIGKILL');
  };

  const deadline = Date.now() + 15_000;
  for (let i = 0; ; i++) {
    if (exited) throw new Error(`anvil exited at start (state file ${stateFile})`);
    try {
      await call('eth_chainId');
      break;
    } catch {
      if (Date.now() > deadline || i > 300) {
        await stop();
        throw new Error(`anvil did not answer on ${url} within 15 s`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const genesis = await call<{ hash: string }>('eth_getBlockByNumber', ['0x0', false]);
  return { url, chainId: ANVIL_CHAIN_ID, genesisHash: genesis.hash.toLowerCase(), fresh, call, stop };
}
