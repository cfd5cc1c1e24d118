/**
 * The option groups of the commands that call AWS (how to reach it, which pricing model, the register group) and
 * turning their values into library options. Not loaded by `check` (cmd/options.ts has what the probe shares).
 *
 * @example
 * const register = defineCommand({
 *   ...,
 *   options: { ...REGISTER_OPTIONS, ...LOG_OPTIONS },
 *   run: async (args, ctx) => ensureEntitled(await entitlementOptions(args, ctx))
 * });
 */
import { DEFAULT_TLS_ROOTS } from '../src/aws/defaults.js';
import { DEFAULT_DEADLINE_MS } from '../src/aws/retry.js';
import { DEFAULT_ENTITLEMENT_FILE, ENTITLEMENT_FILE_ENV } from '../src/entitlement-file/entitlement-file-path.js';
import {
  CHECKOUT_TYPES,
  DEFAULT_CHECKOUT_TYPE,
  DEFAULT_GRACE_MS,
  DEFAULT_RECHECK_MS,
  type RequestedEntitlement,
} from '../src/license/lease-types.js';
import { AWS_MARKETPLACE_KEY_FINGERPRINT } from '../src/license/fingerprint.js';
import { PRICING_MODELS } from '../src/pricing/pricing.js';
import { readInputFile } from '../src/common/input-file.js';
import type { MeteringCallOptions } from '../src/metering/call.js';
import type { CustomPricing, PricingOptions } from '../src/pricing/pricing.js';
import type { EnsureEntitledOptions } from '../src/registration/types.js';
import type { TlsRoots } from '../src/aws/tls-roots.js';
import { formatDuration } from './args.js';
import { bakedTlsRoots } from './baked-config.js';
import {
  INSTANCE_ID_OPTION,
  KEY_OPTIONS,
  listOption,
  PRODUCT_CODE_OPTION,
  productPublicKey,
  PUBLIC_KEY_VERSION_OPTION,
} from './options.js';
import type { CommandContext, OptionSpec, OptionsOf } from './spec.js';
import { UsageError } from './usage-error.js';

/** How AWS is reached and for how long: every command that calls it. */
export const CALL_OPTIONS = {
  region: { type: 'string', describe: 'AWS Region (default: AWS_REGION, then ECS task metadata, then EC2 IMDS)' },
  endpoint: {
    type: 'string',
    describe: 'Endpoint URL override for every AWS call (Metering and License Manager), e.g. the local emulator',
  },
  'tls-roots': {
    type: 'string',
    default: DEFAULT_TLS_ROOTS,
    describe:
      "Which CAs may vouch for AWS's servers: aws (Amazon's roots only), system (Node's default store, " +
      'NODE_EXTRA_CA_CERTS included) or a PEM bundle FILE; a sealed image uses only the roots baked into it',
  },
  deadline: {
    type: 'duration',
    default: formatDuration(DEFAULT_DEADLINE_MS),
    positive: true,
    describe: 'Give up retrying after this long (30m, 90s, 1h)',
  },
} as const satisfies Record<string, OptionSpec>;

/**
 * How entitlement is checked: RegisterUsage (hourly), a MeterUsage dry run (custom), a License Manager checkout
 * (contract).
 */
export const PRICING_OPTIONS = {
  pricing: {
    type: 'string',
    choices: PRICING_MODELS,
    default: 'hourly',
    describe:
      "The listing's pricing model, which says how entitlement is checked: RegisterUsage, a MeterUsage dry run, or " +
      'an AWS License Manager checkout',
  },
  'product-sku': {
    type: 'string',
    requiredWhen: { pricing: ['contract'] },
    describe: 'Contract: the product SKU (product ID) from the Management Portal; required with --pricing contract',
  },
  entitlement: {
    type: 'string',
    multiple: true,
    requiredWhen: { pricing: ['contract'] },
    describe:
      'Contract: an entitlement to check out, NAME:UNIT[:VALUE] (e.g. Users:Count:1, Premium:None); all must be ' +
      'granted; required with --pricing contract',
  },
  'checkout-type': {
    type: 'string',
    choices: CHECKOUT_TYPES,
    default: DEFAULT_CHECKOUT_TYPE,
    describe: 'Contract: PROVISIONAL (floating, checked in on exit) or PERPETUAL (drawdown)',
  },
  'key-fingerprint': {
    type: 'string',
    default: AWS_MARKETPLACE_KEY_FINGERPRINT,
    describe: "Contract: the licence issuer's key fingerprint (AWS Marketplace's by default)",
  },
  'license-recheck': {
    type: 'duration',
    default: formatDuration(DEFAULT_RECHECK_MS),
    positive: true,
    describe:
      "Contract: how often the licence is looked up (GetLicense) to see expiry and upgrades (AWS's guidance: 15m)",
  },
  'license-grace': {
    type: 'duration',
    default: formatDuration(DEFAULT_GRACE_MS),
    describe: 'Contract: how long a lost or expired licence is tolerated before /healthz answers 503 (0: at once)',
  },
  'meter-dimensions': {
    type: 'string',
    requiredWhen: { pricing: ['custom'] },
    describe:
      'Custom metering dimensions (comma-separated API names from the Portal): with --pricing custom the first is ' +
      'dry-run to check entitlement; serve also meters them hourly from POST /usage',
  },
} as const satisfies Record<string, OptionSpec>;

export const REGISTER_OPTIONS = {
  'product-code': {
    ...PRODUCT_CODE_OPTION,
    requiredWhen: { pricing: ['hourly', 'custom'] },
    describe: 'The product code from the AWS Marketplace Management Portal; required unless --pricing contract',
  },
  ...KEY_OPTIONS,
  'public-key-version': PUBLIC_KEY_VERSION_OPTION,
  out: {
    type: 'string',
    default: DEFAULT_ENTITLEMENT_FILE,
    env: ENTITLEMENT_FILE_ENV,
    envAliases: ['MARKETPLACE_OUT'],
    describe: 'Where to write the signed entitlement file',
  },
  region: CALL_OPTIONS.region,
  endpoint: CALL_OPTIONS.endpoint,
  'tls-roots': CALL_OPTIONS['tls-roots'],
  deadline: CALL_OPTIONS.deadline,
  'instance-id': INSTANCE_ID_OPTION,
  ...PRICING_OPTIONS,
} as const satisfies Record<string, OptionSpec>;

/**
 * How to reach AWS and for how long, from `--region`, `--endpoint`, `--tls-roots`, `--deadline` and the command's
 * context. A sealed image trusts only its baked roots (sealInput refused any other value).
 */
export async function meteringCallOptions(
  args: OptionsOf<typeof CALL_OPTIONS>,
  ctx: CommandContext,
): Promise<Omit<MeteringCallOptions, 'client'>> {
  return {
    deadlineMs: args.deadline,
    signal: ctx.signal,
    logger: ctx.logger,
    env: ctx.env,
    tlsRoots: ctx.sealed ? bakedTlsRoots(ctx.sealed.config) : await tlsRootsOption(args['tls-roots']),
    ...(args.region !== undefined && { region: args.region }),
    ...(args.endpoint !== undefined && { endpoint: args.endpoint }),
  };
}

/** `--tls-roots`: `aws`, `system`, or a file whose PEM bundle the library then checks (exit 78 when it is not one). */
export async function tlsRootsOption(value: string): Promise<TlsRoots> {
  if (value === 'aws' || value === 'system') return value;
  return readInputFile(value, {
    code: 'TLS_ROOTS_FILE',
    what: '--tls-roots file',
    hint: 'Give aws, system, or a file of PEM CA certificates.',
  });
}

/** The register group's values: a union by `--pricing`, each with the options that model requires set. */
type RegisterArgs = OptionsOf<typeof REGISTER_OPTIONS>;

/** `ensureEntitled` options from the register option group, with hourly pricing. */
export async function entitlementOptions(
  args: Extract<RegisterArgs, { readonly pricing: 'hourly' }>,
  ctx: CommandContext,
): Promise<EnsureEntitledOptions & { entitlementFile: string }> {
  return {
    ...(await meteringCallOptions(args, ctx)),
    productCode: args['product-code'],
    publicKey: await productPublicKey(args),
    publicKeyVersion: args['public-key-version'],
    entitlementFile: args.out,
    ...(args['instance-id'] !== undefined && { instanceId: args['instance-id'] }),
    ...(ctx.sealed && { instanceBinding: ctx.sealed.config.instanceBinding }),
  };
}

/**
 * How entitlement is obtained, from `--pricing` and its options: hourly reads the public key (RegisterUsage's
 * answer is verified), custom and contract do not (nothing signed comes back). The options each model needs are
 * set (`requiredWhen` in the option table): comparing `args.pricing` narrows the type to them.
 *
 * @example const held = await holdEntitlement(await pricingOptions(args, ctx));
 */
export async function pricingOptions(args: RegisterArgs, ctx: CommandContext): Promise<PricingOptions> {
  if (args.pricing === 'custom') return customPricingOptions(args, ctx);
  if (args.pricing === 'contract') {
    return {
      ...(await meteringCallOptions(args, ctx)),
      pricing: 'contract',
      productSku: args['product-sku'],
      entitlements: args.entitlement.map(parseEntitlement),
      checkoutType: args['checkout-type'],
      keyFingerprint: args['key-fingerprint'],
      recheckMs: args['license-recheck'],
      graceMs: args['license-grace'],
    };
  }
  return { ...(await entitlementOptions(args, ctx)), pricing: 'hourly' };
}

/** Custom metering's options: the MeterUsage dry run of the first `--meter-dimensions` for `--product-code`. */
export async function customPricingOptions(
  args: Extract<RegisterArgs, { readonly pricing: 'custom' }>,
  ctx: CommandContext,
): Promise<CustomPricing> {
  const [dimension] = listOption('meter-dimensions', args['meter-dimensions']);
  return { ...(await meteringCallOptions(args, ctx)), pricing: 'custom', productCode: args['product-code'], dimension };
}

/**
 * `NAME:UNIT[:VALUE]` as an entitlement to check out; anything else is a usage error (exit 64).
 *
 * @example parseEntitlement('Users:Count:1') // { name: 'Users', unit: 'Count', value: '1' }
 */
export function parseEntitlement(text: string): RequestedEntitlement {
  const [name, unit, value, ...rest] = text.split(':');
  if (!name || !unit || value === '' || rest.length > 0) {
    throw new UsageError(
      `--entitlement ${JSON.stringify(text)} is not NAME:UNIT[:VALUE], e.g. Users:Count:1 or Premium:None.`,
    );
  }
  return { name, unit, ...(value !== undefined && { value }) };
}
