/**
 * The Metering API's limits (AWS's API model and documentation), apart from the checks that apply them
 * (validation.ts) so the CLI's help can state them without loading those checks at every start.
 *
 * @example `at most ${MAX_TAGS} tags`
 */

/**
 * MeterUsage: "not accepted more than 6 hours after the event" (the operation's documentation in the API model;
 * the Timestamp member's own text says one hour, so AWS may refuse sooner: TimestampOutOfBoundsException).
 */
export const METER_USAGE_MAX_AGE_MS = 6 * 3_600_000;
/** BatchMeterUsage: "Usage records aren't accepted 6 hours or more after an event" (API model). */
export const BATCH_METER_USAGE_MAX_AGE_MS = 6 * 3_600_000;
/** Usage cannot be in the future; this much clock skew is tolerated (AWS does not document a bound). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;
/** The largest `UsageQuantity` (and allocated quantity): a 32-bit signed integer. */
export const MAX_USAGE_QUANTITY = 2_147_483_647;
/** BatchMeterUsage: records per call. */
export const MAX_BATCH_RECORDS = 25;
/** `UsageAllocations` per record. */
export const MAX_ALLOCATIONS = 2_500;
/** Tags per allocation. */
export const MAX_TAGS = 5;
