// The shapes every command shares: exit codes, errors that carry one, the I/O a command may
// use (injected, so unit tests run commands without a process), and a command's spec.

/** Exit codes of every `custody` command. */
export const ExitCode = Object.freeze({
  /** Done. */
  OK: 0,
  /** Refused or failed: the server said no (with its reason), a check failed, a tool failed. */
  FAILED: 1,
  /** Bad invocation: unknown command or option, missing or malformed argument. */
  USAGE: 2,
  /** The server or database could not be reached. */
  UNREACHABLE: 3,
} as const);
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error that ends the command with `exitCode`; `reason` is a stable machine code when there is one. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(ExitCode.USAGE, message, 'USAGE');
    this.name = 'UsageError';
  }
}

export interface Io {
  /** Results (tables, JSON). */
  out(text: string): void;
  /** Diagnostics, progress, errors. */
  err(text: string): void;
  readonly env: NodeJS.ProcessEnv;
  /** True when a person can answer a question on stdin. */
  readonly interactive: boolean;
  /** Asks a question on stderr and reads one line from stdin (interactive only). */
  ask(question: string): Promise<string>;
}

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** Shown in --help: `--name <placeholder>`. */
  readonly placeholder?: string;
  readonly description: string;
}

export type ParsedValues = Record<string, string | boolean | string[] | boolean[] | undefined>;

export interface CommandContext {
  readonly values: ParsedValues;
  readonly positionals: readonly string[];
  readonly json: boolean;
  readonly io: Io;
}

export interface CommandSpec {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments as shown in the synopsis, e.g. ['<decision-id>']. */
  readonly positionals?: readonly string[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Further help text (examples, exit codes specific to the command). */
  readonly details?: string;
  run(ctx: CommandContext): Promise<ExitCode>;
}

export interface CommandGroup {
  readonly name: string;
  readonly summary: string;
  readonly commands: readonly CommandSpec[];
  /** The command run when the group is followed by options only (`custody reconcile --asset ETH`). */
  readonly defaultCommand?: string;
}
