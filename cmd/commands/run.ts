/**
 * `run -- COMMAND [ARGS...]`: the entrypoint wrapper. Registers (or reuses a valid file for this instance),
 * then runs COMMAND with MARKETPLACE_ENTITLEMENT_FILE set, forwarding signals and exiting with its code.
 *
 * @example
 * marketplace-entitlement run --product-code abc123 --public-key-file key.pem -- node server.js
 */
import { entitlementOptions, LOG_OPTIONS, REGISTER_OPTIONS } from '../options.js';
import type { CommandSpec } from '../spec.js';
import { UsageError } from '../usage-error.js';

export const runEntrypointCommand: CommandSpec = {
  name: 'run',
  describe: 'run [options] -- COMMAND [ARGS...]: register, then run COMMAND with MARKETPLACE_ENTITLEMENT_FILE set; exit with its code',
  passThrough: true,
  options: { ...REGISTER_OPTIONS, ...LOG_OPTIONS },
  examples: [
    ['$0 run --product-code abc123 --public-key-file /etc/marketplace/product-key.pem -- node server.js', 'ENTRYPOINT wrapper'],
  ],
  async run(args, ctx) {
    // Checked before the key is read or AWS is called: nothing would use the entitlement.
    if (args._.length === 0) throw new UsageError('Nothing to run: give the command after --, e.g. `run [options] -- node server.js`.');
    const { runEntitled } = await import('../../src/run-entitled.js');
    const options = await entitlementOptions(args, ctx);
    return runEntitled(args._, {
      ...options,
      beforeStart: () => {
        ctx.releaseSignals();
        ctx.logger.info?.(`Entitled; starting ${args._[0]}`, { event: 'run.start', command: args._[0] });
      },
    });
  },
};
