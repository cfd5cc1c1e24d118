/**
 * `register`: the init container. Calls RegisterUsage (retrying until --deadline), verifies AWS's signed
 * answer and writes the signed entitlement file atomically; exit 0 only with the file written. With `--pricing custom`
 * the check is a MeterUsage dry run and no file is written; `--pricing contract` is a usage error (exit 64): a
 * licence must be held by a live process (`serve`, `run`).
 *
 * @example
 * marketplace-entitlement register --product-code abc123 --public-key-file /etc/marketplace/key.pem
 */
import { customPricingOptions, entitlementOptions, REGISTER_OPTIONS } from '../aws-options.js';
import { LOG_OPTIONS } from '../options.js';
import { defineCommand } from '../spec.js';
import { UsageError } from '../usage-error.js';

export const registerCommand = defineCommand({
  name: 'register',
  describe:
    'Register this pod/task with AWS Marketplace (RegisterUsage) and write the signed entitlement file; --pricing ' +
    'custom: a MeterUsage dry run, no file',
  options: { ...REGISTER_OPTIONS, ...LOG_OPTIONS },
  examples: [
    [
      '$0 register --product-code abc123 --public-key-file /etc/marketplace/product-key.pem',
      'Init container: register and write the file',
    ],
    [
      'MARKETPLACE_PRODUCT_CODE=abc123 MARKETPLACE_PUBLIC_KEY="$KEY" $0 register --out /shared/entitlement.jwt',
      'The same, configured from the environment',
    ],
    [
      'AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test $0 register --product-code abc123 --public-key-file ' +
        '/tmp/emulator-key.pem --endpoint http://127.0.0.1:8443 --region us-east-1 --out ./entitlement.jwt',
      'Against a local emulator (any credentials; it checks only that calls are signed)',
    ],
  ],
  async run(args, ctx) {
    if (args.pricing === 'contract') {
      throw new UsageError(
        'register --pricing contract: a contract licence is held by a live process and ' +
          'checked in when it ends, so there is nothing for an init container to leave behind ' +
          '(and no file: Marketplace licences have no public key to sign one with). Use ' +
          '`serve --pricing contract` (a sidecar) or `run --pricing contract -- COMMAND`.',
      );
    }
    if (args.pricing === 'custom') {
      const { ensureMeteringEntitled } = await import('../../src/metering/custom-entitlement.js');
      const checked = await ensureMeteringEntitled(await customPricingOptions(args, ctx));
      ctx.print(
        `entitled: product ${checked.productCode}, MeterUsage dry run ` +
          `for ${checked.dimension} permitted after ${checked.attempts} attempt(s); ` +
          'no file written (custom metering has no signed answer to bind one to)',
      );
      return;
    }
    const { ensureEntitled } = await import('../../src/registration/register.js');
    const entitlement = await ensureEntitled(await entitlementOptions(args, ctx));
    ctx.print(
      `entitled: product ${entitlement.productCode} registered at ${entitlement.issuedAt.toISOString()}` +
        `${entitlement.issuedAtSource === 'received' ? ' (when the answer arrived: the token has no iat)' : ''} ` +
        `for ${entitlement.instance ? `instance ${entitlement.instance}` : 'no known instance'} ` +
        `after ${entitlement.attempts} attempt(s); wrote ${entitlement.entitlementFile}`,
    );
  },
});
