/**
 * The call loop every AWS operation of this package runs under, Metering and License Manager alike: options
 * checked before any network call, the client built once, attempts retried with jittered backoff until the
 * deadline (src/aws/retry.ts), final errors mapped to typed errors by the service's classifier, every retry logged
 * with the operation's name.
 *
 * @example
 * const { value } = await callAws(
 *   { operation: 'CheckoutLicense', eventPrefix: 'license.CheckoutLicense' },
 *   () => licenseManagerClient(options, logger),
 *   (client, signal) => client.send(command, { abortSignal: signal }),
 *   options,
 *   (err) => classifyLicenseManagerError(err),
 * );
 */
import type { MeteringErrorVerdict } from './aws-errors.js';
import { ConfigurationError, UntrustedServerError } from '../common/errors.js';
import { describeError, resolveLogger, type Logger, type LoggerLike } from '../common/logger.js';
import type { MeteringClientPurpose } from './metering-client.js';
import { DEFAULT_DEADLINE_MS, resolveRetryPolicy, retryUntilDeadline, type RetryPolicy } from './retry.js';
import { certificateFailure } from './tls-roots.js';

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

export interface CallResult<T> {
  value: T;
  attempts: number;
  region: string;
}

/**
 * Builds the client with `makeClient` and runs `attempt` under the retry policy; `classify` says whether a
 * failure is worth another attempt and, if not, which typed error it ends in. `isPending` marks answers that
 * are not failures but need another round (BatchMeterUsage's UnprocessedRecords).
 */
export async function callAws<Client, T>(
  purpose: MeteringClientPurpose,
  makeClient: (logger: Logger) => Promise<{ client: Client; region: string }>,
  attempt: (client: Client, signal: AbortSignal) => Promise<T>,
  options: AwsCallOptions,
  classify: (err: unknown) => MeteringErrorVerdict,
  isPending: (err: unknown) => boolean = () => false,
): Promise<CallResult<T>> {
  const { operation, eventPrefix } = purpose;
  const logger = resolveLogger(options.logger);
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (!(deadlineMs > 0) || !Number.isFinite(deadlineMs)) {
    throw new ConfigurationError('INVALID_OPTION', `deadlineMs must be a positive number of milliseconds, got ${String(options.deadlineMs)}.`);
  }
  const policy = resolveRetryPolicy(options.retry); // checked before any network call
  let warnedDeadlineNear = false;
  const { client, region } = await makeClient(logger);
  const judge = (err: unknown): MeteringErrorVerdict => untrustedServer(err, operation) ?? classify(err);
  const { value, attempts } = await retryUntilDeadline((signal) => attempt(client, signal), {
    operation,
    deadlineMs,
    policy,
    signal: options.signal,
    isRetryable: (err) => isPending(err) || judge(err).retryable,
    onRetry: ({ error, attempt: n, delayMs, remainingMs }) => {
      // A retry is routine (throttling under a scale-up, a blip); a deadline running out needs an operator, once.
      logger.info?.(`${operation} attempt ${n} ${isPending(error) ? 'left work pending' : 'failed'}, retrying in ${delayMs} ms`, {
        event: `${eventPrefix}.retry`,
        attempt: n,
        delayMs,
        error: describeError(error),
      });
      if (!warnedDeadlineNear && remainingMs < deadlineMs * DEADLINE_NEAR_FRACTION) {
        warnedDeadlineNear = true;
        logger.warn?.(
          `${operation} has failed ${n} time(s) and less than ${Math.ceil(remainingMs / 1000)} s of its ${Math.round(deadlineMs / 1000)} s deadline is left: ` +
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

/**
 * A server whose certificate does not verify is final for every service: a proxy that intercepts TLS, or a trust
 * anchor added to the pod, will still be there in 30 minutes. A reset or timeout during the handshake is not this.
 */
function untrustedServer(err: unknown, operation: string): MeteringErrorVerdict | undefined {
  const reason = certificateFailure(err);
  if (reason === undefined) return undefined;
  return {
    retryable: false,
    error: new UntrustedServerError(
      reason,
      `The server that answered ${operation} is not trusted as AWS (${reason}): its certificate does not chain to the trusted roots ` +
        "(by default Amazon's own) or names another host. Likely a TLS-intercepting egress proxy, or a CA added to the container " +
        "(NODE_EXTRA_CA_CERTS is not used for AWS calls). Let the AWS endpoints through the proxy untouched (a CONNECT tunnel or a VPC " +
        "endpoint), or, if the seller allows it, choose other roots with tlsRoots / --tls-roots." +
        (reason === 'CERT_NOT_YET_VALID' || reason === 'CERT_HAS_EXPIRED' ? " Or this machine's clock is wrong: check it is synchronised." : ''),
      { cause: err },
    ),
  };
}
