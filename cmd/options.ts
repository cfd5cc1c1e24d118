/**
 * Option groups shared by several commands, `check` among them (so nothing here may load more than the exec probe
 * needs), and turning their values into library options. The AWS call and pricing groups: cmd/aws-options.ts.
 *
 * @example
 * const inspect = defineCommand({
 *   ...,
 *   options: { ...KEY_OPTIONS, 'product-code': PRODUCT_CODE_OPTION, ...LOG_OPTIONS }
 * });
 */
import { readInputFile } from '../src/common/input-file.js';
import { DEFAULT_PUBLIC_KEY_VERSION } from '../src/registration/public-key-version.js';
import { LOG_FORMATS, LOG_LEVELS } from './log.js';
import type { OptionSpec, OptionsOf } from './spec.js';
import { UsageError } from './usage-error.js';

export const LOG_OPTIONS = {
  'log-format': {
    type: 'string',
    choices: LOG_FORMATS,
    describe:
      'Logs and errors on stderr: text for people, or one JSON ' +
      'object per line (default: text on a terminal, json otherwise)',
  },
  'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info', describe: 'Least severe level logged' },
} as const satisfies Record<string, OptionSpec>;

export const KEY_OPTIONS = {
  'public-key-file': {
    type: 'string',
    describe: "File with the product's public key (PEM) from the AWS Marketplace Management Portal",
  },
  'public-key': { type: 'string', describe: 'The same key as PEM text (instead of --public-key-file)' },
} as const satisfies Record<string, OptionSpec>;

export const PUBLIC_KEY_VERSION_OPTION = {
  type: 'number',
  default: DEFAULT_PUBLIC_KEY_VERSION,
  describe: 'Version of the public key (shown beside it in the Portal)',
} as const satisfies OptionSpec;

export const PRODUCT_CODE_OPTION = {
  type: 'string',
  describe: 'The product code from the AWS Marketplace Management Portal',
} as const satisfies OptionSpec;
export const INSTANCE_ID_OPTION = {
  type: 'string',
  describe:
    'Pod UID or ECS task ARN the entitlement is bound to, where the platform gives none (Kubernetes and ECS give ' +
    'theirs; a differing value is refused)',
} as const satisfies OptionSpec;

/** The product public key PEM from `--public-key-file` or `--public-key`; an unreadable file is exit 66. */
export async function productPublicKey(args: OptionsOf<typeof KEY_OPTIONS>): Promise<string> {
  const file = args['public-key-file'];
  const text = args['public-key'];
  if (file !== undefined && text !== undefined)
    throw new UsageError('Give either --public-key-file or --public-key, not both.');
  if (text !== undefined) return text;
  if (file === undefined) {
    throw new UsageError(
      "The product's public key is required: --public-key-file FILE or --public-key PEM (or " +
        'MARKETPLACE_PUBLIC_KEY_FILE / MARKETPLACE_PUBLIC_KEY).',
    );
  }
  return readInputFile(file, {
    code: 'PUBLIC_KEY_FILE',
    what: 'public key file',
    hint: 'Mount the PEM from the Management Portal there.',
  });
}

/**
 * A comma-separated option's value as a list (blanks around items ignored); undefined when the option is absent.
 * An empty item or a repeated one is a usage error naming the option.
 *
 * @example listOption('dimensions', 'requests, users') // ['requests', 'users']
 */
export function listOption(name: string, text: string): string[];
export function listOption(name: string, text: string | undefined): string[] | undefined;
export function listOption(name: string, text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim());
  if (items.includes(''))
    throw new UsageError(
      `--${name} ${JSON.stringify(text)} has an empty item; expected a comma-separated list like a,b.`,
    );
  const repeated = items.find((item, i) => items.indexOf(item) !== i);
  if (repeated !== undefined) throw new UsageError(`--${name} names ${JSON.stringify(repeated)} twice.`);
  return items;
}
