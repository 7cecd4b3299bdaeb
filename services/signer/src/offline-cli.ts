#!/usr/bin/env node
/**
 * custody-offline-sign: the air-gapped half of cold signing (C-9.3.7.4-a).
 *
 *   custody-offline-sign --batch in.json --key-store <dir> --master-key-file <file> --out signed.json
 *
 * Reads an exported cold batch (custody.cold-batch.v1), verifies and signs every item with the
 * SAME SignTransaction code as the online signer (decision token, approvals, decoded tx vs
 * approval, single use, key state and caps) against the device's own key store
 * (adapters/offline/device-store.ts), writes the device journal back, then writes the signed
 * batch (custody.cold-batch-signed.v1; never overwrites a file). It opens no socket and needs
 * none: run it on a machine without network interfaces. stdout: one JSON summary line
 * (decision ids and refusal codes only); errors: one line on stderr, exit 1 (2: usage).
 */
import { realpathSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { signColdBatch, type ColdBatch } from './application/cold-signing.js';
import { openOfflineDevice } from './adapters/offline/device-store.js';

const USAGE = 'usage: custody-offline-sign --batch <in.json> --key-store <dir> --master-key-file <file> --out <signed.json>';

export async function runOfflineSign(argv: readonly string[], clock: { now(): Date } = { now: () => new Date() }): Promise<{ signed: number; refused: Array<{ decisionId: string; code: string }> }> {
  const { values } = parseArgs({
    args: [...argv],
    options: { batch: { type: 'string' }, 'key-store': { type: 'string' }, 'master-key-file': { type: 'string' }, out: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const batchPath = values.batch;
  const dir = values['key-store'];
  const keyFile = values['master-key-file'];
  const out = values.out;
  if (!batchPath || !dir || !keyFile || !out) throw new UsageError(USAGE);

  const keyText = (await readFile(keyFile, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(keyText)) throw new Error('the master key file must hold 64 lowercase hex characters');
  const masterKey = Uint8Array.from(Buffer.from(keyText, 'hex'));
  const batch = JSON.parse(await readFile(batchPath, 'utf8')) as ColdBatch;
  const device = await openOfflineDevice(dir, masterKey, clock);
  masterKey.fill(0); // the custody keeps its own copy and zeroes it on close
  try {
    const signed = await signColdBatch(batch, { useCase: device.useCase, outcomes: () => device.stores.outcomes });
    // The journal first: a decision signed here is spent on this device even if the copy out fails.
    await device.save();
    await writeFile(out, `${JSON.stringify(signed, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
    return {
      signed: signed.results.filter((r) => r.kind === 'signed').length,
      refused: signed.results.flatMap((r) => (r.kind === 'refused' ? [{ decisionId: r.decisionId, code: r.code }] : [])),
    };
  } finally {
    await device.close();
  }
}

class UsageError extends Error {}

// Run when executed (also through the npm bin symlink), not when imported by a test.
const entry = process.argv[1];
const isMain = entry !== undefined && realpathSync(entry) === fileURLToPath(import.meta.url);
if (isMain) {
  runOfflineSign(process.argv.slice(2)).then(
    (summary) => {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
    },
    (error: unknown) => {
      const code = (error as { code?: unknown }).code;
      process.stderr.write(`custody-offline-sign: ${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : 'failed'}\n`);
      process.exitCode = error instanceof UsageError || code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? 2 : 1;
    },
  );
}
