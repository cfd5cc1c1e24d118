/**
 * Merging a parsed command line with `MARKETPLACE_<OPTION>` variables and defaults, and typing the values.
 * Both parsers (yargs and the `node:util` fast path) hand their raw strings here, so they agree exactly.
 * Precedence: command line, then environment (an option's own variable, then its documented aliases), then default.
 * Variables naming no option are ignored.
 *
 * @example
 * envName('public-key-file'); // 'MARKETPLACE_PUBLIC_KEY_FILE'
 * parseDuration('30m');       // 1_800_000
 */
import { MAX_TIMER_MS } from '../src/common/duration-option.js';
import type { ArgsOf, CommandSpec, OptionSpec, OptionSpecs, OptionValue, PositionalSpecs } from './spec.js';
import { UsageError } from './usage-error.js';

export const ENV_PREFIX = 'MARKETPLACE_';

/** The environment variable that supplies option `name` (its own `env` when it names one). */
export function envName(name: string, option?: OptionSpec): string {
  return option?.env ?? ENV_PREFIX + name.toUpperCase().replace(/-/g, '_');
}

/** Every variable read for option `name`, in precedence order: its name, then its documented aliases. */
export function envNames(name: string, option: OptionSpec): string[] {
  return [envName(name, option), ...(option.envAliases ?? [])];
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `30m`, `90s`, `1h`, `500ms` (a bare number is seconds) in milliseconds. */
export function parseDuration(text: string): number {
  const match = DURATION.exec(text.trim());
  if (!match) throw new Error(`${JSON.stringify(text)} is not a duration like 30m, 90s, 1h or 500ms`);
  return Math.round(Number(match[1]) * UNIT_MS[match[2] ?? 's']!);
}

/**
 * Milliseconds as a duration option is written, in the largest unit that divides it: a library default in ms
 * becomes the default the help shows (and {@link parseDuration} reads back).
 *
 * @example formatDuration(1_800_000) // '30m'
 */
export function formatDuration(ms: number): string {
  const unit = (['h', 'm', 's'] as const).find((name) => ms !== 0 && ms % UNIT_MS[name]! === 0);
  return unit === undefined ? `${ms}ms` : `${ms / UNIT_MS[unit]!}${unit}`;
}

/**
 * Typed values for every option of `spec`, plus its positionals and `_` (what follows `--`): each value is
 * converted and checked against its option's type here, which is what makes them the {@link ArgsOf} type.
 */
export function resolveArgs<Options extends OptionSpecs, Positionals extends PositionalSpecs>(
  spec: CommandSpec<Options, Positionals>,
  raw: Readonly<Record<string, unknown>>,
  env: NodeJS.ProcessEnv,
): ArgsOf<Options, Positionals> {
  const passedThrough = raw._;
  const args: Record<string, OptionValue> = { _: (Array.isArray(passedThrough) ? passedThrough : []).map(String) };
  for (const name of Object.keys(spec.positionals ?? {})) {
    if (raw[name] !== undefined) args[name] = String(raw[name]);
  }
  for (const [name, option] of Object.entries(spec.options)) {
    const variable = envNames(name, option).find((key) => env[key] !== undefined && env[key] !== '');
    const given = raw[name] ?? (variable === undefined ? undefined : env[variable]);
    const value = given ?? option.default;
    if (value === undefined) continue;
    const source = raw[name] !== undefined ? `--${name}` : (variable ?? envName(name, option));
    args[name] = option.multiple ? listValues(name, option, value, source) : convert(name, option, value, source);
  }
  // After every option is typed: whether one is required may depend on another (--pricing).
  for (const [name, option] of Object.entries(spec.options)) {
    const required =
      (typeof option.required === 'function' ? option.required(args) : option.required === true) ||
      Object.entries(option.requiredWhen ?? {}).some(([other, values]) =>
        values.some((value) => value === args[other]),
      );
    if (required && args[name] === undefined)
      throw new UsageError(
        `--${name} is required (or set ${envName(name, option)}).${misspeltEnvHint(name, spec, env)}`,
      );
  }
  return args as ArgsOf<Options, Positionals>;
}

/**
 * Names a `MARKETPLACE_*` variable that looks meant for option `name` but is spelt otherwise (such variables are
 * ignored, so the operator would only see "required"): the same letters without the underscores.
 */
function misspeltEnvHint(name: string, spec: { options: OptionSpecs }, env: NodeJS.ProcessEnv): string {
  const letters = (text: string) => text.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const known = new Set(Object.entries(spec.options).flatMap(([option, o]) => envNames(option, o)));
  const wanted = envName(name, spec.options[name]);
  const near = Object.keys(env).find(
    (key) => key.startsWith(ENV_PREFIX) && !known.has(key) && letters(key) === letters(wanted),
  );
  return near === undefined ? '' : ` ${near} is set: did you mean ${wanted}?`;
}

/** A repeatable option: every value given, each split at commas; an empty item is refused. */
function listValues(name: string, option: OptionSpec, value: unknown, source: string): string[] {
  const items = (Array.isArray(value) ? value : [value])
    .flatMap((v) => String(v).split(','))
    .map((item) => item.trim());
  if (items.includes(''))
    throw new UsageError(
      `${source} ${JSON.stringify(value)} has an empty item; give one value per ${source} or a comma-separated list.`,
    );
  for (const item of items) convert(name, option, item, source); // choices, if any
  return items;
}

function convert(name: string, option: OptionSpec, value: unknown, source: string): string | number | boolean {
  const bad = (why: string) => new UsageError(`${source} ${JSON.stringify(value)} is not valid: ${why}.`);
  const positive = (number: number) => {
    if (option.positive && !(number > 0)) throw bad('expected more than 0');
    return number;
  };
  if (option.type === 'boolean') {
    if (typeof value === 'boolean') return value;
    if (/^(1|true|yes)$/i.test(String(value))) return true;
    if (/^(0|false|no)$/i.test(String(value))) return false;
    throw bad('expected true or false');
  }
  if (Array.isArray(value)) throw new UsageError(`--${name} was given more than once.`);
  const text = String(value);
  if (option.type === 'number' || option.type === 'port') {
    const number = Number(text);
    if (text.trim() === '' || !Number.isFinite(number)) throw bad('expected a number');
    if (option.type === 'port' && !(Number.isInteger(number) && number >= 0 && number <= 65_535)) {
      throw bad('expected a whole number from 0 to 65535 (0 picks a free port)');
    }
    return positive(number);
  }
  if (option.type === 'duration') {
    let ms: number;
    try {
      ms = parseDuration(text);
    } catch (err) {
      throw bad((err as Error).message);
    }
    // The library refuses it too (a Node timer that long fires after 1 ms), but here the error can name the flag.
    if (ms > MAX_TIMER_MS) throw bad('expected at most 596h (24.8 days, the longest delay a Node timer keeps)');
    return positive(ms);
  }
  if (option.choices && !option.choices.includes(text)) throw bad(`expected one of ${option.choices.join(', ')}`);
  return text;
}
