/**
 * The CLI's front door, bundled to dist/cli.cjs: `bin`, the image's ENTRYPOINT and every probe run this file.
 *
 * `check` is the exec probe: it runs cold every few seconds in every pod, so its start-up is the product's running
 * cost. It is verified right here, in a small CommonJS bundle: no ES module loader (an empty ES entry alone costs a
 * good part of a bare Node start: docs/benchmarks.md), no yargs, no AWS SDK. Every other command line, and a `check`
 * line the `node:util` parser cannot take (`--help`, an unknown flag), goes to the whole CLI (cmd/main.ts, bundled
 * to dist/cli.mjs), which parses it again from the start, so errors and help look the same everywhere.
 *
 * @example
 * node dist/cli.cjs check --public-key-file key.pem   # verified here
 * node dist/cli.cjs register --product-code abc123    # loads dist/cli.mjs
 */
import { checkCommand } from './commands/check.js';
import { parseFast } from './fast-parse.js';
import { refuseToStart, runCommand, type Bundle } from './runner.js';
import { openSealedImage } from './sealed.js';
import { guardInspectorSignal, LONG_RUNNING_COMMANDS } from './inspector-guard.js';

const argv = process.argv.slice(2);
// Before anything asynchronous (the import of the whole CLI below): serve and run never open an inspector on SIGUSR1.
if (LONG_RUNNING_COMMANDS.has(argv[0] ?? '')) guardInspectorSignal();
const checkArgs = argv[0] === checkCommand.name ? parseFast(checkCommand, argv.slice(1)) : undefined;
if (checkArgs) {
  // This CommonJS bundle's own path: a sealed image's baked-config.json lies beside it (and beside dist/cli.mjs).
  let bundle: Bundle | undefined;
  try {
    bundle = { entryFile: __filename, sealed: openSealedImage(__filename, process.env) };
  } catch (err) {
    refuseToStart(checkCommand.name, err);
  }
  void runCommand(checkCommand, checkArgs, process.env, bundle);
} else {
  // A failure to load the whole CLI is an unhandled rejection: Node prints it and exits 1.
  void import('./main.js');
}
