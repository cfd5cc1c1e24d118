/**
 * A command line that cannot be run as written: exit 64 (EX_USAGE).
 *
 * @example
 * throw new UsageError('--product-code is required (or set MARKETPLACE_PRODUCT_CODE).');
 */
import { EntitlementError, ExitCode } from '../src/common/errors.js';

export class UsageError extends EntitlementError {
  constructor(message: string) {
    super('USAGE', ExitCode.USAGE, message);
  }
}
