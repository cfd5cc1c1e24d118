/**
 * `meterUsage()`: one validated, retrying MeterUsage call (custom-dimension usage from a container or AMI).
 *
 * A `ClientToken` is always sent (random unless given) and reused by every retry of the call, so a retry
 * after a lost answer is the identical request AWS de-duplicates. `DryRun: true` only checks permissions:
 * AWS's `DryRunOperation` answer resolves as `{ dryRun: true }`.
 *
 * @example
 * const { meteringRecordId } = await meterUsage({
 *   ProductCode: 'abc123example', Timestamp: new Date(), UsageDimension: 'requests', UsageQuantity: 1200,
 * });
 */
import { randomUUID } from 'node:crypto';
import { MeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { callMetering, type MeteringCallOptions } from './call.js';
import { METER_USAGE_ERRORS } from './errors.js';
import { validateMeterUsageInput, type MeterUsageInput } from './validation.js';

/** What {@link meterUsage} resolves with. */
export interface MeterUsageResult {
  /** AWS's id for the record; absent for a dry run. */
  meteringRecordId?: string;
  /** The idempotency token sent (given or generated). */
  clientToken: string;
  /** True when this was a `DryRun` that AWS permitted. */
  dryRun: boolean;
  /** MeterUsage calls made, retries included. */
  attempts: number;
  /** The Region the call went to. */
  region: string;
}

/** Validates, then calls MeterUsage until it succeeds, fails for good, or the deadline passes. */
export async function meterUsage(input: MeterUsageInput, options: MeteringCallOptions = {}): Promise<MeterUsageResult> {
  const request = validateMeterUsageInput(input, options.now?.());
  request.ClientToken ??= randomUUID();
  const command = new MeterUsageCommand(request);
  const { value, attempts, region } = await callMetering(
    'MeterUsage',
    (client, signal) =>
      client.send(command, { abortSignal: signal }).catch((err: unknown) => {
        // A permitted dry run is answered as an error named DryRunOperation (EC2's convention).
        if (request.DryRun && (err as Error | undefined)?.name === 'DryRunOperation')
          return { MeteringRecordId: undefined };
        throw err;
      }),
    options,
    METER_USAGE_ERRORS,
  );
  return {
    ...(value.MeteringRecordId !== undefined && { meteringRecordId: value.MeteringRecordId }),
    clientToken: request.ClientToken,
    dryRun: request.DryRun === true,
    attempts,
    region,
  };
}
