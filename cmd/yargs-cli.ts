/**
 * The yargs front end: every command from the registry with its options, positionals, examples and
 * `MARKETPLACE_*` variable names in `--help`. Parsing only; values go through the shared option table.
 *
 * @example
 * await runWithYargs(process.argv.slice(2), commands, (spec, raw) => runCommand(spec, raw, process.env, bundle));
 */
import { constants } from 'node:os';
import yargs, { type Argv } from 'yargs';
import { ExitCode } from '../src/common/errors.js';
import { envName } from './args.js';
import { EXIT_INTERNAL_ERROR, exitOnUsageError } from './runner.js';
import { PROGRAM, type AnyCommand } from './spec.js';
import { closestName } from './suggest.js';
import { VERSION } from './version.js';

/**
 * What each exit code means, in a few words: the library's (the compiler asks for a new one's) and a bug's. Listed in
 * order (integer keys).
 */
const EXIT_CODE_MEANINGS = {
  [ExitCode.OK]: 'ok',
  [ExitCode.USAGE]: 'usage',
  [ExitCode.VERIFICATION_FAILED]: 'verification failed',
  [ExitCode.NO_INPUT]: 'no input (missing file, unreadable key)',
  [ExitCode.SERVICE_UNAVAILABLE]: 'AWS unavailable (deadline passed)',
  [EXIT_INTERNAL_ERROR]: 'internal error (a bug)',
  [ExitCode.CANNOT_WRITE]: 'cannot write output',
  [ExitCode.UNTRUSTED_SERVER]: 'server not trusted as AWS',
  [ExitCode.NOT_ENTITLED]: 'not entitled',
  [ExitCode.CONFIGURATION]: 'configuration',
} satisfies Record<(typeof ExitCode)[keyof typeof ExitCode] | typeof EXIT_INTERNAL_ERROR, string>;

const EXIT_CODES =
  `Exit codes: ${Object.entries(EXIT_CODE_MEANINGS)
    .map(([code, meaning]) => `${code} ${meaning}`)
    .join(', ')}, ${128 + constants.signals.SIGINT}/${128 + constants.signals.SIGTERM} stopped by SIGINT/SIGTERM. ` +
  'Every option can also be set as MARKETPLACE_<OPTION> (e.g. MARKETPLACE_PRODUCT_CODE); the command line wins.';

export async function runWithYargs(
  argv: string[],
  commands: AnyCommand[],
  run: (spec: AnyCommand, raw: Record<string, unknown>) => Promise<never>,
): Promise<void> {
  let parser = yargs(argv)
    .scriptName(PROGRAM)
    .usage(`$0 <command> [options]\n\nAWS Marketplace paid-container entitlement: register, verify and gate on it.`)
    .parserConfiguration({ 'populate--': true, 'camel-case-expansion': false })
    .strict()
    .demandCommand(1, 'Name a command.')
    .recommendCommands()
    .epilogue(EXIT_CODES)
    .wrap(Math.min(120, process.stdout.columns ?? 100))
    .version('version', 'Show the version number', VERSION)
    .help()
    .alias('help', 'h')
    .fail((message, err) => {
      if (err && !message) throw err;
      const spec = commands.find((c) => c.name === argv[0]);
      exitOnUsageError(spec?.name, withFix(message ?? err?.message ?? 'Invalid command line.', spec, argv));
    });
  for (const spec of commands) {
    parser = parser.command(
      spec.usage ?? spec.name,
      spec.describe,
      (y) => describeCommand(y, spec, argv.includes('-')),
      (raw) => {
        const passedThrough = raw['--'];
        return run(spec, { ...raw, _: spec.passThrough && Array.isArray(passedThrough) ? passedThrough : [] });
      },
    );
  }
  await parser.parseAsync();
}

function describeCommand(y: Argv, spec: AnyCommand, hasDash: boolean): Argv {
  for (const [name, describe] of Object.entries(spec.positionals ?? {})) {
    // yargs-parser turns a lone "-" (stdin, by convention) into an empty value; give it back.
    y = y.positional(name, {
      describe,
      type: 'string',
      coerce: (value: unknown) => (hasDash && (value === '' || value === true) ? '-' : value),
    });
  }
  for (const [name, option] of Object.entries(spec.options)) {
    const notes = [`env ${[envName(name, option), ...(option.envAliases ?? [])].join(' or ')}`];
    if (option.default !== undefined) notes.push(`default ${String(option.default)}`);
    if (option.required === true) notes.push('required');
    if (option.multiple) notes.push('repeatable, or comma-separated');
    y = y.option(name, {
      type: option.type === 'boolean' ? 'boolean' : 'string',
      describe: `${option.describe} [${notes.join(', ')}]`,
      ...(option.choices && { choices: [...option.choices] }),
    });
  }
  for (const [command, description] of spec.examples) y = y.example(command, description);
  return y;
}

/**
 * yargs' "Unknown argument" with the likely fix: the option meant by a misspelt flag, PEM text after a space, a
 * command without `--`; and a misspelt command named before yargs' own "Did you mean".
 */
function withFix(message: string, spec: AnyCommand | undefined, argv: string[]): string {
  if (!spec && /^Did you mean /.test(message)) return `Unknown command ${JSON.stringify(argv[0])}. ${message}`;
  // yargs counts positionals ("got 0, need at least 1"); name the missing one and what it is.
  const positionals = Object.entries(spec?.positionals ?? {});
  if (spec && positionals.length > 0 && /^Not enough non-option arguments/.test(message)) {
    const missing = positionals
      .map(([name, describe]) => `<${name}>: ${describe.charAt(0).toLowerCase()}${describe.slice(1)}`)
      .join('; ');
    return `Missing ${missing} (\`${PROGRAM} ${spec.usage ?? spec.name}\`)`;
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(message)?.[1]?.split(', ');
  if (!unknown) return message;
  const options = Object.keys(spec?.options ?? {});
  const meant = unknown
    .map((arg) => [arg, closestName(arg, options)] as const)
    .filter(([, option]) => option !== undefined);
  if (meant.length > 0) return `${message}. Did you mean ${meant.map(([, option]) => `--${option}`).join(', ')}?`;
  if (unknown.some((arg) => arg.includes('-BEGIN '))) {
    // yargs names only the PEM's first line; the key itself is never repeated.
    return `${message}. PEM text starts with dashes: write --public-key="$KEY" (with =) or set MARKETPLACE_PUBLIC_KEY.`;
  }
  if (spec?.passThrough && unknown.every((arg) => argv.includes(arg))) {
    return (
      `${message}. The command to run goes after --: ` + `\`${PROGRAM} ${spec.name} [options] -- ${unknown.join(' ')}\``
    );
  }
  return message;
}
