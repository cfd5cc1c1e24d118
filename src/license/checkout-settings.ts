/**
 * The checkout settings a CLI or a config file is checked against: the checkout types and the recheck default.
 * Kept apart from the lease (as fingerprint.ts is) so an option table can import them without loading the AWS SDK.
 *
 * @example CHECKOUT_TYPES.includes(args.checkoutType) // validate a CLI or config value
 */

/** AWS's guidance: check out again (here: look the licence up) every 15 minutes to see expiry and upgrades. */
export const DEFAULT_RECHECK_MS = 15 * 60_000;

/**
 * The `checkoutType`s `acquireLicense` accepts (anything else is a ConfigurationError): PROVISIONAL holds a
 * floating unit that is extended and checked back in; PERPETUAL draws the units down for good.
 *
 * @example CHECKOUT_TYPES.includes(args.checkoutType) // validate a CLI or config value
 */
export const CHECKOUT_TYPES = ['PROVISIONAL', 'PERPETUAL'] as const;
/** A License Manager checkout type, one of {@link CHECKOUT_TYPES}: `'PROVISIONAL'` (floating) or `'PERPETUAL'` (drawdown). */
export type CheckoutTypeName = (typeof CHECKOUT_TYPES)[number];
