// Proto workspace checks (CONVENTIONS 5-6): buf lint, buf breaking against the committed
// baseline, and generated code fresh. Each shells out to buf (a native binary, < 1 s).
import { describe, it, expect, afterAll } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const buf = join(root, 'node_modules/.bin/buf');
const scratch = mkdtempSync(join(tmpdir(), 'contracts-proto-spec-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(cmd: string, args: string[]): { ok: boolean; output: string } {
  try {
    const out = execFileSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    return { ok: true, output: out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || e.message };
  }
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)))
    .sort();
}

describe('proto workspace', () => {
  it('buf lint passes (STANDARD)', () => {
    const result = run(buf, ['lint', 'proto']);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('no breaking change against proto/baseline.binpb (FILE)', () => {
    const result = run(buf, ['breaking', 'proto', '--against', 'proto/baseline.binpb']);
    expect(result.output).toBe('');
    expect(result.ok).toBe(true);
  });

  it('the breaking check is not vacuous: renumbering a field is caught', () => {
    const copy = join(scratch, 'proto');
    cpSync(join(root, 'proto'), copy, { recursive: true });
    const file = join(copy, 'custody/events/v1/envelope.proto');
    writeFileSync(file, readFileSync(file, 'utf8').replace('bytes payload = 10;', 'bytes payload = 11;'));
    const result = run(buf, ['breaking', copy, '--against', join(root, 'proto/baseline.binpb')]);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/payload/);
  });

  it('generated code is fresh (scripts/proto-gen.sh output == libs/contracts/src/gen)', () => {
    const out = join(scratch, 'gen');
    const result = run('bash', [join(root, 'scripts/proto-gen.sh'), out]);
    expect(result.ok).toBe(true);
    const committed = join(root, 'libs/contracts/src/gen');
    const expected = filesUnder(out);
    expect(filesUnder(committed)).toEqual(expected);
    const stale = expected.filter((f) => !readFileSync(join(out, f)).equals(readFileSync(join(committed, f))));
    // Run `npm run proto:gen` and commit the result if this fails.
    expect(stale).toEqual([]);
  });
});
