/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/errors: the typed errors and the exit codes, on their own. The root entry point exports the
 * same classes; import them from here where the root is not loaded anyway (contract or custom-metering pricing), so
 * that `instanceof` costs no Metering client. Every error the library throws is an {@link EntitlementError} with a
 * stable `code` and the `exitCode` the CLI exits with.
 *
 * @example
 * import { acquireLicense } from 'marketplace-entitlement/license';
 * import { NotEntitledError } from 'marketplace-entitlement/errors';
 * try {
 *   await acquireLicense({
 *     productSku: 'prod-abc123example',
 *     entitlements: [{ name: 'Seats', unit: 'Count', value: '1' }]
 *   });
 * } catch (err) {
 *   if (err instanceof NotEntitledError) process.exit(err.exitCode); // 77
 *   throw err;
 * }
 */
export {
  EntitlementError,
  NotEntitledError,
  ConfigurationError,
  VerificationError,
  ServiceUnavailableError,
  InputError,
  OutputError,
  UntrustedServerError,
  ValidationError,
  ExitCode,
} from './common/errors.js';
