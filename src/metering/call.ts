/**
 * One Metering call with the RegisterUsage retry policy: throttling, 5xx and network failures retried with
 * full-jitter backoff until the deadline; modelled errors mapped to typed errors (the shared map plus the
 * operation's own), everything logged with the operation's name.
 *
 * @example
 * const { value } = await callMetering('MeterUsage', (client, signal) => client.send(command, { abortSignal: signal }), options, METER_USAGE_ERRORS);
 */
import type { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import { classifyMeteringError } from '../aws-errors.js';
import { ConfigurationError, type EntitlementError } from '../errors.js';
import { defaultLogger, describeError, type Logger } from '../logger.js';
import { meteringClient, type MeteringClientOptions } from '../metering-client.js';
import { DEFAULT_DEADLINE_MS, resolveRetryPolicy, retryUntilDeadline, type RetryPolicy } from '../retry.js';

export type MeteringOperation = 'MeterUsage' | 'BatchMeterUsage' | 'ResolveCustomer' | 'RegisterUsage';

/** Log event names: `register.*` for the entitlement check operators grep for, `metering.<Operation>.*` else. */
const EVENT_PREFIX: Record<MeteringOperation, string> = {
  RegisterUsage: 'register',
  MeterUsage: 'metering.MeterUsage',
  BatchMeterUsage: 'metering.BatchMeterUsage',
  ResolveCustomer: 'metering.ResolveCustomer',
};

/** Options every metering call takes. */
export interface MeteringCallOptions extends MeteringClientOptions {
  /** Total retry budget. Default 30 minutes (AWS guidance). */
  deadlineMs?: number;
  retry?: Partial<RetryPolicy>;
  signal?: AbortSignal;
  logger?: Logger;
  /** The clock the timestamp windows are checked against. Default: the system clock. */
  now?: () => Date;
}

/** AWS exception name -> our typed error, for one operation. */
export type FatalErrorMap = Record<string, (message: string) => EntitlementError>;

export interface CallResult<T> {
  value: T;
  attempts: number;
  region: string;
}

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
  const logger = options.logger ?? defaultLogger;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (!(deadlineMs > 0) || !Number.isFinite(deadlineMs)) {
    throw new ConfigurationError('INVALID_OPTION', `deadlineMs must be a positive number of milliseconds, got ${String(options.deadlineMs)}.`);
  }
  const policy = resolveRetryPolicy(options.retry); // checked before any network call
  const eventPrefix = EVENT_PREFIX[operation];
  const { client, region } = await meteringClient(options, logger, { operation, eventPrefix });
  const { value, attempts } = await retryUntilDeadline((signal) => attempt(client, signal), {
    operation,
    deadlineMs,
    policy,
    signal: options.signal,
    isRetryable: (err) => isPending(err) || classifyMeteringError(err, fatal).retryable,
    onRetry: ({ error, attempt: n, delayMs }) =>
      logger.warn?.(`${operation} attempt ${n} ${isPending(error) ? 'left work pending' : 'failed'}, retrying in ${delayMs} ms`, {
        event: `${eventPrefix}.retry`,
        attempt: n,
        delayMs,
        error: describeError(error),
      }),
  }).catch((err: unknown) => {
    const verdict = classifyMeteringError(err, fatal);
    throw verdict.retryable ? err : verdict.error;
  });
  return { value, attempts, region };
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
