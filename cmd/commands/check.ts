/**
 * `check`: the exec healthcheck. Verifies the entitlement file offline (no AWS call, no AWS SDK loaded):
 * exit 0 valid, 65 invalid, 66 missing. Run by dist/cli.cjs alone (cmd/entry.ts): it runs cold every few seconds per
 * pod.
 *
 * @example
 * marketplace-entitlement check --public-key-file /etc/marketplace/product-key.pem --product-code abc123
 */
import { DEFAULT_ENTITLEMENT_FILE, ENTITLEMENT_FILE_ENV } from '../../src/entitlement-file/entitlement-file-path.js';
import { INSTANCE_ID_OPTION, KEY_OPTIONS, LOG_OPTIONS, PRODUCT_CODE_OPTION, productPublicKey } from '../options.js';
import { defineCommand } from '../spec.js';

export const checkCommand = defineCommand({
  name: 'check',
  describe: 'Verify the signed entitlement file (exec probe): exit 0 valid, 65 invalid, 66 missing',
  options: {
    file: {
      type: 'string',
      default: DEFAULT_ENTITLEMENT_FILE,
      env: ENTITLEMENT_FILE_ENV,
      envAliases: ['MARKETPLACE_FILE'],
      describe: 'The entitlement file to verify',
    },
    ...KEY_OPTIONS,
    'product-code': { ...PRODUCT_CODE_OPTION, describe: 'When given, the file must be for this product' },
    'instance-id': INSTANCE_ID_OPTION,
    'max-age': { type: 'duration', describe: 'Reject a file signed longer ago than this (e.g. 24h); default no limit' },
    ...LOG_OPTIONS,
  },
  examples: [
    ['$0 check --public-key-file /etc/marketplace/product-key.pem --product-code abc123', 'Exec readiness probe'],
    ['$0 check --file /shared/entitlement.jwt --public-key="$KEY" --max-age 24h', 'Also refuse files older than a day'],
  ],
  async run(args, ctx) {
    const { verifyEntitlementFileForThisInstance } = await import('../../src/entitlement-file/entitlement-file.js');
    const file = args.file;
    const claims = await verifyEntitlementFileForThisInstance(file, {
      publicKey: await productPublicKey(args),
      env: ctx.env,
      ...(ctx.sealed && {
        instanceBinding: ctx.sealed.config.instanceBinding,
        publicKeyVersion: ctx.sealed.config.publicKeyVersion,
      }),
      ...(args['instance-id'] !== undefined && { instanceId: args['instance-id'] }),
      ...(args['product-code'] !== undefined && { productCode: args['product-code'] }),
      ...(args['max-age'] !== undefined && { maxAgeSec: args['max-age'] / 1000 }),
    });
    ctx.print(
      `valid: product ${claims.productCode} registered at ${claims.registeredAt.toISOString()}` +
        `${claims.instance ? ` for instance ${claims.instance}` : ''} (${file})`,
    );
  },
});
