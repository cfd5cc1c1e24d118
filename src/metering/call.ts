/**
 * One Metering call under the shared call loop (src/aws/aws-call.ts): throttling, 5xx and network failures retried
 * with jittered backoff until the deadline; modelled errors mapped to typed errors (the operation's table, then
 * Metering's: ./errors.ts), everything logged with the operation's name.
 *
 * @example
 * const { value } = await callMetering(
 *   'MeterUsage',
 *   (client, signal) => client.send(command, { abortSignal: signal }),
 *   options,
 *   METER_USAGE_ERRORS
 * );
 */
import type { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { callAws, type AwsCallOptions, type CallResult } from '../aws/aws-call.js';
import type { ErrorTable } from '../aws/aws-errors.js';
import { meteringClient, type MeteringClientOptions } from './client.js';
import { METERING, type MeteringOperation } from './errors.js';

export type { CallResult } from '../aws/aws-call.js';
export type { MeteringOperation } from './errors.js';

/** Log event names: `register.*` for the entitlement check operators grep for, `metering.<Operation>.*` else. */
const EVENT_PREFIX: Record<MeteringOperation, string> = {
  RegisterUsage: 'register',
  MeterUsage: 'metering.MeterUsage',
  BatchMeterUsage: 'metering.BatchMeterUsage',
  ResolveCustomer: 'metering.ResolveCustomer',
};

/** Options every metering call takes. */
export interface MeteringCallOptions extends MeteringClientOptions, AwsCallOptions {
  /** The clock the timestamp windows are checked against. Default: the system clock. */
  now?: () => Date;
}

/**
 * Builds the client (or uses `options.client`) and runs `attempt` under the retry policy; `errors` are the
 * operation's own modelled errors. `isPending` marks answers that are not failures but need another round
 * (BatchMeterUsage's UnprocessedRecords).
 */
export async function callMetering<T>(
  operation: MeteringOperation,
  attempt: (client: MarketplaceMeteringClient, signal: AbortSignal) => Promise<T>,
  options: MeteringCallOptions,
  errors: ErrorTable,
  isPending?: (err: unknown) => boolean,
): Promise<CallResult<T>> {
  const purpose = { operation, eventPrefix: EVENT_PREFIX[operation] };
  return callAws(
    {
      ...purpose,
      service: METERING,
      errors,
      makeClient: (logger) => meteringClient(options, logger, purpose),
      attempt,
      isPending,
    },
    options,
  );
}
