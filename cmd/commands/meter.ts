/**
 * `meter`: one MeterUsage record from the command line (validated, retried until --deadline), e.g. from a
 * cron job or a shell script. Hourly metering from a long-running app belongs to the usage meter
 * (`createUsageMeter`, or `POST /usage` on the `serve` sidecar): AWS takes one record per dimension and
 * hour from a pod or task, so a one-off record and the meter must not both send the same dimension.
 *
 * @example
 * marketplace-entitlement meter --product-code abc123 --dimension requests --quantity 120 --tags tenant=acme
 */
import { MAX_TAGS, MAX_USAGE_QUANTITY, METER_USAGE_MAX_AGE_MS } from '../../src/metering/limits.js';
import { formatDuration } from '../args.js';
import { CALL_OPTIONS, meteringCallOptions } from '../aws-options.js';
import { LOG_OPTIONS, PRODUCT_CODE_OPTION } from '../options.js';
import { defineCommand } from '../spec.js';
import { UsageError } from '../usage-error.js';

/** The option that supplies each MeterUsage field, to name it in errors. */
const OPTION_OF_FIELD: [RegExp, string][] = [
  [/^ProductCode$/, 'product-code'],
  [/^UsageDimension$/, 'dimension'],
  [/^UsageQuantity$/, 'quantity'],
  [/^Timestamp$/, 'timestamp'],
  [/^ClientToken$/, 'client-token'],
  [/^UsageAllocations/, 'tags'],
];

export const meterCommand = defineCommand({
  name: 'meter',
  describe: 'Send one MeterUsage record (custom dimension usage) for this pod/task',
  options: {
    'product-code': { ...PRODUCT_CODE_OPTION, required: true },
    dimension: {
      type: 'string',
      required: true,
      describe: 'The usage dimension (its API name in the Management Portal)',
    },
    quantity: {
      type: 'number',
      required: true,
      describe: `Usage quantity, a whole number from 0 to ${MAX_USAGE_QUANTITY}`,
    },
    timestamp: {
      type: 'string',
      describe:
        'When the usage happened ' +
        `(ISO 8601, at most ${formatDuration(METER_USAGE_MAX_AGE_MS)} ago); ` +
        'default now',
    },
    tags: {
      type: 'string',
      describe: `Allocation tags for the whole quantity: key=value[,key=value] (at most ${MAX_TAGS})`,
    },
    'dry-run': { type: 'boolean', describe: 'Only check that MeterUsage is permitted (IAM, product, dimension)' },
    'client-token': { type: 'string', describe: 'Idempotency token (1-64 characters); default a random one per run' },
    ...CALL_OPTIONS,
    ...LOG_OPTIONS,
  },
  examples: [
    ['$0 meter --product-code abc123 --dimension requests --quantity 120', 'Meter 120 requests now'],
    [
      '$0 meter --product-code abc123 --dimension users --quantity 3 --tags tenant=acme,plan=pro',
      'With an allocation by tags',
    ],
    [
      '$0 meter --product-code abc123 --dimension requests --quantity 0 --dry-run',
      'Check the IAM role and the dimension',
    ],
  ],
  async run(args, ctx) {
    const [{ meterUsage }, { ValidationError }] = await Promise.all([
      import('../../src/metering/meter-usage.js'),
      import('../../src/common/errors.js'),
    ]);
    const quantity = args.quantity;
    const tags = args.tags === undefined ? undefined : parseTags(args.tags);
    const dryRun = args['dry-run'] === true;
    const result = await meterUsage(
      {
        ProductCode: args['product-code'],
        Timestamp: args.timestamp ?? new Date(),
        UsageDimension: args.dimension,
        UsageQuantity: quantity,
        DryRun: dryRun,
        ...(tags && { UsageAllocations: [{ AllocatedUsageQuantity: quantity, Tags: tags }] }),
        ...(args['client-token'] !== undefined && { ClientToken: args['client-token'] }),
      },
      await meteringCallOptions(args, ctx),
    ).catch((err: unknown) => {
      if (!(err instanceof ValidationError)) throw err;
      const option = OPTION_OF_FIELD.find(([field]) => field.test(err.field))?.[1];
      throw option ? new UsageError(`--${option}: ${err.message}`) : err;
    });
    ctx.print(
      dryRun
        ? `dry run: MeterUsage for ${args.dimension} is permitted (${result.region})`
        : `metered ${quantity} ${args.dimension}: record ${result.meteringRecordId ?? '-'} after ${result.attempts} ` +
            `attempt(s) (${result.region})`,
    );
  },
});

/** `key=value,key=value` as MeterUsage tags; the library checks the tag rules. */
function parseTags(text: string): { Key: string; Value: string }[] {
  return text.split(',').map((pair) => {
    const at = pair.indexOf('=');
    if (at < 1) throw new UsageError(`--tags ${JSON.stringify(text)} is not valid: expected key=value[,key=value].`);
    return { Key: pair.slice(0, at), Value: pair.slice(at + 1) };
  });
}
