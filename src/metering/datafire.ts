/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/metering/datafire: a drop-in for `@datafire/amazonaws_metering_marketplace`. `create()`
 * returns the four Metering actions under their DataFire names, each validated and retried (docs/metering.md,
 * "Migrating from @datafire/amazonaws_metering_marketplace").
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
export { create } from './datafire-client.js';
export type { DataFireAccount, MeteringMarketplaceClient } from './datafire-client.js';
