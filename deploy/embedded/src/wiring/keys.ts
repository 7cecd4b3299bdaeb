// Local key material of the embedded default ("local sealed store" in the architecture's
// table, reduced to what exists today): 32-byte seeds kept in the data directory, mode 0600,
// generated once and reused, so signatures made before a restart still verify after it.
// Never printed, never logged.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function localSeed(dataDir: string, name: string): Promise<Uint8Array> {
  if (!/^[a-z0-9-]+$/.test(name)) throw new TypeError(`bad key name ${JSON.stringify(name)}`);
  const file = join(dataDir, 'keys', `${name}.seed`);
  try {
    const hex = (await readFile(file, 'utf8')).trim();
    if (/^[0-9a-f]{64}$/.test(hex)) return new Uint8Array(Buffer.from(hex, 'hex'));
    throw new Error(`${file} is not a 32-byte hex seed; delete it to generate a new key`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  const seed = randomBytes(32);
  await writeFile(file, `${seed.toString('hex')}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return new Uint8Array(seed);
}
