/**
 * How a command is declared: one typed table of its options drives yargs, the `node:util` fast path, the
 * `MARKETPLACE_<OPTION>` environment, the help text and the type of the arguments its `run` receives
 * ({@link ArgsOf}: `--port` of type `port` is a `number`, `--pricing` with `choices` is `'hourly' | 'custom' |
 * 'contract'`, an option without a default or `required: true` may be `undefined`, and one `requiredWhen` the
 * pricing is `contract` is a `string` once `args.pricing === 'contract'` was checked).
 *
 * @example
 * const hello = defineCommand({
 *   name: 'hello', describe: 'Greets', options: { name: { type: 'string', describe: 'Who', default: 'world' } },
 *   examples: [['$0 hello --name you', 'Greets you']],
 *   run: async (args, ctx) => ctx.print(`hello ${args.name}`), // args.name: string
 * });
 */
import type { Logger } from '../src/common/logger.js';
import type { SealedImage } from './baked-config.js';

export const PROGRAM = 'marketplace-entitlement';

/** `port`: a whole number from 0 to 65535; `duration`: `30m`, `90s`, `1h`, `500ms`, typed as milliseconds. */
export type OptionType = 'string' | 'number' | 'boolean' | 'duration' | 'port';

/** A typed option value: strings, numbers (durations in ms), booleans, and a repeatable option's list. */
export type OptionValue = string | number | boolean | string[];

/** Every option of a command typed, before the required ones are checked: what a `required` predicate sees. */
export interface TypedOptions {
  readonly [option: string]: OptionValue | undefined;
}

export interface OptionSpec {
  readonly type: OptionType;
  readonly describe: string;
  /** As it would be given on the command line (a duration as `30m`), so help and docs show it as written. */
  readonly default?: string | number | boolean;
  readonly choices?: readonly string[];
  /** Numbers and durations: 0 is refused too (e.g. a deadline of 0 could never be met). */
  readonly positive?: boolean;
  /**
   * Checked after the command line and the environment are merged (so env can supply it). A function makes it
   * depend on the other options in ways the type cannot follow (its value stays possibly undefined); prefer
   * {@link OptionSpec.requiredWhen}.
   */
  readonly required?: boolean | ((args: TypedOptions) => boolean);
  /**
   * Required when another option (one per table: the table's discriminant) has one of these values, e.g.
   * `{ pricing: ['contract'] }`. The arguments' type follows: after `args.pricing === 'contract'`, the option is set.
   */
  readonly requiredWhen?: Readonly<Record<string, readonly string[]>>;
  /** The variable that supplies it, when it is not MARKETPLACE_<OPTION> (e.g. MARKETPLACE_ENTITLEMENT_FILE). */
  readonly env?: string;
  /** Older variable names still read, after `env` (documented aliases). */
  readonly envAliases?: readonly string[];
  /** Strings only: may be given more than once, and each value (the variable too) may be a comma-separated list. */
  readonly multiple?: boolean;
}

/** A command's options by name (without the dashes). */
export type OptionSpecs = Readonly<Record<string, OptionSpec>>;
/** A command's positional arguments, in order, with their help text. */
export type PositionalSpecs = Readonly<Record<string, string>>;

/** One value of option `O`: its `choices` when it has them. */
type ScalarOf<O extends OptionSpec> = O extends { readonly type: 'boolean' }
  ? boolean
  : O extends { readonly type: 'string' }
    ? O extends { readonly choices: readonly (infer Choice extends string)[] }
      ? Choice
      : string
    : number;

/** The typed value of option `O` (a list when it is `multiple`). */
export type OptionValueOf<O extends OptionSpec> = O extends { readonly multiple: true } ? ScalarOf<O>[] : ScalarOf<O>;

/**
 * Whether option `O` has a value once resolved: it has a default, is always required, or is required when the
 * discriminant option `D` has the value `V`.
 */
type IsSet<O extends OptionSpec, D, V> = O extends { readonly default: string | number | boolean }
  ? true
  : O extends { readonly required: true }
    ? true
    : [D] extends [never]
      ? false
      : [D] extends [string]
        ? O extends { readonly requiredWhen: { readonly [K in D & string]: readonly (infer When)[] } }
          ? [V] extends [When]
            ? true
            : false
          : false
        : false;

/** The option a table's `requiredWhen` depend on (never when none does). */
type DiscriminantOf<Options extends OptionSpecs> = {
  [Name in keyof Options]: Options[Name] extends { readonly requiredWhen: infer When } ? keyof When : never;
}[keyof Options];

/** The values of a table when its discriminant `D` has the value `V` (`D` never: no discriminant). */
type OptionsWhen<Options extends OptionSpecs, D, V> = {
  readonly [Name in keyof Options]: Name extends D
    ? V
    : IsSet<Options[Name], D, V> extends true
      ? OptionValueOf<Options[Name]>
      : OptionValueOf<Options[Name]> | undefined;
};

/**
 * The typed values of an option table: the command line, then `MARKETPLACE_*`, then the default (durations in ms).
 * With `requiredWhen`, a union by the discriminant's value, so comparing it narrows the rest. A table of unknown
 * names (the registry's view of every command) types each value as any {@link OptionValue}. Helpers that read an
 * option group take this (e.g. `OptionsOf<typeof KEY_OPTIONS>`).
 */
export type OptionsOf<Options extends OptionSpecs> = string extends keyof Options
  ? TypedOptions
  : [DiscriminantOf<Options>] extends [never]
    ? OptionsWhen<Options, never, never>
    : DiscriminantOf<Options> extends infer D extends keyof Options
      ? OptionValueOf<Options[D]> extends infer V
        ? V extends unknown
          ? OptionsWhen<Options, D, V>
          : never
        : never
      : never;

/** The arguments a command's `run` receives, inferred from its option table and positionals. */
export type ArgsOf<Options extends OptionSpecs, Positionals extends PositionalSpecs = Record<never, string>> = {
  /** What follows `--` (commands with `passThrough`). */
  readonly _: string[];
} & (string extends keyof Positionals ? unknown : { readonly [Name in keyof Positionals]: string }) &
  OptionsOf<Options>;

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

export interface CommandSpec<
  Options extends OptionSpecs = OptionSpecs,
  Positionals extends PositionalSpecs = PositionalSpecs,
> {
  name: string;
  /** yargs command string with positionals, e.g. `inspect <file>`. Default: `name`. */
  usage?: string;
  describe: string;
  options: Options;
  /** Positional arguments, in order, with their help text; each is required. */
  positionals?: Positionals;
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
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that has no exit code of its own returns nothing.
  run(args: ArgsOf<Options, Positionals>, ctx: CommandContext): Promise<number | void>;
}

/**
 * Any command, as the registry, the parsers and the runner hold it: a command typed by its own table is not a
 * `CommandSpec` of the wider table (TypeScript compares the type arguments), but it is this: its `run` accepts
 * the arguments of its table, each a typed {@link OptionValue}, and `resolveArgs` builds them from that table.
 */
export interface AnyCommand extends Omit<CommandSpec, 'run'> {
  // biome-ignore lint/suspicious/noConfusingVoidType: a handler that has no exit code of its own returns nothing.
  run(args: ArgsOf<OptionSpecs, PositionalSpecs>, ctx: CommandContext): Promise<number | void>;
}

/**
 * A command whose `run` is typed by its own option table: `defineCommand({ options: { port: { type: 'port', ... } },
 * run(args) { args.port } })` gives `args.port: number | undefined`. The identity at run time.
 */
export function defineCommand<
  const Options extends OptionSpecs,
  const Positionals extends PositionalSpecs = Record<never, string>,
>(spec: CommandSpec<Options, Positionals>): CommandSpec<Options, Positionals> {
  return spec;
}
