/**
 * The `now` option of the verifiers (`verifyRegistration`, the entitlement file's): the moment a token or a file
 * is judged at, checked like the duration options beside it (duration-option.ts).
 *
 * @example
 * const nowSec = judgedAtSec(options.now);
 */
import { ConfigurationError } from './errors.js';

/**
 * The moment a token is judged at, in seconds: `now`, or the current time. An invalid Date would make every
 * time comparison false, passing any token: it is refused ({@link ConfigurationError} `INVALID_OPTION`).
 *
 * @example
 * const nowSec = judgedAtSec(options.now);
 */
export function judgedAtSec(now: Date | undefined): number {
  const ms = (now ?? new Date()).getTime();
  if (!Number.isFinite(ms)) throw new ConfigurationError('INVALID_OPTION', '`now` must be a valid Date.');
  return ms / 1000;
}
