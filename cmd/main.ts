/**
 * The whole `marketplace-entitlement` CLI (bundled to dist/cli.mjs, which dist/cli.cjs loads for every command
 * line but a plain `check`). A command line is parsed with `node:util` first: loading yargs costs more than a bare
 * Node start, and an init container or a sidecar starts cold too. Anything that parser cannot take (`--help`, an
 * unknown flag, a value starting with a dash, `run -- COMMAND`) goes through yargs, loaded only then.
 *
 * @example
 * node dist/cli.mjs register --product-code abc123 --public-key-file key.pem
 */
import { fileURLToPath } from 'node:url';
import { commands } from './commands.js';
import { parseFast } from './fast-parse.js';
import { refuseToStart, runCommand, type Bundle } from './runner.js';
import { openSealedImage } from './sealed.js';
import { guardInspectorSignal, LONG_RUNNING_COMMANDS } from './inspector-guard.js';

const argv = process.argv.slice(2);
// Before the first await, also when this file is run directly: serve and run never open an inspector on SIGUSR1.
if (LONG_RUNNING_COMMANDS.has(argv[0] ?? '')) guardInspectorSignal();
// This module's own URL: the entry file, wherever the bundle was installed (chunks may live beside it).
const entryFile = fileURLToPath(import.meta.url);
let bundle: Bundle;
try {
  bundle = { entryFile, sealed: openSealedImage(entryFile, process.env) };
} catch (err) {
  refuseToStart(argv[0], err);
}
const command = commands.find((c) => c.name === argv[0]);
const fast = command ? parseFast(command, argv.slice(1)) : undefined;
if (command && fast) {
  await runCommand(command, fast, process.env, bundle);
} else {
  const { runWithYargs } = await import('./yargs-cli.js');
  await runWithYargs(argv, commands, (spec, raw) => runCommand(spec, raw, process.env, bundle));
}
