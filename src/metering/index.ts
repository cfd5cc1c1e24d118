/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/metering: custom metering and the rest of the Metering API (docs/metering.md).
 * MeterUsage, BatchMeterUsage and ResolveCustomer, validated before they are sent and retried until a deadline; the
 * check a custom-metering container makes at start-up; the hourly usage meter with its spool and its HTTP endpoint;
 * and the Metering client they share. The DataFire drop-in has its own entry point,
 * `marketplace-entitlement/metering/datafire`.
 *
 * @example
 * import { meterUsage } from 'marketplace-entitlement/metering';
 * const { meteringRecordId } = await meterUsage({
 *   ProductCode: 'abc123example', Timestamp: new Date(), UsageDimension: 'requests', UsageQuantity: 10,
 * });
 */
export { meterUsage } from './meter-usage.js';
export type { MeterUsageResult } from './meter-usage.js';
export { batchMeterUsage, UnprocessedRecordsError } from './batch-meter-usage.js';
export type { BatchMeterUsageResult } from './batch-meter-usage.js';
export { resolveCustomer } from './resolve-customer.js';
export type { ResolvedCustomer } from './resolve-customer.js';
export type { MeteringCallOptions } from './call.js';
export {
  validateMeterUsageInput,
  validateBatchMeterUsageInput,
  validateResolveCustomerInput,
  validateRegisterUsageInput,
} from './validation.js';
export { METER_USAGE_MAX_AGE_MS, BATCH_METER_USAGE_MAX_AGE_MS } from './limits.js';
export type {
  MeterUsageInput,
  BatchMeterUsageInput,
  UsageRecordInput,
  UsageAllocationInput,
  TagInput,
  ResolveCustomerInput,
  RegisterUsageInput,
  TimestampInput,
} from './validation.js';
export { ensureMeteringEntitled } from './custom-entitlement.js';
export type { MeteringEntitlementOptions, MeteringEntitlement } from './custom-entitlement.js';
export { createUsageMeter, usageClientToken } from './usage-meter.js';
export type {
  UsageMeter,
  UsageMeterOptions,
  UsageMeterStats,
  FlushReport,
  FlushOptions,
  SentUsage,
  LostUsage,
  FailedUsage,
} from './usage-meter.js';
export { handleUsageRequest, USAGE_PATH } from './usage-endpoint.js';
export { meteringClient } from './client.js';
export type { MeteringClientOptions } from './client.js';
