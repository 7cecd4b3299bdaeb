// Start-up configuration: one zod schema over the environment, validated once, frozen.
//
// The schema's keys are the environment variable names (CUSTODY_*), so every problem can
// name its variable; reshape into a nested object with `.transform()` if you like. Modes
// are discriminated unions keyed by a variable (e.g. CUSTODY_KEYS_KIND).
import type { z } from 'zod';
import { REDACTED, scrubString } from './redact.js';

/** Variables whose values are never printed (the whole name is tested, case-insensitively). */
export const SECRET_VARIABLE = /SECRET|PASSWORD|TOKEN|KEY|PIN/i;

export function isSecretVariable(name: string): boolean {
  return SECRET_VARIABLE.test(name);
}

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export interface ConfigProblem {
  /** Environment variable the problem is about, or '(config)' for a cross-field rule without a path. */
  readonly variable: string;
  /** `expected ..., got ...`, never containing a secret variable's value. */
  readonly message: string;
}

export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}: ${p.message}`);
    super(`invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const MAX_SHOWN = 80;

function describeValue(variable: string, raw: string | undefined): string {
  if (raw === undefined) return 'got nothing (unset)';
  if (isSecretVariable(variable)) return `got ${REDACTED} (secret value not shown)`;
  if (raw === '') return 'got "" (empty)';
  const shown = scrubString(raw);
  return `got ${JSON.stringify(shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown)}`;
}

function stringify(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function describeExpectation(issue: z.core.$ZodIssue): string {
  // Field helpers (config-fields.ts) and careful authors write their own "expected ..." message.
  if (/^expected\b/i.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `expected ${stringify(issue.values[0])}`
        : `expected one of ${issue.values.map(stringify).join(' | ')}`;
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options;
      if (Array.isArray(options) && options.length > 0) return `expected one of ${options.map(stringify).join(' | ')}`;
      return 'expected a value matching one of the allowed forms';
    }
    case 'invalid_format':
      return issue.format === 'regex' && 'pattern' in issue ? `expected to match ${String(issue.pattern)}` : `expected a valid ${issue.format}`;
    case 'too_small':
    case 'too_big':
      return issue.message.replace(/^Too (small|big): /, '');
    default:
      return issue.message;
  }
}

function hideSecret(text: string, variable: string, raw: string | undefined): string {
  if (raw === undefined || raw.length < 4 || !isSecretVariable(variable)) return text;
  return text.split(raw).join(REDACTED);
}

/** Turns zod issues into one line per bad variable (several issues on one variable are joined). */
export function describeConfigIssues(issues: readonly z.core.$ZodIssue[], env: Env): ConfigProblem[] {
  const byVariable = new Map<string, string[]>();
  for (const issue of issues) {
    const head = issue.path[0];
    const variable = typeof head === 'string' ? head : '(config)';
    const list = byVariable.get(variable) ?? [];
    const expectation = describeExpectation(issue);
    if (!list.includes(expectation)) list.push(expectation);
    byVariable.set(variable, list);
  }
  return [...byVariable].map(([variable, expectations]) => {
    const raw = variable === '(config)' ? undefined : env[variable];
    const got = variable === '(config)' ? '' : `, ${describeValue(variable, raw)}`;
    return { variable, message: hideSecret(`${expectations.join('; ')}${got}`, variable, raw) };
  });
}

/**
 * Freezes the config tree. Binary values (a Buffer read from a certificate file, any typed
 * array) cannot be frozen — Object.freeze throws on array buffer views with elements — so
 * they are kept as they are; every object that contains them is frozen.
 */
function deepFreeze<T>(value: T): T {
  if (ArrayBuffer.isView(value)) return value;
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}

/**
 * Validates the environment against `schema` and returns the parsed, deeply frozen config.
 * Call it once, at start-up, from the service's `config.ts`. Throws a {@link ConfigError}
 * listing every bad variable as `NAME: expected ..., got ...`; values of variables whose
 * names match {@link SECRET_VARIABLE} are never included, other values have embedded
 * credentials scrubbed.
 */
export function defineConfig<S extends z.ZodType>(schema: S, env: Env = process.env): DeepReadonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) throw new ConfigError(describeConfigIssues(result.error.issues, env));
  return deepFreeze(result.data) as DeepReadonly<z.output<S>>;
}
