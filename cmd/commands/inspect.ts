/**
 * `inspect FILE|-`: decode an entitlement file or a bare AWS RegisterUsage token for people, and verify it
 * when a key is given (exit 65 when it does not verify).
 *
 * @example
 * marketplace-entitlement inspect /var/run/marketplace-entitlement/entitlement.jwt --public-key-file key.pem
 */
import { readInputFile, readInputStream } from '../../src/common/input-file.js';
import { VerificationError } from '../../src/common/errors.js';
import { KEY_OPTIONS, LOG_OPTIONS, PRODUCT_CODE_OPTION, productPublicKey } from '../options.js';
import { defineCommand } from '../spec.js';

export const inspectCommand = defineCommand({
  name: 'inspect',
  usage: 'inspect <file>',
  describe: 'Decode an entitlement file or an AWS RegisterUsage token; verify it when a key is given',
  positionals: { file: 'The entitlement file or token file, or - for stdin' },
  options: {
    ...KEY_OPTIONS,
    'product-code': { ...PRODUCT_CODE_OPTION, describe: 'When given, the file must be for this product' },
    ...LOG_OPTIONS,
  },
  examples: [
    ['$0 inspect /var/run/marketplace-entitlement/entitlement.jwt', 'Decode only'],
    [
      '$0 inspect entitlement.jwt --public-key-file product-key.pem',
      'Decode and verify (exit 65 if it does not verify)',
    ],
    ['echo "$TOKEN" | $0 inspect -', 'Decode a token from stdin'],
  ],
  async run(args, ctx) {
    const { inspectToken, formatInspection } = await import('../../src/entitlement-file/inspect.js');
    const file = args.file;
    const text =
      file === '-'
        ? await readInputStream(process.stdin, { code: 'INSPECT_INPUT', what: 'standard input' })
        : await readInputFile(file, { code: 'INSPECT_INPUT', what: 'file to inspect' });
    const hasKey = args['public-key-file'] !== undefined || args['public-key'] !== undefined;
    const inspection = await inspectToken(text, {
      ...(hasKey && { publicKey: await productPublicKey(args) }),
      ...(args['product-code'] !== undefined && { productCode: args['product-code'] }),
    });
    process.stdout.write(`${formatInspection(inspection)}\n`);
    const verdict = inspection.verification;
    if (verdict && !verdict.ok) throw new VerificationError(verdict.code, verdict.message);
    ctx.print(
      verdict ? `verified: ${inspection.kind} (${file})` : `decoded, not verified: ${inspection.kind} (${file})`,
    );
  },
});
