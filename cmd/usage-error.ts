/**
 * A command line that cannot be run as written: exit 64 (EX_USAGE).
 *
 * @example
 * throw new UsageError('--product-code is required (or set MARKETPLACE_PRODUCT_CODE).');
 */
import { ConfigurationError, EntitlementError, ExitCode, type EntitlementErrorOptions } from '../src/common/errors.js';

export class UsageError extends EntitlementError {
  constructor(message: string, options?: EntitlementErrorOptions) {
    super('USAGE', ExitCode.USAGE, message, options);
  }
}

/** The library's codes for input that is wrong as given (an option's value, a file's content). */
const INPUT_ERROR_CODES: ReadonlySet<string> = new Set([
  'INVALID_OPTION',
  'INVALID_LICENSE',
  'INVALID_REGISTRATION_TOKENS',
]);

/**
 * Runs a library check of what the command line gave; the {@link ConfigurationError} it throws for that input is
 * a usage error (exit 64), its message after `prefix` (the option, when the library does not name it).
 *
 * @example const licenses = usageErrorOf('--license ', () => parseLicenseItems(args.license ?? []));
 */
export function usageErrorOf<T>(prefix: string, check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof ConfigurationError && INPUT_ERROR_CODES.has(err.code))
      throw new UsageError(`${prefix}${err.message}`, { cause: err });
    throw err;
  }
}
