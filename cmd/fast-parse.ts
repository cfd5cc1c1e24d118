/**
 * The `node:util` parser every command line tries first: loading yargs costs more than a bare node start, and
 * `check` runs cold every few seconds. It reads the same option table; anything it cannot parse (unknown flag,
 * `--help`, a value starting with a dash, arguments after `--`) is handed to yargs, so errors and help look the
 * same everywhere.
 *
 * @example
 * parseFast(checkCommand, ['--file', '/tmp/e.jwt']); // { file: '/tmp/e.jwt', _: [] }
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { AnyCommand } from './spec.js';

const HELP = new Set(['--help', '-h']);

/** The raw values, or undefined when yargs should handle this command line. */
export function parseFast(spec: AnyCommand, argv: string[]): Record<string, unknown> | undefined {
  if (argv.some((arg) => HELP.has(arg))) return undefined;
  const options: ParseArgsConfig['options'] = {};
  // `multiple`, so an option given twice reaches resolveArgs as a list and is refused there, as yargs' is.
  for (const [name, option] of Object.entries(spec.options))
    options[name] = option.type === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: true };
  const positionalNames = Object.keys(spec.positionals ?? {});
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options,
      allowPositionals: positionalNames.length > 0,
      strict: true,
    });
    // Every positional is required (`inspect <file>`): a missing or extra one is yargs' to report.
    if (positionals.length !== positionalNames.length) return undefined;
    const raw: Record<string, unknown> = { _: [] };
    for (const [name, value] of Object.entries(values))
      raw[name] = Array.isArray(value) && value.length === 1 ? value[0] : value;
    for (const [i, name] of positionalNames.entries()) raw[name] = positionals[i];
    return raw;
  } catch {
    return undefined;
  }
}
