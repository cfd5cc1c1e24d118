/**
 * How a command is declared: its options (one table drives yargs, the `node:util` fast path, the
 * `MARKETPLACE_<OPTION>` environment and the help text) and a `run` that calls the library.
 *
 * @example
 * const hello: CommandSpec = {
 *   name: 'hello', describe: 'Greets', options: { name: { type: 'string', describe: 'Who', default: 'world' } },
 *   examples: [['$0 hello --name you', 'Greets you']],
 *   run: async (args, ctx) => ctx.print(`hello ${args.name}`),
 * };
 */
import type { Logger } from '../src/common/logger.js';
import type { SealedImage } from './sealed.js';

export const PROGRAM = 'marketplace-entitlement';

/** `port`: a whole number from 0 to 65535. */
export type OptionType = 'string' | 'number' | 'boolean' | 'duration' | 'port';

export interface OptionSpec {
  type: OptionType;
  describe: string;
  default?: string | number | boolean;
  choices?: readonly string[];
  /** Numbers and durations: 0 is refused too (e.g. a deadline of 0 could never be met). */
  positive?: boolean;
  /**
   * Checked after the command line and the environment are merged (so env can supply it); a function makes it
   * depend on the other options, e.g. `(args) => args.pricing === 'contract'`.
   */
  required?: boolean | ((args: Args) => boolean);
  /** The variable that supplies it, when it is not MARKETPLACE_<OPTION> (e.g. MARKETPLACE_ENTITLEMENT_FILE). */
  env?: string;
  /** Older variable names still read, after `env` (documented aliases). */
  envAliases?: readonly string[];
  /** Strings only: may be given more than once, and each value (the variable too) may be a comma-separated list. */
  multiple?: boolean;
}

/** Option values after the command line, `MARKETPLACE_*` and defaults are merged and typed (durations in ms). */
export interface Args {
  /** What follows `--` (commands with `passThrough`). */
  _: string[];
  [option: string]: string | number | boolean | undefined | string[];
}

export interface CommandContext {
  logger: Logger;
  /** Aborts on SIGTERM or SIGINT. */
  signal: AbortSignal;
  /** Stop handling SIGTERM/SIGINT (a command that forwards signals itself, like `run`). */
  releaseSignals(): void;
  /** Writes one line to stdout (the human summary, or a command's output). */
  print(line: string): void;
  /** The format of stderr: text for people (a terminal, or asked), json otherwise. */
  logFormat: 'json' | 'text';
  env: NodeJS.ProcessEnv;
  /** The CLI's entry file (dist/cli.mjs): `bake` writes beside it. */
  entryFile: string;
  /** Present when the CLI runs sealed (a baked-config.json beside the entry file). */
  sealed?: SealedImage;
}

export interface CommandSpec {
  name: string;
  /** yargs command string with positionals, e.g. `inspect <file>`. Default: `name`. */
  usage?: string;
  describe: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments, in order, with their help text. */
  positionals?: Record<string, string>;
  examples: [command: string, description: string][];
  /** Everything after `--` is passed through untouched (for `run -- COMMAND`). */
  passThrough?: boolean;
  /**
   * Serves until stopped (`serve`, `run`, `emulator`, `demo`): its output goes through Node's stdout and stderr
   * streams, which queue when the reader stalls instead of blocking the event loop (and with it `/healthz`). Other
   * commands write each line synchronously and exit right after.
   */
  runsUntilStopped?: boolean;
  /** Returns the exit code (default 0); throws an error carrying `exitCode` otherwise. */
  run(args: Args, ctx: CommandContext): Promise<number | void>;
}
