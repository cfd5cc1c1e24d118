/**
 * `acquireLicense()`: contract pricing. Checks out the buyer's AWS Marketplace licence through AWS License
 * Manager and holds it for the life of the process as a {@link Lease}.
 *
 * - The checkout succeeds only when every requested entitlement is in `EntitlementsAllowed` (License Manager
 *   grants PROVISIONAL checkouts partially); a partial grant is checked back in and is a NotEntitledError naming
 *   what is missing. The answer must match what was sent (checkout type, a licence ARN, a consumption token).
 * - A PROVISIONAL (floating) checkout holds a unit until its `Expiration` (about 60 minutes at AWS): the lease
 *   extends it halfway through whatever time is left, so the schedule follows the Expiration AWS returns.
 * - Every `recheckMs` (15 minutes, AWS's guidance) `GetLicense` shows expiry, suspension or a new licence
 *   version. It never checks out again on a timer: each PROVISIONAL checkout holds a unit, so a `MaxCount=1`
 *   contract would lock the buyer out. Only a new licence version (an upgrade) triggers one new checkout, made
 *   beside the held one and swapped in on success (the old one is then checked in); a PERPETUAL (drawdown)
 *   checkout is never repeated, as each would consume again.
 * - A lost or expired licence shows in `status()` and fires 'lost' once `graceMs` has passed since it was seen
 *   (default 0: fail closed); a later recheck that finds it valid again within the grace clears it. 'lost' is
 *   final: the lease stops, and the process should stop serving.
 * - `close()` checks a PROVISIONAL checkout in (once, however often it is called), and so does aborting `signal`.
 *
 * @example
 * import { acquireLicense } from 'marketplace-entitlement/license';
 * const lease = await acquireLicense({
 *   productSku: '1a2b3c4d-example-sku',
 *   entitlements: [{ name: 'ReadOnlyUsers', unit: 'Count', value: '1' }],
 * });
 * lease.on('lost', (status) => server.close());
 * process.once('SIGTERM', () => void lease.close());
 */
import { resolveLogger } from '../common/logger.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';
import { licenseManagerClient } from './call.js';
import { checkOut } from './checkout.js';
import type { AcquireLicenseOptions, Lease } from './lease-types.js';
import { LicenseLease } from './license-lease.js';
import { checkLicenseOptions } from './license-options.js';

export { AWS_MARKETPLACE_KEY_FINGERPRINT } from './fingerprint.js';
export { parseAwsTime } from './aws-time.js';
export { CHECKOUT_TYPES, DEFAULT_RECHECK_MS } from './lease-types.js';
export type {
  AcquireLicenseOptions,
  AllowedEntitlement,
  CheckoutTypeName,
  Lease,
  LeaseStatus,
  RequestedEntitlement,
} from './lease-types.js';

/**
 * Checks out the licence and returns the held lease; throws NotEntitledError (77), ConfigurationError (78) or
 * ServiceUnavailableError (69) otherwise.
 *
 * @example
 * const lease = await acquireLicense({
 *   productSku: '1a2b3c4d-example-sku',
 *   entitlements: [{ name: 'Users', unit: 'Count', value: '1' }]
 * });
 * lease.on('lost', () => server.close());
 * process.once('SIGTERM', () => void lease.close());
 */
export async function acquireLicense(given: AcquireLicenseOptions): Promise<Lease> {
  const options = applyHardenedProfile(given, 'acquireLicense', { reachesAws: true });
  const request = checkLicenseOptions(options);
  checkProcessIntegrity(options);
  const logger = resolveLogger(options.logger);
  const { client, region } = await licenseManagerClient(options, logger);
  const callOptions = { ...options, logger, client };
  logger.info?.('Calling CheckoutLicense', {
    event: 'license.start',
    productSku: request.productSku,
    checkoutType: request.checkoutType,
    entitlements: request.entitlements.map((e) => e.name),
    endpoint: options.endpoint,
  });
  const checkout = await checkOut(request, callOptions);
  const lease = new LicenseLease(request, checkout, callOptions, region);
  logger.info?.('Licence checked out', {
    event: 'license.checked_out',
    licenseArn: checkout.licenseArn,
    checkoutType: request.checkoutType,
    expiration: checkout.expiration?.toISOString(),
    attempts: checkout.attempts,
    region,
  });
  return lease;
}
