/**
 * The command registry: adding a command is one file in `cmd/commands/` and one line here. Command
 * modules import only light code at the top; each `run` loads the library parts it needs, so `check`
 * and `--help` never load the AWS SDK.
 *
 * @example
 * import { commands } from './commands.js';
 * commands.map((c) => c.name); // ['register', 'check', ...]
 */
import { bakeCommand } from './commands/bake.js';
import { checkCommand } from './commands/check.js';
import { demoCommand } from './commands/demo.js';
import { emulatorCommand } from './commands/emulator.js';
import { inspectCommand } from './commands/inspect.js';
import { meterCommand } from './commands/meter.js';
import { registerCommand } from './commands/register.js';
import { runEntrypointCommand } from './commands/run.js';
import { serveCommand } from './commands/serve.js';
import type { AnyCommand } from './spec.js';

export const commands: AnyCommand[] = [
  registerCommand,
  checkCommand,
  inspectCommand,
  serveCommand,
  runEntrypointCommand,
  meterCommand,
  emulatorCommand,
  demoCommand,
  bakeCommand,
];
