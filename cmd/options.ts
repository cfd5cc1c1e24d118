/**
 * Option groups shared by several commands, and turning their values into library options.
 *
 * @example
 * const register: CommandSpec = { ..., options: { ...REGISTER_OPTIONS, out: OUT_OPTION, ...LOG_OPTIONS } };
 */
import { DEFAULT_ENTITLEMENT_FILE, ENTITLEMENT_FILE_ENV } from '../src/entitlement-file/entitlement-file-path.js';
import { AWS_MARKETPLACE_KEY_FINGERPRINT } from '../src/license/fingerprint.js';
import { PRICING_MODELS } from '../src/pricing/pricing.js';
import { readInputFile } from '../src/common/input-file.js';
import type { MeteringCallOptions } from '../src/metering/call.js';
import type { RequestedEntitlement } from '../src/license/lease.js';
import type { PricingOptions } from '../src/pricing/pricing.js';
import type { EnsureEntitledOptions } from '../src/registration/types.js';
import type { TlsRoots } from '../src/aws/tls-roots.js';
import { bakedTlsRoots } from './sealed.js';
import { LOG_FORMATS, LOG_LEVELS } from './log.js';
import type { Args, CommandContext, OptionSpec } from './spec.js';
import { UsageError } from './usage-error.js';

export const LOG_OPTIONS = {
  'log-format': {
    type: 'string',
    choices: LOG_FORMATS,
    describe: 'Logs and errors on stderr: text for people, or one JSON object per line (default: text on a terminal, json otherwise)',
  },
  'log-level': { type: 'string', choices: LOG_LEVELS, default: 'info', describe: 'Least severe level logged' },
} satisfies Record<string, OptionSpec>;

export const KEY_OPTIONS = {
  'public-key-file': { type: 'string', describe: "File with the product's public key (PEM) from the AWS Marketplace Management Portal" },
  'public-key': { type: 'string', describe: 'The same key as PEM text (instead of --public-key-file)' },
} satisfies Record<string, OptionSpec>;

export const PRODUCT_CODE_OPTION: OptionSpec = { type: 'string', describe: 'The product code from the AWS Marketplace Management Portal' };
export const INSTANCE_ID_OPTION: OptionSpec = {
  type: 'string',
  describe: 'Pod UID or ECS task ARN the entitlement is bound to, where the platform gives none (Kubernetes and ECS give theirs; a differing value is refused)',
};

const isContract = (args: Args) => args.pricing === 'contract';

/** How entitlement is checked: RegisterUsage (hourly), a MeterUsage dry run (custom), a License Manager checkout (contract). */
export const PRICING_OPTIONS = {
  pricing: {
    type: 'string',
    choices: PRICING_MODELS,
    default: 'hourly',
    describe: "The listing's pricing model, which says how entitlement is checked: RegisterUsage, a MeterUsage dry run, or an AWS License Manager checkout",
  },
  'product-sku': { type: 'string', required: isContract, describe: 'Contract: the product SKU (product ID) from the Management Portal; required with --pricing contract' },
  entitlement: {
    type: 'string',
    multiple: true,
    required: isContract,
    describe: 'Contract: an entitlement to check out, NAME:UNIT[:VALUE] (e.g. Users:Count:1, Premium:None); all must be granted; required with --pricing contract',
  },
  'checkout-type': { type: 'string', choices: ['PROVISIONAL', 'PERPETUAL'], default: 'PROVISIONAL', describe: 'Contract: PROVISIONAL (floating, checked in on exit) or PERPETUAL (drawdown)' },
  'key-fingerprint': { type: 'string', default: AWS_MARKETPLACE_KEY_FINGERPRINT, describe: "Contract: the licence issuer's key fingerprint (AWS Marketplace's by default)" },
  'license-recheck': { type: 'duration', default: '15m', positive: true, describe: "Contract: how often the licence is looked up (GetLicense) to see expiry and upgrades (AWS's guidance: 15m)" },
  'license-grace': { type: 'duration', default: '0s', describe: 'Contract: how long a lost or expired licence is tolerated before /healthz answers 503 (0: at once)' },
  'meter-dimensions': {
    type: 'string',
    required: (args) => args.pricing === 'custom',
    describe:
      'Custom metering dimensions (comma-separated API names from the Portal): with --pricing custom the first is dry-run to check entitlement; ' +
      'serve also meters them hourly from POST /usage',
  },
} satisfies Record<string, OptionSpec>;

export const REGISTER_OPTIONS = {
  'product-code': {
    ...PRODUCT_CODE_OPTION,
    required: (args) => args.pricing !== 'contract',
    describe: 'The product code from the AWS Marketplace Management Portal; required unless --pricing contract',
  },
  ...KEY_OPTIONS,
  'public-key-version': { type: 'number', default: 1, describe: 'Version of the public key (shown beside it in the Portal)' },
  out: {
    type: 'string',
    default: DEFAULT_ENTITLEMENT_FILE,
    env: ENTITLEMENT_FILE_ENV,
    envAliases: ['MARKETPLACE_OUT'],
    describe: 'Where to write the signed entitlement file',
  },
  region: { type: 'string', describe: 'AWS Region (default: AWS_REGION, then ECS task metadata, then EC2 IMDS)' },
  endpoint: { type: 'string', describe: 'Endpoint URL override for every AWS call (Metering and License Manager), e.g. the local emulator' },
  'tls-roots': {
    type: 'string',
    default: 'aws',
    describe:
      "Which CAs may vouch for AWS's servers: aws (Amazon's roots only), system (Node's default store, NODE_EXTRA_CA_CERTS included) " +
      'or a PEM bundle FILE; a sealed image uses only the roots baked into it',
  },
  deadline: { type: 'duration', default: '30m', positive: true, describe: 'Give up retrying after this long (30m, 90s, 1h)' },
  'instance-id': INSTANCE_ID_OPTION,
  ...PRICING_OPTIONS,
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

/**
 * How to reach AWS and for how long, from `--region`, `--endpoint`, `--tls-roots`, `--deadline` and the command's
 * context. A sealed image trusts only its baked roots (sealInput refused any other value).
 */
export async function meteringCallOptions(args: Args, ctx: CommandContext): Promise<Omit<MeteringCallOptions, 'client'>> {
  return {
    deadlineMs: args.deadline as number,
    signal: ctx.signal,
    logger: ctx.logger,
    env: ctx.env,
    tlsRoots: ctx.sealed ? bakedTlsRoots(ctx.sealed.config) : await tlsRootsOption(args['tls-roots'] as string),
    ...(args.region !== undefined && { region: args.region as string }),
    ...(args.endpoint !== undefined && { endpoint: args.endpoint as string }),
  };
}

/** `--tls-roots`: `aws`, `system`, or a file whose PEM bundle the library then checks (exit 78 when it is not one). */
export async function tlsRootsOption(value: string): Promise<TlsRoots> {
  if (value === 'aws' || value === 'system') return value;
  return readInputFile(value, { code: 'TLS_ROOTS_FILE', what: '--tls-roots file', hint: "Give aws, system, or a file of PEM CA certificates." });
}

/** `ensureEntitled` options from the register option group. */
export async function entitlementOptions(args: Args, ctx: CommandContext): Promise<EnsureEntitledOptions & { entitlementFile: string }> {
  return {
    ...(await meteringCallOptions(args, ctx)),
    productCode: args['product-code'] as string,
    publicKey: await productPublicKey(args),
    publicKeyVersion: args['public-key-version'] as number,
    entitlementFile: args.out as string,
    ...(args['instance-id'] !== undefined && { instanceId: args['instance-id'] as string }),
    ...(ctx.sealed && { instanceBinding: ctx.sealed.config.instanceBinding }),
  };
}

/**
 * How entitlement is obtained, from `--pricing` and its options: hourly reads the public key (RegisterUsage's
 * answer is verified), custom and contract do not (nothing signed comes back).
 *
 * @example const held = await holdEntitlement(await pricingOptions(args, ctx));
 */
export async function pricingOptions(args: Args, ctx: CommandContext): Promise<PricingOptions> {
  if (args.pricing === 'custom') {
    return { ...(await meteringCallOptions(args, ctx)), pricing: 'custom', productCode: args['product-code'] as string, dimension: listOption(args, 'meter-dimensions')![0]! };
  }
  if (args.pricing === 'contract') {
    return {
      ...(await meteringCallOptions(args, ctx)),
      pricing: 'contract',
      productSku: args['product-sku'] as string,
      entitlements: (args.entitlement as string[]).map(parseEntitlement),
      checkoutType: args['checkout-type'] as 'PROVISIONAL' | 'PERPETUAL',
      keyFingerprint: args['key-fingerprint'] as string,
      recheckMs: args['license-recheck'] as number,
      graceMs: args['license-grace'] as number,
    };
  }
  return { ...(await entitlementOptions(args, ctx)), pricing: 'hourly' };
}

/**
 * `NAME:UNIT[:VALUE]` as an entitlement to check out; anything else is a usage error (exit 64).
 *
 * @example parseEntitlement('Users:Count:1') // { name: 'Users', unit: 'Count', value: '1' }
 */
export function parseEntitlement(text: string): RequestedEntitlement {
  const [name, unit, value, ...rest] = text.split(':');
  if (!name || !unit || value === '' || rest.length > 0) {
    throw new UsageError(`--entitlement ${JSON.stringify(text)} is not NAME:UNIT[:VALUE], e.g. Users:Count:1 or Premium:None.`);
  }
  return { name, unit, ...(value !== undefined && { value }) };
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
