/**
 * The retry policy shared by every Metering call: capped exponential backoff with full jitter, bounded
 * by a total deadline and an AbortSignal.
 *
 * Why full jitter: RegisterUsage allows 5 calls/second per account and Region, and a scale-up starts
 * hundreds of pods at the same instant with no coordination. Without jitter they retry in lock-step
 * and keep colliding; with full jitter their retries spread over the whole backoff window.
 *
 * @example
 * const { value, attempts } = await retryUntilDeadline((signal) => client.send(cmd, { abortSignal: signal }), {
 *   deadlineMs: 30 * 60_000,
 *   isRetryable: (err) => err.name === 'ThrottlingException',
 * });
 */
import { ConfigurationError, ServiceUnavailableError } from '../common/errors.js';

/** Backoff of a retry loop: full jitter, the window doubling from `baseDelayMs` up to `maxDelayMs`. */
export interface RetryPolicy {
  /** Upper bound of the first backoff window. */
  baseDelayMs: number;
  /** Largest backoff window, however many attempts failed. */
  maxDelayMs: number;
}

/**
 * Base 1 s, cap 30 s, full jitter: tuned on the herd simulation (`node bench/herd.bench.mjs --sweep`, figures in
 * docs/benchmarks.md, "The scale-up herd"). Against the 5/s quota a throttled call costs a wasted request but no
 * throughput, so the cap trades the tail (the last pods wait up to a cap-sized window) against wasted
 * calls: at 1,000 pods, cap 30 s finishes within ~7% of the N/5 s lower bound with ~11 calls per pod;
 * 60 s costs ~15% and 9 calls, 20 s ~5% and 14 calls, and below that calls climb steeply. A 1 s base
 * lets a small herd (10 pods) finish inside the bucket's first second or two.
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({ baseDelayMs: 1_000, maxDelayMs: 30_000 });

/** AWS's guidance: keep retrying RegisterUsage for up to 30 minutes. */
export const DEFAULT_DEADLINE_MS = 30 * 60_000;

/**
 * Delay before the next attempt after `failures` consecutive failures (1 = the first failure):
 * uniform in [0, min(maxDelayMs, baseDelayMs * 2^(failures-1))).
 *
 * @example backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 1000 }) // somewhere in [0, 400)
 */
export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const window = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** exponent);
  return Math.floor(random() * window);
}

/** Budget and policy of one retry loop. */
export interface RetryOptions {
  /** Total time for every attempt and wait. */
  deadlineMs: number;
  /** Backoff; defaults filled in. */
  policy?: Partial<RetryPolicy>;
  /** Stops the loop at once. */
  signal?: AbortSignal;
  /** True for failures worth another attempt; any other error is rethrown at once. */
  isRetryable: (err: unknown) => boolean;
  /** Called before each backoff sleep, e.g. to log. */
  onRetry?: (info: { error: unknown; attempt: number; delayMs: number; remainingMs: number }) => void;
  /** What the operation is, for error messages ("RegisterUsage"). */
  operation?: string;
}

export interface RetryResult<T> {
  value: T;
  attempts: number;
}

/** Validates a partial policy and fills in the defaults. */
export function resolveRetryPolicy(policy: Partial<RetryPolicy> = {}): RetryPolicy {
  const baseDelayMs = policy.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs;
  // A base above the default cap with no cap given means "wait longer", not a contradiction.
  const maxDelayMs = policy.maxDelayMs ?? Math.max(DEFAULT_RETRY_POLICY.maxDelayMs, baseDelayMs);
  const resolved = { baseDelayMs, maxDelayMs };
  if (!(resolved.baseDelayMs > 0) || !(resolved.maxDelayMs >= resolved.baseDelayMs)) {
    throw new ConfigurationError(
      'INVALID_OPTION',
      `The retry policy needs 0 < baseDelayMs <= maxDelayMs, got ${JSON.stringify(resolved)}.`,
    );
  }
  return resolved;
}

/**
 * Runs `attempt` until it succeeds, fails with a non-retryable error, the deadline passes, or `signal`
 * aborts. Each attempt gets a signal that fires at the deadline or on abort, so a hung request never
 * outlives the budget. Deadline and abort end in a {@link ServiceUnavailableError} whose `cause` is the
 * last failure.
 */
export async function retryUntilDeadline<T>(
  attempt: (signal: AbortSignal, attemptNumber: number) => Promise<T>,
  options: RetryOptions,
): Promise<RetryResult<T>> {
  const policy = resolveRetryPolicy(options.policy);
  const operation = options.operation ?? 'the call';
  const deadlineAt = Date.now() + options.deadlineMs;
  const deadline = AbortSignal.timeout(Math.max(options.deadlineMs, 0));
  const stop = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let attempts = 0;
  let lastError: unknown;

  const giveUp = (): ServiceUnavailableError => {
    if (options.signal?.aborted) {
      return new ServiceUnavailableError('ABORTED', `${operation} was aborted after ${attempts} attempt(s)`, attempts, {
        cause: lastError ?? options.signal.reason,
      });
    }
    const last = lastError instanceof Error ? `; last error: ${lastError.name}: ${lastError.message}` : '';
    return new ServiceUnavailableError(
      'DEADLINE_EXCEEDED',
      `${operation} did not succeed within ${options.deadlineMs} ms (${attempts} attempt(s))${last}. ` +
        'AWS was unreachable or kept throttling; check network egress to the AWS endpoint and retry later.',
      attempts,
      { cause: lastError },
    );
  };

  for (;;) {
    if (stop.aborted) throw giveUp();
    attempts += 1;
    try {
      return { value: await attempt(stop, attempts), attempts };
    } catch (err) {
      if (stop.aborted) {
        // An attempt cut short by the deadline or the caller is not the service's answer.
        if (!isAbortError(err)) lastError = err;
        throw giveUp();
      }
      if (!options.isRetryable(err)) throw err;
      lastError = err;
    }
    const delayMs = Math.min(backoffDelay(attempts, policy), Math.max(deadlineAt - Date.now(), 0));
    options.onRetry?.({ error: lastError, attempt: attempts, delayMs, remainingMs: Math.max(deadlineAt - Date.now() - delayMs, 0) });
    await sleep(delayMs, stop);
  }
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
