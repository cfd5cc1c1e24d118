/**
 * The call loop every AWS operation of this package runs under, whichever service it calls: options checked before
 * any network call, the client built once, attempts retried with jittered backoff until the deadline
 * (src/aws/retry.ts), final errors mapped to typed errors by the service's description (src/aws/aws-errors.ts), every
 * retry logged with the operation's name.
 *
 * @example
 * const { value } = await callAws(
 *   {
 *     service: LICENSE_MANAGER,
 *     operation: 'CheckoutLicense',
 *     eventPrefix: 'license.CheckoutLicense',
 *     makeClient: (logger) => licenseManagerClient(options, logger),
 *     attempt: (client, signal) => client.send(command, { abortSignal: signal }),
 *   },
 *   options,
 * );
 */
import { durationOption } from '../common/duration-option.js';
import { describeError, resolveLogger, type Logger, type LoggerLike } from '../common/logger.js';
import { classifyAwsError, type AwsService, type ErrorTable, type ErrorVerdict } from './aws-errors.js';
import { DEFAULT_DEADLINE_MS, resolveRetryPolicy, retryUntilDeadline, type RetryPolicy } from './retry.js';

/** The retry budget and its controls, common to every call. */
export interface AwsCallOptions {
  /** Total retry budget. Default 30 minutes (AWS guidance). */
  deadlineMs?: number;
  /** Backoff of the retry loop (a random delay from a window that grows per failure); any field may be given alone. */
  retry?: Partial<RetryPolicy>;
  /** Stops the retry loop at once (the call rejects with `ABORTED`). */
  signal?: AbortSignal;
  /**
   * Where to log attempts, retries and outcomes: a {@link Logger}, `console`, a pino logger, a Powertools `Logger`
   * or an AWS SDK v3 `Logger`. Default: process warnings for what needs an operator only.
   */
  logger?: LoggerLike;
}

/** Retries that leave less than this share of the deadline warn (once): the call may not make it. */
const DEADLINE_NEAR_FRACTION = 0.25;

/** A call's answer, with the attempts it took (retries included) and the Region it went to. */
export interface CallResult<T> {
  value: T;
  attempts: number;
  region: string;
}

/** Names used in log events and messages: `{ operation: 'RegisterUsage', eventPrefix: 'register' }`. */
export interface CallPurpose {
  /** The operation's name as AWS spells it: in messages and in the retry log. */
  operation: string;
  /** The start of the names of the events logged for it (`<eventPrefix>.retry`, `<eventPrefix>.deadline_near`). */
  eventPrefix: string;
}

/** One AWS operation to call: which service, how to build its client, what one attempt is. */
export interface AwsCall<Client, T> extends CallPurpose {
  /** The service called: its name, its error table and its advice (src/metering/errors.ts, src/license/errors.ts). */
  service: AwsService;
  /** The operation's own modelled errors, looked up before the service's. */
  errors?: ErrorTable;
  /** Builds the client once per call. */
  makeClient: (logger: Logger) => Promise<{ client: Client; region: string }>;
  /** One attempt; `signal` fires at the deadline or on abort. */
  attempt: (client: Client, signal: AbortSignal) => Promise<T>;
  /** Answers that are not failures but need another round (BatchMeterUsage's UnprocessedRecords). */
  isPending?: (err: unknown) => boolean;
}

/**
 * Builds the client and runs the attempts under the retry policy; the service's description says whether a failure
 * is worth another attempt and, if not, which typed error it ends in.
 */
export async function callAws<Client, T>(call: AwsCall<Client, T>, options: AwsCallOptions): Promise<CallResult<T>> {
  const { operation, eventPrefix } = call;
  const isPending = call.isPending ?? (() => false);
  const logger = resolveLogger(options.logger);
  const deadlineMs = durationOption(
    'deadlineMs',
    options.deadlineMs,
    { unit: 'milliseconds', allowZero: false },
    DEFAULT_DEADLINE_MS,
  );
  const policy = resolveRetryPolicy(options.retry); // checked before any network call
  let warnedDeadlineNear = false;
  const { client, region } = await call.makeClient(logger);
  const judge = (err: unknown): ErrorVerdict => classifyAwsError(err, call.service, { operation, errors: call.errors });
  const { value, attempts } = await retryUntilDeadline((signal) => call.attempt(client, signal), {
    operation: `${call.service.name} ${operation}`, // the deadline and abort messages say which service was unreachable
    deadlineMs,
    policy,
    signal: options.signal,
    isRetryable: (err) => isPending(err) || judge(err).retryable,
    onRetry: ({ error, attempt: n, delayMs, remainingMs }) => {
      // A retry is routine (throttling under a scale-up, a blip); a deadline running out needs an operator, once.
      logger.info?.(
        `${operation} attempt ${n} ${isPending(error) ? 'left work pending' : 'failed'}, retrying in ${delayMs} ms`,
        {
          event: `${eventPrefix}.retry`,
          attempt: n,
          delayMs,
          error: describeError(error),
        },
      );
      if (!warnedDeadlineNear && remainingMs < deadlineMs * DEADLINE_NEAR_FRACTION) {
        warnedDeadlineNear = true;
        logger.warn?.(
          `${operation} has failed ${n} time(s) and less than ${Math.ceil(remainingMs / 1000)} s ` +
            `of its ${Math.round(deadlineMs / 1000)} s deadline is left: ` +
            'check network egress to the AWS endpoint, the credentials and the Region',
          { event: `${eventPrefix}.deadline_near`, attempt: n, remainingMs, deadlineMs, error: describeError(error) },
        );
      }
    },
  }).catch((err: unknown) => {
    const verdict = judge(err);
    throw verdict.retryable ? err : verdict.error;
  });
  return { value, attempts, region };
}
