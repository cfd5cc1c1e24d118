/**
 * `demo` (what `npm start` runs): the whole flow against the local emulator started in-process with a
 * fresh key, no AWS account involved: register, then check, then inspect the file.
 *
 * @example
 * npm start   # = marketplace-entitlement demo
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveArgs } from '../args.js';
import { LOG_OPTIONS } from '../options.js';
import type { CommandSpec } from '../spec.js';
import { checkCommand } from './check.js';
import { inspectCommand } from './inspect.js';
import { registerCommand } from './register.js';

const DEMO_PRODUCT_CODE = 'demo-product-0001';
const DEMO_INSTANCE = 'demo-pod-0000-0000-0001';

export const demoCommand: CommandSpec = {
  name: 'demo',
  describe: 'Register, check and inspect against the LOCAL emulator (fresh key, no AWS account): what `npm start` runs',
  options: {
    ...LOG_OPTIONS,
    'log-format': { ...LOG_OPTIONS['log-format'], default: 'text' },
    'log-level': { ...LOG_OPTIONS['log-level'], default: 'warn' },
  },
  examples: [['$0 demo', 'The whole flow in a few seconds, locally']],
  async run(args, ctx) {
    const { startMeteringEmulator } = await import('../../src/emulator/server.js');
    const emulator = await startMeteringEmulator();
    const dir = await mkdtemp(join(tmpdir(), 'marketplace-entitlement-demo-'));
    // Dummy credentials for the emulator: real ones are neither needed nor sent anywhere.
    Object.assign(ctx.env, { AWS_ACCESS_KEY_ID: 'AKIDDEMOEMULATOR', AWS_SECRET_ACCESS_KEY: 'demo-not-a-secret', AWS_SESSION_TOKEN: '' });
    try {
      ctx.print(`Using the LOCAL Metering emulator at ${emulator.url} with a fresh signing key: nothing here talks to AWS.`);
      const common = { 'public-key': emulator.publicKeyPem, 'product-code': DEMO_PRODUCT_CODE, 'instance-id': DEMO_INSTANCE };
      const file = join(dir, 'entitlement.jwt');
      const step = (spec: CommandSpec, raw: Record<string, unknown>) =>
        spec.run(resolveArgs(spec, { ...raw, 'log-format': args['log-format'], 'log-level': args['log-level'] }, {}), ctx);

      ctx.print('');
      ctx.print('$ marketplace-entitlement register   (the init container)');
      await step(registerCommand, { ...common, endpoint: emulator.url, region: 'us-east-1', out: file, deadline: '20s' });
      ctx.print('');
      ctx.print('$ marketplace-entitlement check   (the exec probe)');
      await step(checkCommand, { ...common, file });
      ctx.print('');
      ctx.print('$ marketplace-entitlement inspect FILE');
      await step(inspectCommand, { 'public-key': emulator.publicKeyPem, file });
      ctx.print('');
      ctx.print(`Done, against the local emulator (${emulator.calls.length} RegisterUsage call). In a pod, point --public-key-file at your product's key from the AWS Marketplace Management Portal and drop --endpoint.`);
    } finally {
      await emulator.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
