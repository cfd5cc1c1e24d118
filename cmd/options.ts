/**
 * Option groups shared by several commands, and turning their values into library options.
 *
 * @example
 * const register: CommandSpec = { ..., options: { ...REGISTER_OPTIONS, out: OUT_OPTION, ...LOG_OPTIONS } };
 */
import { DEFAULT_ENTITLEMENT_FILE } from '../src/entitlement-file-path.js';
import { readInputFile } from '../src/input-file.js';
import type { MeteringCallOptions } from '../src/metering/call.js';
import type { EnsureEntitledOptions } from '../src/register.js';
import { LOG_FORMATS, LOG_LEVELS } from './log.js';
import type { Args, CommandContext, OptionSpec } from './spec.js';
import { UsageError } from './usage-error.js';

export const LOG_OPTIONS = {
  'log-format': { type: 'string', choices: LOG_FORMATS, default: 'json', describe: 'Logs on stderr: one JSON object per line, or text for people' },
  'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info', describe: 'Least severe level logged' },
} satisfies Record<string, OptionSpec>;

export const KEY_OPTIONS = {
  'public-key-file': { type: 'string', describe: "File with the product's public key (PEM) from the AWS Marketplace Management Portal" },
  'public-key': { type: 'string', describe: 'The same key as PEM text (instead of --public-key-file)' },
} satisfies Record<string, OptionSpec>;

export const PRODUCT_CODE_OPTION: OptionSpec = { type: 'string', describe: 'The product code from the AWS Marketplace Management Portal' };
export const INSTANCE_ID_OPTION: OptionSpec = {
  type: 'string',
  describe: 'Pod UID or ECS task ARN the entitlement is bound to (default: env POD_UID, else the ECS task ARN)',
};

export const REGISTER_OPTIONS = {
  'product-code': { ...PRODUCT_CODE_OPTION, required: true },
  ...KEY_OPTIONS,
  'public-key-version': { type: 'number', default: 1, describe: 'Version of the public key (shown beside it in the Portal)' },
  out: { type: 'string', default: DEFAULT_ENTITLEMENT_FILE, describe: 'Where to write the signed entitlement file' },
  region: { type: 'string', describe: 'AWS Region (default: AWS_REGION, then ECS task metadata, then EC2 IMDS)' },
  endpoint: { type: 'string', describe: 'Metering endpoint URL override, e.g. the local emulator' },
  deadline: { type: 'duration', default: '30m', positive: true, describe: 'Give up retrying after this long (30m, 90s, 1h)' },
  'instance-id': INSTANCE_ID_OPTION,
} satisfies Record<string, OptionSpec>;

/** The product public key PEM from `--public-key-file` or `--public-key`; an unreadable file is exit 66. */
export async function productPublicKey(args: Args): Promise<string> {
  const file = args['public-key-file'] as string | undefined;
  const text = args['public-key'] as string | undefined;
  if (file !== undefined && text !== undefined) throw new UsageError('Give either --public-key-file or --public-key, not both.');
  if (text !== undefined) return text;
  if (file === undefined) {
    throw new UsageError(
      "The product's public key is required: --public-key-file FILE or --public-key PEM (or MARKETPLACE_PUBLIC_KEY_FILE / MARKETPLACE_PUBLIC_KEY).",
    );
  }
  return readInputFile(file, { code: 'PUBLIC_KEY_FILE', what: 'public key file', hint: 'Mount the PEM from the Management Portal there.' });
}

/** How to reach AWS and for how long, from `--region`, `--endpoint`, `--deadline` and the command's context. */
export function meteringCallOptions(args: Args, ctx: CommandContext): MeteringCallOptions {
  return {
    deadlineMs: args.deadline as number,
    signal: ctx.signal,
    logger: ctx.logger,
    env: ctx.env,
    ...(args.region !== undefined && { region: args.region as string }),
    ...(args.endpoint !== undefined && { endpoint: args.endpoint as string }),
  };
}

/** `ensureEntitled` options from the register option group. */
export async function entitlementOptions(args: Args, ctx: CommandContext): Promise<EnsureEntitledOptions & { entitlementFile: string }> {
  return {
    ...meteringCallOptions(args, ctx),
    productCode: args['product-code'] as string,
    publicKey: await productPublicKey(args),
    publicKeyVersion: args['public-key-version'] as number,
    entitlementFile: args.out as string,
    ...(args['instance-id'] !== undefined && { instanceId: args['instance-id'] as string }),
  };
}

/**
 * A comma-separated option as a list (blanks around items ignored); undefined when the option is absent.
 * An empty item or a repeated one is a usage error naming the option.
 *
 * @example listOption({ _: [], dimensions: 'requests, users' }, 'dimensions') // ['requests', 'users']
 */
export function listOption(args: Args, name: string): string[] | undefined {
  const text = args[name] as string | undefined;
  if (text === undefined) return undefined;
  const items = text.split(',').map((item) => item.trim());
  if (items.includes('')) throw new UsageError(`--${name} ${JSON.stringify(text)} has an empty item; expected a comma-separated list like a,b.`);
  const repeated = items.find((item, i) => items.indexOf(item) !== i);
  if (repeated !== undefined) throw new UsageError(`--${name} names ${JSON.stringify(repeated)} twice.`);
  return items;
}
