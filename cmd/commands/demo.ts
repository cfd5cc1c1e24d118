/**
 * `demo` (what `npm start` runs): the whole flow against the local emulator started in-process with a
 * fresh key, no AWS account involved: register, then check, then inspect the file; then a contract checkout held
 * by `run` for a short-lived app and checked in when it exits.
 *
 * @example
 * npm start   # = marketplace-entitlement demo
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveArgs } from '../args.js';
import { LOG_OPTIONS } from '../options.js';
import { defineCommand, type CommandSpec, type OptionSpecs, type PositionalSpecs } from '../spec.js';
import { checkCommand } from './check.js';
import { inspectCommand } from './inspect.js';
import { registerCommand } from './register.js';
import { runEntrypointCommand } from './run.js';

const DEMO_PRODUCT_CODE = 'demo-product-0001';
const DEMO_SKU = 'demo-sku-0001';
const DEMO_INSTANCE = 'demo-pod-0000-0000-0001';

export const demoCommand = defineCommand({
  name: 'demo',
  describe: 'Register, check and inspect against the LOCAL emulator (fresh key, no AWS account): what `npm start` runs',
  options: {
    ...LOG_OPTIONS,
    'log-format': { ...LOG_OPTIONS['log-format'], default: 'text' },
    'log-level': { ...LOG_OPTIONS['log-level'], default: 'warn' },
  },
  runsUntilStopped: true,
  examples: [['$0 demo', 'The whole flow in a few seconds, locally']],
  async run(args, ctx) {
    const { startMeteringEmulator } = await import('../../src/emulator/server.js');
    // One emulated contract: a floating pool of 2 users.
    const emulator = await startMeteringEmulator({
      licenses: [{ productSku: DEMO_SKU, entitlements: [{ name: 'Users', unit: 'Count', maxCount: 2 }] }],
    });
    const dir = await mkdtemp(join(tmpdir(), 'marketplace-entitlement-demo-'));
    // Dummy credentials for the emulator: real ones are neither needed nor sent anywhere.
    Object.assign(ctx.env, {
      AWS_ACCESS_KEY_ID: 'AKIDDEMOEMULATOR',
      AWS_SECRET_ACCESS_KEY: 'demo-not-a-secret',
      AWS_SESSION_TOKEN: '',
    });
    try {
      ctx.print(
        `Using the LOCAL Metering emulator at ${emulator.url} with a fresh signing key: nothing here talks to AWS.`,
      );
      const common = {
        'public-key': emulator.publicKeyPem,
        'product-code': DEMO_PRODUCT_CODE,
        'instance-id': DEMO_INSTANCE,
      };
      const file = join(dir, 'entitlement.jwt');
      const step = <Options extends OptionSpecs, Positionals extends PositionalSpecs>(
        spec: CommandSpec<Options, Positionals>,
        raw: Record<string, unknown>,
      ) =>
        spec.run(
          resolveArgs(spec, { ...raw, 'log-format': args['log-format'], 'log-level': args['log-level'] }, {}),
          ctx,
        );

      ctx.print('');
      ctx.print('$ marketplace-entitlement register   (the init container)');
      await step(registerCommand, {
        ...common,
        endpoint: emulator.url,
        region: 'us-east-1',
        out: file,
        deadline: '20s',
      });
      ctx.print('');
      ctx.print('$ marketplace-entitlement check   (the exec probe)');
      await step(checkCommand, { ...common, file });
      ctx.print('');
      ctx.print('$ marketplace-entitlement inspect FILE');
      await step(inspectCommand, { 'public-key': emulator.publicKeyPem, file });
      ctx.print('');
      ctx.print(
        '$ marketplace-entitlement run --pricing contract --product-sku ... ' +
          '--entitlement Users:Count:1 -- node -e ...   (contract pricing)',
      );
      const license = emulator.licenseManager.licenses[0]!;
      const child = `console.log("  the app runs holding licence " + process.env.MARKETPLACE_LICENSE_ARN)`;
      await step(runEntrypointCommand, {
        endpoint: emulator.url,
        region: 'us-east-1',
        deadline: '20s',
        pricing: 'contract',
        'product-sku': DEMO_SKU,
        entitlement: 'Users:Count:1',
        _: [process.execPath, '-e', child],
      });
      const count = (operation: string) => emulator.calls.filter((call) => call.operation === operation).length;
      ctx.print(
        '  checked out, then checked in when the app ' +
          `exited: ${emulator.licenseManager.inUse(license.licenseArn, 'Users')} of 2 users in use now`,
      );
      ctx.print('');
      ctx.print(
        `Done, against the local emulator (${count('RegisterUsage')} ` +
          `RegisterUsage, ${count('CheckoutLicense')} CheckoutLicense, ${count('CheckInLicense')} ` +
          "CheckInLicense call). In a pod, point --public-key-file at your product's key from the AWS " +
          'Marketplace Management Portal (or, for a contract, --product-sku at its SKU) and drop --endpoint.',
      );
    } finally {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
});
