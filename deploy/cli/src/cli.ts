// Dispatch: `custody <group> <command> [options]` → the command's run(), with help texts,
// usage errors and every failure turned into an exit code. Nothing here knows a command.
import { commandHelp, groupHelp, parseCommandArgs, topHelp } from './args.js';
import { CliError, ExitCode, UsageError, type CommandGroup, type Io } from './types.js';

const HELP = new Set(['-h', '--help', 'help']);

export async function runCli(argv: readonly string[], io: Io, groups: readonly CommandGroup[]): Promise<ExitCode> {
  const [groupName, ...afterGroup] = argv;
  const json = argv.includes('--json');
  try {
    if (groupName === undefined) {
      io.err(topHelp(groups));
      return ExitCode.USAGE;
    }
    if (HELP.has(groupName)) {
      io.out(topHelp(groups));
      return ExitCode.OK;
    }
    const group = groups.find((g) => g.name === groupName);
    if (!group) throw new UsageError(`unknown command group "${groupName}" (groups: ${groups.map((g) => g.name).join(', ')})`);
    // A group with a default command takes options right after its name.
    const implicit = group.defaultCommand !== undefined && (afterGroup[0] === undefined || afterGroup[0].startsWith('-'));
    const [commandName, ...rest] = implicit ? [group.defaultCommand, ...afterGroup] : afterGroup;
    if (commandName === undefined) {
      io.err(groupHelp(group));
      return ExitCode.USAGE;
    }
    if (HELP.has(commandName)) {
      io.out(groupHelp(group));
      return ExitCode.OK;
    }
    const spec = group.commands.find((c) => c.name === commandName);
    if (!spec) throw new UsageError(`unknown command "${group.name} ${commandName}" (commands: ${group.commands.map((c) => c.name).join(', ')})`);
    const parsed = parseCommandArgs(spec, rest);
    if (parsed.values['help'] === true) {
      io.out(commandHelp(group, spec));
      return ExitCode.OK;
    }
    return await spec.run({ values: parsed.values, positionals: parsed.positionals, json: parsed.values['json'] === true, io });
  } catch (err) {
    const e = err instanceof CliError ? err : new CliError(ExitCode.FAILED, `unexpected error: ${(err as Error)?.message ?? String(err)}`, 'INTERNAL');
    if (json) io.out(JSON.stringify({ ok: false, exitCode: e.exitCode, reason: e.reason ?? null, message: e.message }));
    io.err(`custody: ${e.message}${e.exitCode === ExitCode.USAGE ? ' (see --help)' : ''}`);
    return e.exitCode;
  }
}
