/**
 * The `marketplace-entitlement` CLI entry point (bundled to dist/cli.mjs). Commands that run cold on
 * every probe take the `node:util` fast path; everything else, `--help` included, goes through yargs,
 * loaded only then.
 *
 * @example
 * node dist/cli.mjs check --public-key-file key.pem
 */
import { commands } from './commands.js';
import { parseFast } from './fast-parse.js';
import { runCommand } from './runner.js';

const argv = process.argv.slice(2);
const command = commands.find((c) => c.name === argv[0]);
const fast = command?.fastPath ? parseFast(command, argv.slice(1)) : undefined;
if (command && fast) {
  await runCommand(command, fast, process.env);
} else {
  const { runWithYargs } = await import('./yargs-cli.js');
  await runWithYargs(argv, commands, (spec, raw) => runCommand(spec, raw, process.env));
}
