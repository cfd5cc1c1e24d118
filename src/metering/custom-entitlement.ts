/**
 * `ensureMeteringEntitled()`: the entitlement check of a custom-metering product. Such products do not call
 * RegisterUsage; AWS answers the MeterUsage call itself with CustomerNotEntitledException when the buyer is not
 * subscribed (AWS Marketplace seller guide, container billing integration). So the check is a MeterUsage
 * `DryRun` for one of the product's dimensions: nothing is billed, the answer says entitled (AWS's
 * `DryRunOperation`), not subscribed (NotEntitledError, exit 77) or not allowed (ConfigurationError, exit 78).
 * There is no signed answer to verify, so no public key is involved and no entitlement file can be written.
 *
 * @example
 * const { checkedAt } = await ensureMeteringEntitled({ productCode: 'abc123example', dimension: 'requests' });
 */
import { ConfigurationError } from '../common/errors.js';
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';
import { resolveLogger } from '../common/logger.js';
import type { MeteringCallOptions } from './call.js';
import { meterUsage } from './meter-usage.js';

/** Options of {@link ensureMeteringEntitled}: the product and dimension to dry-run, plus how to reach Metering. */
export interface MeteringEntitlementOptions extends MeteringCallOptions, Omit<ProcessGuardOptions, 'env'> {
  /**
   * The custom-metering product's product code (AWS Marketplace Management Portal), sent as MeterUsage's `ProductCode`.
   */
  productCode: string;
  /** A metering dimension's API name from the AWS Marketplace Management Portal. */
  dimension: string;
}

/** What the dry run established. */
export interface MeteringEntitlement {
  /** The product code that was checked. */
  productCode: string;
  /** The dimension the dry run metered (quantity 0). */
  dimension: string;
  /** When AWS said the MeterUsage would have succeeded. */
  checkedAt: Date;
  /** MeterUsage calls made, retries included. */
  attempts: number;
  /** The AWS Region the Metering call went to. */
  region: string;
}

/**
 * The MeterUsage dry run; resolves when AWS permits it, throws the typed error otherwise.
 *
 * @example
 * const checked = await ensureMeteringEntitled({ productCode: 'abc123example', dimension: 'requests' });
 * console.log(`entitled, checked at ${checked.checkedAt.toISOString()} in ${checked.region}`);
 */
export async function ensureMeteringEntitled(given: MeteringEntitlementOptions): Promise<MeteringEntitlement> {
  const options = applyHardenedProfile(given, 'ensureMeteringEntitled', { reachesAws: true });
  const { productCode, dimension } = options;
  if (typeof dimension !== 'string' || dimension === '') {
    throw new ConfigurationError(
      'INVALID_OPTION',
      'dimension is required: a metering dimension API name of the product (the first of --meter-dimensions).',
    );
  }
  checkProcessIntegrity(options);
  const now = options.now?.() ?? new Date();
  resolveLogger(options.logger).info?.('Checking entitlement with a MeterUsage dry run', {
    event: 'metering.entitlement_check',
    productCode,
    dimension,
  });
  const result = await meterUsage(
    { ProductCode: productCode, Timestamp: now, UsageDimension: dimension, UsageQuantity: 0, DryRun: true },
    options,
  );
  return { productCode, dimension, checkedAt: new Date(), attempts: result.attempts, region: result.region };
}
