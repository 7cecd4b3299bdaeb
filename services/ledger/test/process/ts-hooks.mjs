// Node module hooks (registered by ts-register.mjs) that run the workspace's TypeScript from
// source in a child process, the way Jest does (swc, @custody/* -> src/index.ts, `.js`
// relative imports -> `.ts`). Test plumbing only: production runs the swc build (dist/).
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';

const root = new URL('../../../../', import.meta.url);

export async function resolve(specifier, context, next) {
  const pkg = /^@custody\/([a-z-]+)$/.exec(specifier);
  if (pkg) {
    for (const base of ['libs', 'services']) {
      const url = new URL(`${base}/${pkg[1]}/src/index.ts`, root);
      if (existsSync(url)) return { url: url.href, shortCircuit: true };
    }
  }
  if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
    const url = new URL(specifier.replace(/\.js$/, '.ts'), context.parentURL);
    if (existsSync(url)) return { url: url.href, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.endsWith('.ts')) return next(url, context);
  const source = await readFile(new URL(url), 'utf8');
  const { code } = transformSync(source, {
    filename: fileURLToPath(url),
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022', keepClassNames: true },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
}
