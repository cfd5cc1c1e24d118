/**
 * The error a promise rejects with, checked to be of a given class and handed back for further assertions
 * (`rejects.toThrow` cannot return it).
 *
 * @example
 * const error = await rejectionOf(ensureEntitled(options), ConfigurationError);
 * expect(error.code).toBe('MISSING_REGION');
 */
import { expect } from 'vitest';

export async function rejectionOf<E extends Error>(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => E,
): Promise<E> {
  const outcome = await promise.then(
    () => ({ rejected: false as const }),
    (error: unknown) => ({ rejected: true as const, error }),
  );
  if (!outcome.rejected) throw new Error(`expected a rejection with ${type.name}, but the promise resolved`);
  expect(outcome.error).toBeInstanceOf(type);
  return outcome.error as E;
}
