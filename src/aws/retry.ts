/**
 * The retry policy shared by every AWS call, whichever service: a jittered backoff whose window grows
 * per failure up to a cap, bounded by a total deadline and an AbortSignal.
 *
 * Why jitter: RegisterUsage allows 5 calls/second per account and Region, and a scale-up starts hundreds of pods
 * at the same instant with no coordination. Without jitter they retry in lock-step and keep colliding; with it
 * their retries spread over the backoff window.
 *
 * @example
 * const { value, attempts } = await retryUntilDeadline((signal) => client.send(cmd, { abortSignal: signal }), {
 *   deadlineMs: 30 * 60_000,
 *   isRetryable: (err) => err.name === 'ThrottlingException',
 * });
 */
import { durationOption } from '../common/duration-option.js';
import { ConfigurationError, ServiceUnavailableError } from '../common/errors.js';

/**
 * Backoff of a retry loop. After the k-th consecutive failure the loop waits a random delay drawn from a window:
 * the window starts at `baseDelayMs`, doubles after each failure up to `doublingLimitMs`, then grows by
 * `stepDelayMs` per failure, never past `maxDelayMs`; the delay is uniform over the last `maxJitterMs` of the
 * window (over the whole window, "full jitter", while the window is no wider than that). `backoffDelay` in
 * src/aws/retry.ts computes it.
 */
export interface RetryPolicy {
  /** The first backoff window. */
  baseDelayMs: number;
  /** The window doubles after each failure until it reaches this (it stays at most this while doubling). */
  doublingLimitMs: number;
  /** Past the doubling, the window grows by this much per failure. */
  stepDelayMs: number;
  /** Largest backoff window, however many attempts failed. */
  maxDelayMs: number;
  /** Widest spread of the random draw: the delay falls in the last `maxJitterMs` of the window. */
  maxJitterMs: number;
}

/**
 * Window 1 s, growing by 0.5 s per failure up to 30 s (no doubling); the delay is drawn from the window's last
 * 8 s: full jitter up to the 15th failure, then uniform in [window - 8 s, window). Why: a pod's window grows with
 * the square root of the time it has waited rather than in proportion to it, so the last pods of a small scale-up
 * do not sit out long windows while the 5/s quota idles; drawing from the window's last 8 s keeps a long wait's
 * retries sparse enough to pay for the fine steps. Chosen on the herd simulation (`node bench/herd.bench.mjs
 * --sweep`); the figures and the trade (more throttled calls in mid-sized herds) are in docs/benchmarks.md,
 * "Choosing the policy".
 */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  baseDelayMs: 1_000,
  doublingLimitMs: 1_000,
  stepDelayMs: 500,
  maxDelayMs: 30_000,
  maxJitterMs: 8_000,
});

/** AWS's guidance for RegisterUsage (and for License Manager checkouts off AWS): keep retrying for up to 30 minutes. */
export const DEFAULT_DEADLINE_MS = 30 * 60_000;

/**
 * The backoff window after `failures` consecutive failures (1 = the first failure): `baseDelayMs`, doubled
 * per further failure up to `doublingLimitMs`, then `stepDelayMs` more per failure, at most `maxDelayMs`.
 *
 * @example
 * backoffWindow(5, { baseDelayMs: 1000, doublingLimitMs: 4000, stepDelayMs: 500,
 *   maxDelayMs: 30000, maxJitterMs: 8000 })
 * // 1, 2, 4, 4.5, 5 s: 5000
 */
export function backoffWindow(failures: number, policy: RetryPolicy): number {
  let window = policy.baseDelayMs;
  let counted = 1; // failures the window accounts for so far
  // At most log2(doublingLimitMs / baseDelayMs) + 1 rounds, whatever `failures` is.
  while (counted < failures && window < policy.doublingLimitMs && window < policy.maxDelayMs) {
    window = Math.min(window * 2, policy.doublingLimitMs);
    counted += 1;
  }
  return Math.min(policy.maxDelayMs, window + policy.stepDelayMs * Math.max(failures - counted, 0));
}

/**
 * Delay before the next attempt after `failures` consecutive failures (1 = the first failure), in whole
 * milliseconds: floor(window - spread) + floor(random() * spread), where window = {@link backoffWindow} and
 * spread = min(window, `maxJitterMs`); that is, uniform over [window - spread, window).
 *
 * @example
 * backoffDelay(3, { baseDelayMs: 100, doublingLimitMs: 1000, stepDelayMs: 100, maxDelayMs: 1000, maxJitterMs: 1000 })
 * // somewhere in [0, 400)
 */
export function backoffDelay(failures: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const window = backoffWindow(failures, policy);
  const spread = Math.min(window, policy.maxJitterMs);
  // Two floors rather than one: floor(a + random * b) can round up to the window itself when random is near 1.
  return Math.floor(window - spread) + Math.floor(random() * spread);
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
  const field = (name: keyof RetryPolicy, fallback: number): number =>
    durationOption(`retry.${name}`, policy[name], { unit: 'milliseconds', allowZero: false }, fallback);
  const baseDelayMs = field('baseDelayMs', DEFAULT_RETRY_POLICY.baseDelayMs);
  // A base above the default cap with no cap given means "wait longer", not a contradiction.
  const maxDelayMs = field('maxDelayMs', Math.max(DEFAULT_RETRY_POLICY.maxDelayMs, baseDelayMs));
  if (maxDelayMs < baseDelayMs) {
    throw new ConfigurationError(
      'INVALID_OPTION',
      `retry.baseDelayMs (${baseDelayMs}) must not exceed retry.maxDelayMs (${maxDelayMs}).`,
    );
  }
  return {
    baseDelayMs,
    doublingLimitMs: field('doublingLimitMs', DEFAULT_RETRY_POLICY.doublingLimitMs),
    stepDelayMs: field('stepDelayMs', DEFAULT_RETRY_POLICY.stepDelayMs),
    maxDelayMs,
    maxJitterMs: field('maxJitterMs', DEFAULT_RETRY_POLICY.maxJitterMs),
  };
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
    options.onRetry?.({
      error: lastError,
      attempt: attempts,
      delayMs,
      remainingMs: Math.max(deadlineAt - Date.now() - delayMs, 0),
    });
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
