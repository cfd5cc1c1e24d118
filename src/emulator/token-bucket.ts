/**
 * The emulator's rate limit (`scenario.rateLimit`): a token bucket, `perSecond` tokens added continuously up to
 * `burst` (default `perSecond`), full when first used; a call takes one token or, when there is none, is throttled
 * without taking one. AWS documents RegisterUsage's 5/s, not the burst or whether a throttled call counts.
 * bench/herd-sim.mjs runs this same code (as built) on its virtual clock, so the simulated quota is the emulated one.
 *
 * @example
 * const bucket = new TokenBucket();
 * bucket.take(Date.now(), { perSecond: 5, burst: 5 }); // true: the bucket starts full
 */
export class TokenBucket {
  #tokens = 0;
  #at: number | undefined;

  /** Takes a token at `nowMs` if there is one; false means throttled. */
  take(nowMs: number, limit: { perSecond: number; burst?: number | undefined }): boolean {
    const capacity = limit.burst ?? limit.perSecond;
    this.#tokens =
      this.#at === undefined
        ? capacity
        : Math.min(capacity, this.#tokens + ((nowMs - this.#at) / 1000) * limit.perSecond);
    this.#at = nowMs;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds from the last `take` until the next token, what a server could announce in a Retry-After. */
  msUntilToken(limit: { perSecond: number }): number {
    return Math.max(0, ((1 - this.#tokens) / limit.perSecond) * 1000);
  }
}
