// deploy/docker/Dockerfile, parsed (no Docker engine here): multi-stage, pinned bases,
// lockfile install, non-root distroless runtime selecting services/$SERVICE/dist/main.js.
import { describe, expect, it } from '@jest/globals';
import { readRepoFile } from './harness.js';

const text = readRepoFile('deploy/docker/Dockerfile');
// join continuation lines, drop comments
const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const instr = (l: string): string => l.split(/\s+/)[0]!.toUpperCase();
const stages: string[][] = [];
const preamble: string[] = [];
for (const l of lines) {
  if (instr(l) === 'FROM') stages.push([l]);
  else (stages.at(-1) ?? preamble).push(l);
}
const args = Object.fromEntries(preamble.filter((l) => instr(l) === 'ARG').map((l) => l.slice(4).split('=') as [string, string]));

describe('Dockerfile', () => {
  it('is multi-stage: a node:20-bookworm-slim build and a distroless runtime, both pinned by digest', () => {
    expect(stages).toHaveLength(2);
    expect(stages[0]![0]).toBe('FROM ${BUILD_IMAGE} AS build');
    expect(stages[1]![0]).toBe('FROM ${RUNTIME_IMAGE} AS runtime');
    expect(args.BUILD_IMAGE).toMatch(/^node:20-bookworm-slim@sha256:[a-f0-9]{64}$/);
    expect(args.RUNTIME_IMAGE).toMatch(/^gcr\.io\/distroless\/nodejs20-debian12:nonroot@sha256:[a-f0-9]{64}$/);
  });

  it('uses no latest tag and no unpinned base anywhere', () => {
    expect(text).not.toMatch(/:latest\b/);
    for (const s of stages) expect(s[0]).toMatch(/^FROM \$\{[A-Z_]+\} AS [a-z]+$/);
  });

  it('installs only from the lockfile (npm ci), never npm install; node-gyp has its toolchain for native addons', () => {
    const runs = lines.filter((l) => instr(l) === 'RUN').join('\n');
    expect(runs).toMatch(/npm ci(\s|$)/);
    // runtime tree = the lockfile install minus dev dependencies; a second `npm ci --omit=dev
    // --ignore-scripts` would drop pkcs11js's compiled addon (found by a buildah build)
    expect(runs).toMatch(/npm prune --omit=dev/);
    expect(runs).not.toMatch(/--ignore-scripts/);
    expect(runs).not.toMatch(/npm (install|i)\b/);
    expect(lines).toContain('COPY package.json package-lock.json .swcrc tsconfig.base.json ./');
    expect(runs).toMatch(/apt-get install -y --no-install-recommends python3 make g\+\+[^\n]*\n(RUN [^\n]*\n)*RUN --mount=type=cache,target=\/root\/.npm npm ci\n/);
  });

  it('the runtime stage runs as a non-root numeric user and starts services/$SERVICE/dist/main.js', () => {
    const runtime = stages[1]!;
    const users = runtime.filter((l) => instr(l) === 'USER');
    expect(users).toHaveLength(1);
    const uid = users[0]!.split(/\s+/)[1]!.split(':')[0]!;
    expect(uid).toMatch(/^[0-9]+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    expect(runtime.at(-1)).toBe('CMD ["main.mjs"]');
    expect(runtime.filter((l) => instr(l) === 'RUN')).toEqual([]); // distroless: no shell
    expect(text).toMatch(/printf "import '\.\/services\/%s\/dist\/main\.js';\\n" "\$\{SERVICE\}" > \/app\/main\.mjs/);
    expect(runtime.some((l) => l.includes('/app/services/${SERVICE}/dist /app/services/${SERVICE}/dist'))).toBe(true);
    // every file root-owned; /app created by COPY (root), not by WORKDIR under the nonroot base user
    for (const l of runtime.filter((x) => instr(x) === 'COPY')) expect(l).toMatch(/^COPY (--from=build )?--chown=0:0 /);
    expect(runtime.findIndex((l) => instr(l) === 'WORKDIR')).toBeGreaterThan(runtime.findIndex((l) => instr(l) === 'COPY'));
    expect(stages[0]!.some((l) => l.includes('test -n "${SERVICE}"'))).toBe(true);
  });
});
