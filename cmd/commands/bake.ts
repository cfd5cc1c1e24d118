/**
 * `bake` (at image build): vets the product code and key with the runtime's own checks and writes
 * `baked-config.json` beside the CLI's entry file (or into `--into DIR`, another copy of the bundle). A CLI that
 * finds that file beside itself runs sealed (docs/threat-model.md).
 *
 * @example
 * marketplace-entitlement bake --product-code abc123 --public-key-file product-key.pem --instance-binding platform
 */
import { dirname, join, resolve } from 'node:path';
import { INSTANCE_BINDINGS } from '../../src/platform/instance-id.js';
import { readInputFile } from '../../src/common/input-file.js';
import { BAKED_CONFIG_FILE, BAKED_CONFIG_VERSION, type BakedConfig } from '../baked-config.js';
import { KEY_OPTIONS, LOG_OPTIONS, PRODUCT_CODE_OPTION, PUBLIC_KEY_VERSION_OPTION } from '../options.js';
import { defineCommand } from '../spec.js';

/** The `bake` command (see the module comment). */
export const bakeCommand = defineCommand({
  name: 'bake',
  describe: `Seal this CLI at image build: vet the product code and key, write ${BAKED_CONFIG_FILE} beside the bundle`,
  options: {
    'product-code': { ...PRODUCT_CODE_OPTION, required: true },
    'public-key-file': { ...KEY_OPTIONS['public-key-file'], required: true },
    'public-key-version': PUBLIC_KEY_VERSION_OPTION,
    'instance-binding': {
      type: 'string',
      choices: INSTANCE_BINDINGS,
      default: 'platform',
      describe:
        'Where the sealed CLI must run: platform (a Kubernetes ' +
        'pod or an ECS task), kubernetes, ecs, or none (anywhere)',
    },
    'tls-roots': {
      type: 'string',
      describe:
        "A PEM bundle FILE of the only CAs the sealed CLI trusts for AWS's servers (a test CA for a pre-release " +
        "run); default Amazon's roots",
    },
    into: { type: 'string', describe: 'Seal the bundle in this directory instead of the running one' },
    ...LOG_OPTIONS,
  },
  examples: [
    [
      '$0 bake --product-code abc123 --public-key-file product-key.pem',
      'In the Dockerfile, after installing the bundle',
    ],
    [
      '$0 bake --product-code abc123 --public-key-file emulator-key.pem --tls-roots test-ca.pem',
      'A pre-release image that trusts the emulator (docs/aws-as-production.md)',
    ],
  ],
  async run(args, ctx) {
    const [
      { productCode: checkProductCode },
      { isPublicKeyVersion, MAX_PUBLIC_KEY_VERSION },
      { loadProductPublicKey },
      { writeFileAtomic },
      { ConfigurationError },
      { checkTlsRoots },
    ] = await Promise.all([
      import('../../src/metering/validation.js'),
      import('../../src/registration/public-key-version.js'),
      import('../../src/registration/public-key.js'),
      import('../../src/common/atomic-write.js'),
      import('../../src/common/errors.js'),
      import('../../src/aws/tls-roots.js'),
    ]);
    const version = args['public-key-version'];
    if (!isPublicKeyVersion(version)) {
      throw new ConfigurationError(
        'INVALID_PUBLIC_KEY_VERSION',
        `--public-key-version ${version} is not valid: a whole number from 1 to ${MAX_PUBLIC_KEY_VERSION}, as shown ` +
          'beside the key in the Portal.',
      );
    }
    const keyFile = args['public-key-file'];
    const key = loadProductPublicKey(
      await readInputFile(keyFile, { code: 'PUBLIC_KEY_FILE', what: 'public key file' }),
    );
    const config: BakedConfig = {
      version: BAKED_CONFIG_VERSION,
      productCode: checkProductCode(args['product-code'], 'productCode'),
      publicKey: key.export({ type: 'spki', format: 'pem' }) as string,
      publicKeyVersion: version,
      instanceBinding: args['instance-binding'],
    };
    const tlsRootsFile = args['tls-roots'];
    if (tlsRootsFile !== undefined) {
      const roots = checkTlsRoots(
        await readInputFile(tlsRootsFile, { code: 'TLS_ROOTS_FILE', what: '--tls-roots file' }),
      );
      if (roots === 'aws' || roots === 'system') {
        throw new ConfigurationError(
          'INVALID_TLS_ROOTS',
          `--tls-roots ${tlsRootsFile} holds no PEM certificates; leave the option out for Amazon's roots.`,
        );
      }
      config.tlsRoots = roots;
    }
    const file = join(args.into === undefined ? dirname(ctx.entryFile) : resolve(args.into), BAKED_CONFIG_FILE);
    await writeFileAtomic(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o444 });
    const roots = config.tlsRoots ? 'the baked TLS roots' : "Amazon's TLS roots";
    ctx.print(
      `sealed: product ${config.productCode}, key version ${version}, instance ` +
        `binding ${config.instanceBinding}, ${roots}; wrote ${file}`,
    );
  },
});
