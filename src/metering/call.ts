/**
 * One Metering call with the RegisterUsage retry policy: throttling, 5xx and network failures retried with
 * jittered backoff until the deadline; modelled errors mapped to typed errors (the shared map plus the
 * operation's own), everything logged with the operation's name.
 *
 * @example
 * const { value } = await callMetering('MeterUsage', (client, signal) => client.send(command, { abortSignal: signal }), options, METER_USAGE_ERRORS);
 */
import type { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { callAws, type AwsCallOptions, type CallResult } from '../aws/aws-call.js';
import { classifyMeteringError } from '../aws/aws-errors.js';
import { ConfigurationError, type EntitlementError } from '../common/errors.js';
import { meteringClient, type MeteringClientOptions } from '../aws/metering-client.js';

export type { CallResult } from '../aws/aws-call.js';

export type MeteringOperation = 'MeterUsage' | 'BatchMeterUsage' | 'ResolveCustomer' | 'RegisterUsage';

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
 * AWS exception name -> our typed error, for one operation. The mapper also gets the SDK's error, for modelled
 * fields beyond the message (RedirectException's `Location`).
 */
export type FatalErrorMap = Record<string, (message: string, err?: unknown) => EntitlementError>;

/**
 * Builds the client (or uses `options.client`) and runs `attempt` under the retry policy. `isPending` marks
 * answers that are not failures but need another round (BatchMeterUsage's UnprocessedRecords).
 */
export async function callMetering<T>(
  operation: MeteringOperation,
  attempt: (client: MarketplaceMeteringClient, signal: AbortSignal) => Promise<T>,
  options: MeteringCallOptions,
  fatal: FatalErrorMap,
  isPending: (err: unknown) => boolean = () => false,
): Promise<CallResult<T>> {
  const purpose = { operation, eventPrefix: EVENT_PREFIX[operation] };
  return callAws(purpose, (logger) => meteringClient(options, logger, purpose), attempt, options, (err) => classifyMeteringError(err, fatal), isPending);
}

/**
 * The IAM errors AWS answers when the role lacks `aws-marketplace:<operation>`; the shared map's hint names
 * RegisterUsage only, so each operation maps these itself.
 *
 * @example const fatal = { ...permissionErrors('MeterUsage', 'the task or pod role'), ...OTHER };
 */
export function permissionErrors(operation: MeteringOperation, principal: string): FatalErrorMap {
  const denied = (m: string): EntitlementError =>
    new ConfigurationError(
      'ACCESS_DENIED',
      `AWS denied ${operation} (${m}). Allow aws-marketplace:${operation} on * for ${principal}.`,
    );
  return { AccessDeniedException: denied, UnauthorizedException: denied, UnauthorizedOperation: denied };
}

/**
 * A fatal-map entry that maps an AWS exception to a {@link ConfigurationError} with a fixed code and advice.
 *
 * @example const fatal = { InvalidTagException: configurationError('INVALID_TAG', 'Fix the tag.') };
 */
export function configurationError(code: string, advice: string): (message: string) => EntitlementError {
  return (m) => new ConfigurationError(code, `${m}. ${advice}`);
}
