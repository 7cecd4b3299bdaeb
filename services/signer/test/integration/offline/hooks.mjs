// Module hooks for running the offline CLI from its TypeScript source in a child process
// (tests only): @custody/* resolve to their src/, `.js` specifiers of .ts parents resolve to
// the .ts file, which @swc/core
// strips to JavaScript; every resolution (url + parent) is appended to a log file so the
// test can prove which modules the CLI loads.
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import swc from '@swc/core';

let logFile;

export async function initialize(data) {
  logFile = data?.logFile;
}

function record(url, parentURL) {
  if (logFile) appendFileSync(logFile, `${JSON.stringify({ url, parent: parentURL ?? null })}\n`);
}

export async function resolve(specifier, context, next) {
  let result;
  try {
    // Workspace libraries from their source (exports "types" → src/index.ts), as Jest does,
    // so the child runs the current code whatever state dist/ is in.
    result = await next(specifier, specifier.startsWith('@custody/') ? { ...context, conditions: ['types', ...context.conditions] } : context);
  } catch (error) {
    if (!(specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts'))) throw error;
    result = await next(`${specifier.slice(0, -3)}.ts`, context);
  }
  record(result.url, context.parentURL);
  return result;
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  const filename = fileURLToPath(url);
  const { code } = swc.transformSync(readFileSync(filename, 'utf8'), {
    filename,
    // As the repository's .swcrc (Nest decorators in the workspace libraries).
    jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022', keepClassNames: true },
    module: { type: 'es6' },
    sourceMaps: 'inline',
  });
  return { format: 'module', source: code, shortCircuit: true };
}
