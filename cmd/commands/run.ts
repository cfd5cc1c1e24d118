/**
 * `run -- COMMAND [ARGS...]`: the entrypoint wrapper. Registers from this process at every start (never reusing a
 * file), then runs COMMAND with MARKETPLACE_ENTITLEMENT_FILE set, forwarding signals and exiting with its code. With
 * `--pricing custom` the check is a MeterUsage dry run; with `--pricing contract` the licence is held for COMMAND's
 * life and checked in when it exits.
 *
 * @example
 * marketplace-entitlement run --product-code abc123 --public-key-file key.pem -- node server.js
 */
import { pricingOptions, REGISTER_OPTIONS } from '../aws-options.js';
import { LOG_OPTIONS } from '../options.js';
import { defineCommand } from '../spec.js';
import { UsageError } from '../usage-error.js';

export const runEntrypointCommand = defineCommand({
  name: 'run',
  describe:
    'run [options] -- COMMAND [ARGS...]: register, then run COMMAND ' +
    'with MARKETPLACE_ENTITLEMENT_FILE set; exit with its code',
  passThrough: true,
  runsUntilStopped: true,
  options: { ...REGISTER_OPTIONS, ...LOG_OPTIONS },
  examples: [
    [
      '$0 run --product-code abc123 --public-key-file /etc/marketplace/product-key.pem -- node server.js',
      'ENTRYPOINT wrapper',
    ],
    [
      '$0 run --pricing contract --product-sku 1a2b3c4d-sku --entitlement Users:Count:1 -- node server.js',
      'Contract: hold the licence while the app runs',
    ],
  ],
  async run(args, ctx) {
    // Checked before the key is read or AWS is called: nothing would use the entitlement.
    if (args._.length === 0)
      throw new UsageError('Nothing to run: give the command after --, e.g. `run [options] -- node server.js`.');
    const { runEntitled } = await import('../../src/gates/run-entitled.js');
    const options = await pricingOptions(args, ctx);
    return runEntitled(args._, {
      ...options,
      beforeStart: () => {
        ctx.releaseSignals();
        ctx.logger.info?.(`Entitled; starting ${args._[0]}`, { event: 'run.start', command: args._[0] });
      },
    });
  },
});
