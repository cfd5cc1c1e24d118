/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement/license: contract pricing through AWS License Manager (docs/pricing-models.md). Check the
 * buyer's licence out at start-up and hold it as a lease (extended, rechecked, upgraded, checked back in), the IAM
 * actions it needs, and the License Manager client.
 *
 * @example
 * import { acquireLicense } from 'marketplace-entitlement/license';
 * const lease = await acquireLicense({
 *   productSku: '1a2b3c4d-example-sku',
 *   entitlements: [{ name: 'ReadOnlyUsers', unit: 'Count', value: '1' }],
 * });
 * lease.on('lost', () => process.exit(77));
 * process.once('SIGTERM', () => void lease.close());
 */
export { acquireLicense, AWS_MARKETPLACE_KEY_FINGERPRINT, DEFAULT_RECHECK_MS, CHECKOUT_TYPES } from './lease.js';
export type {
  AcquireLicenseOptions,
  Lease,
  LeaseStatus,
  RequestedEntitlement,
  AllowedEntitlement,
  CheckoutTypeName,
} from './lease.js';
export { LICENSE_MANAGER_ACTIONS } from './errors.js';
export { licenseManagerClient } from './call.js';
export type { LicenseManagerClientOptions, LicenseManagerCallOptions } from './call.js';
