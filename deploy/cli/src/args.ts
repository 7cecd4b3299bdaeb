// Argument parsing with node:util parseArgs (strict: unknown options are usage errors) and
// the help texts, generated from the same specs so they cannot drift apart.
import { parseArgs } from 'node:util';
import { UsageError, type CommandGroup, type CommandSpec, type OptionSpec, type ParsedValues } from './types.js';

/** Options every command accepts. */
export const COMMON_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  help: { type: 'boolean', short: 'h', description: 'show this help' },
  json: { type: 'boolean', description: 'machine-readable output on stdout (one JSON document)' },
});

export interface ParsedCommand {
  readonly values: ParsedValues;
  readonly positionals: readonly string[];
}

export function parseCommandArgs(spec: CommandSpec, args: readonly string[]): ParsedCommand {
  const options = { ...spec.options, ...COMMON_OPTIONS };
  let parsed: { values: ParsedValues; positionals: string[] };
  try {
    parsed = parseArgs({
      args: [...args],
      options: Object.fromEntries(Object.entries(options).map(([name, o]) => [name, { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) }])),
      allowPositionals: true,
      strict: true,
    }) as { values: ParsedValues; positionals: string[] };
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  if (parsed.values['help'] === true) return parsed;
  const expected = spec.positionals ?? [];
  if (parsed.positionals.length !== expected.length) {
    throw new UsageError(expected.length === 0 ? `unexpected argument: ${parsed.positionals[0]}` : `expected ${expected.join(' ')}, got ${parsed.positionals.length} argument(s)`);
  }
  return parsed;
}

/** A string option's value, or undefined. */
export function stringOption(values: ParsedValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A required string option. */
export function requiredOption(values: ParsedValues, name: string): string {
  const v = stringOption(values, name);
  if (v === undefined || v.length === 0) throw new UsageError(`--${name} is required`);
  return v;
}

/** An integer option within [min, max]. */
export function integerOption(values: ParsedValues, name: string, min: number, max: number, fallback: number): number {
  const v = stringOption(values, name);
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(v);
}

function optionLine(name: string, o: OptionSpec): [string, string] {
  const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` <${o.placeholder ?? 'value'}>` : ''}`;
  return [flag, `${o.description}${o.multiple ? ' (repeatable)' : ''}`];
}

function columns(rows: readonly [string, string][]): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return rows.map(([a, b]) => `  ${a.padEnd(width)}  ${b}`).join('\n');
}

export function commandHelp(group: CommandGroup, spec: CommandSpec): string {
  const synopsis = ['custody', group.name, spec.name, ...(spec.positionals ?? []), '[options]'].join(' ');
  const options = { ...spec.options, ...COMMON_OPTIONS };
  return [
    `Usage: ${synopsis}`,
    '',
    spec.summary,
    '',
    'Options:',
    columns(Object.entries(options).map(([n, o]) => optionLine(n, o))),
    ...(spec.details ? ['', spec.details] : []),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

export function groupHelp(group: CommandGroup): string {
  return [`Usage: custody ${group.name} <command> [options]`, '', group.summary, '', 'Commands:', columns(group.commands.map((c) => [c.name, c.summary])), '', `Run \`custody ${group.name} <command> --help\` for a command's options.`].join('\n');
}

export function topHelp(groups: readonly CommandGroup[]): string {
  return [
    'Usage: custody <group> <command> [options]',
    '',
    'The custody operator CLI: a thin client of the services\' operator APIs and of the',
    'repository\'s verification tools. Every command has --help and --json.',
    '',
    'Groups:',
    columns(groups.map((g) => [g.name, g.summary])),
    '',
    EXIT_CODES_HELP,
  ].join('\n');
}

export const EXIT_CODES_HELP = 'Exit codes: 0 ok, 1 refused or failed (the reason is printed), 2 usage error, 3 unreachable.';
