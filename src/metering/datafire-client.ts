/**
 * A drop-in for `@datafire/amazonaws_metering_marketplace`: `create(account)` returns an object with the four
 * actions under their DataFire names, taking the same input shapes and resolving with the AWS output shapes.
 * Unlike the original, every action validates its input first (a {@link ValidationError} naming the field)
 * and retries throttling, 5xx and network failures with jittered backoff until the deadline;
 * `BatchMeterUsage` resolves only once every record is processed (`UnprocessedRecords` is always empty).
 *
 * @example
 * // before: const metering = require('@datafire/amazonaws_metering_marketplace')
 * //   .create({ accessKeyId, secretAccessKey, region });
 * import { create } from 'marketplace-entitlement/metering/datafire';
 * const metering = create({ region: 'us-east-1' }); // credentials from the default chain
 * const { MeteringRecordId } = await metering.MeterUsage({
 *   ProductCode: 'abc123example', Timestamp: new Date(), UsageDimension: 'requests', UsageQuantity: 10,
 * });
 */
import {
  RegisterUsageCommand,
  type MarketplaceMeteringClient,
  type BatchMeterUsageResult as AwsBatchMeterUsageResult,
  type MeterUsageResult as AwsMeterUsageResult,
  type RegisterUsageResult as AwsRegisterUsageResult,
  type ResolveCustomerResult as AwsResolveCustomerResult,
} from '@aws-sdk/client-marketplace-metering';
import { ConfigurationError } from '../common/errors.js';
import { resolveLogger } from '../common/logger.js';
import { meteringClient } from './client.js';
import { batchMeterUsage } from './batch-meter-usage.js';
import { callMetering, type MeteringCallOptions } from './call.js';
import { meterUsage } from './meter-usage.js';
import { resolveCustomer } from './resolve-customer.js';
import {
  validateBatchMeterUsageInput,
  validateMeterUsageInput,
  validateRegisterUsageInput,
  validateResolveCustomerInput,
  type BatchMeterUsageInput,
  type MeterUsageInput,
  type RegisterUsageInput,
  type ResolveCustomerInput,
} from './validation.js';

/**
 * DataFire's account object, plus this library's call options. Empty strings count as absent (DataFire's
 * README shows `accessKeyId: ""`): no keys means the SDK's default credential chain, no region means discovery.
 */
export interface DataFireAccount extends Omit<MeteringCallOptions, 'credentials'> {
  /** AWS access key id; empty or absent means the SDK's default credential chain. */
  accessKeyId?: string;
  /** AWS secret access key, with `accessKeyId`. */
  secretAccessKey?: string;
  /** Session token of temporary credentials. */
  sessionToken?: string;
}

/** The object `create()` returns; the optional second argument (DataFire's `context`) is accepted and ignored. */
export interface MeteringMarketplaceClient {
  /** BatchMeterUsage; resolves once every record is processed (`UnprocessedRecords` always empty). */
  BatchMeterUsage(input: BatchMeterUsageInput, context?: unknown): Promise<AwsBatchMeterUsageResult>;
  /** MeterUsage, validated and retried; `DryRun: true` resolves `{}` when permitted. */
  MeterUsage(input: MeterUsageInput, context?: unknown): Promise<AwsMeterUsageResult>;
  /** RegisterUsage, answer unverified (use {@link ensureEntitled} to verify). */
  RegisterUsage(input: RegisterUsageInput, context?: unknown): Promise<AwsRegisterUsageResult>;
  /** ResolveCustomer for a SaaS registration token. */
  ResolveCustomer(input: ResolveCustomerInput, context?: unknown): Promise<AwsResolveCustomerResult>;
}

/** Creates the client. Nothing is contacted until the first action; the SDK client is built once and shared. */
export function create(account: DataFireAccount = {}): MeteringMarketplaceClient {
  const { accessKeyId, secretAccessKey, sessionToken, ...rest } = account;
  const options: MeteringCallOptions = { ...rest, ...(rest.region === '' && { region: undefined }) };
  if (accessKeyId || secretAccessKey) {
    if (!accessKeyId || !secretAccessKey) {
      throw new ConfigurationError(
        'INCOMPLETE_CREDENTIALS',
        'create() was given ' +
          `${accessKeyId ? 'accessKeyId without secretAccessKey' : 'secretAccessKey without accessKeyId'}: ` +
          'give both, or neither to use the default credential chain (the task or IRSA role).',
      );
    }
    options.credentials = { accessKeyId, secretAccessKey, ...(sessionToken && { sessionToken }) };
  }
  let client: Promise<MarketplaceMeteringClient> | undefined;
  // Each action validates before this: Region discovery may already touch the network.
  const withClient = async (): Promise<MeteringCallOptions> => {
    client ??= meteringClient(options, resolveLogger(options.logger), {
      operation: 'Metering',
      eventPrefix: 'metering',
    }).then(
      (built) => built.client,
      (err: unknown) => {
        client = undefined; // e.g. no Region yet: let the next action try again
        throw err;
      },
    );
    return { ...options, client: await client };
  };

  return {
    async BatchMeterUsage(input) {
      validateBatchMeterUsageInput(input, options.now?.());
      const { results } = await batchMeterUsage(input, await withClient());
      return { Results: results, UnprocessedRecords: [] };
    },
    async MeterUsage(input) {
      validateMeterUsageInput(input, options.now?.());
      const { meteringRecordId } = await meterUsage(input, await withClient());
      return meteringRecordId === undefined ? {} : { MeteringRecordId: meteringRecordId };
    },
    async RegisterUsage(input) {
      const command = new RegisterUsageCommand(validateRegisterUsageInput(input));
      const { value } = await callMetering(
        'RegisterUsage',
        (c, signal) => c.send(command, { abortSignal: signal }),
        await withClient(),
        {},
      );
      const { $metadata: _metadata, ...output } = value;
      return output;
    },
    async ResolveCustomer(input) {
      validateResolveCustomerInput(input);
      const customer = await resolveCustomer(input, await withClient());
      return {
        ...(customer.customerIdentifier && { CustomerIdentifier: customer.customerIdentifier }),
        ...(customer.productCode && { ProductCode: customer.productCode }),
        ...(customer.customerAWSAccountId && { CustomerAWSAccountId: customer.customerAWSAccountId }),
        ...(customer.licenseArn && { LicenseArn: customer.licenseArn }),
      };
    },
  };
}
