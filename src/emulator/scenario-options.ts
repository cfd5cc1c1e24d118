/**
 * Checks of the emulator's scenario settings given as text or numbers (the `emulator` command's options, or a
 * config): which modelled errors to answer, and the call counts and rate that steer its faults. Each check names
 * the setting as the caller calls it (`name`, e.g. `--throttle-first`) and throws {@link ConfigurationError}
 * `INVALID_OPTION` saying what is allowed.
 *
 * @example
 * const scenario = {
 *   throttleFirst: callCountOption('--throttle-first', 2),
 *   errors: operationErrorsOption('--operation-errors', ['MeterUsage=InvalidEndpointRegionException'])
 * };
 */
import { ConfigurationError } from '../common/errors.js';
import { MODELLED_ERRORS } from './modelled-errors.js';

const invalid = (message: string) => new ConfigurationError('INVALID_OPTION', message);

/** A number of calls (the first N answer a fault): a whole number, 0 or more. */
export function callCountOption(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0)
    throw invalid(`${name} ${value} is not valid: expected a whole number of calls, 0 or more.`);
  return value;
}

/** A rate of calls per second (beyond it, calls are throttled): a finite number above 0. */
export function callRateOption(name: string, value: number): number {
  if (!Number.isFinite(value) || !(value > 0))
    throw invalid(`${name} ${value} is not valid: expected calls per second above 0.`);
  return value;
}

/** An error every RegisterUsage call answers: one RegisterUsage models (modelled-errors.ts). */
export function registerUsageErrorOption(name: string, value: string): string {
  const modelled = MODELLED_ERRORS.RegisterUsage!;
  if (!Object.hasOwn(modelled, value))
    throw invalid(`${name} ${value} is not a RegisterUsage error; one of ${Object.keys(modelled).join(', ')}.`);
  return value;
}

/**
 * `OPERATION=Exception` items as the scenario's `errors`: each operation one the emulator serves, each error one
 * that operation models.
 *
 * @example
 * operationErrorsOption('--operation-errors', ['MeterUsage=InvalidEndpointRegionException'])
 * // { MeterUsage: 'InvalidEndpointRegionException' }
 */
export function operationErrorsOption(name: string, items: readonly string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const item of items) {
    const [operation = '', error = '', extra] = item.split('=');
    const modelled = Object.hasOwn(MODELLED_ERRORS, operation) ? MODELLED_ERRORS[operation] : undefined;
    if (extra !== undefined || modelled === undefined) {
      throw invalid(
        `${name} ${JSON.stringify(item)}: expected OPERATION=Exception with OPERATION one ` +
          `of ${Object.keys(MODELLED_ERRORS).join(', ')}.`,
      );
    }
    if (!Object.hasOwn(modelled, error))
      throw invalid(`${name} ${JSON.stringify(item)}: ${operation} models ${Object.keys(modelled).join(', ')}.`);
    errors[operation] = error;
  }
  return errors;
}
