/**
 * The public shapes of contract pricing (`acquireLicense` in ./lease.ts): what a container asks License Manager
 * for, what it was granted, the options, and the held {@link Lease} with its {@link LeaseStatus}.
 *
 * @example
 * const wanted: RequestedEntitlement[] = [{ name: 'Users', unit: 'Count', value: '1' }];
 */
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import type { LicenseManagerCallOptions } from './call.js';

/**
 * The `checkoutType`s `acquireLicense` accepts (anything else is a ConfigurationError): PROVISIONAL holds a
 * floating unit that is extended and checked back in; PERPETUAL draws the units down for good.
 *
 * @example CHECKOUT_TYPES.includes(args.checkoutType) // validate a CLI or config value
 */
export const CHECKOUT_TYPES = ['PROVISIONAL', 'PERPETUAL'] as const;
/**
 * A License Manager checkout type, one of {@link CHECKOUT_TYPES}: `'PROVISIONAL'` (floating) or `'PERPETUAL'`
 * (drawdown).
 */
export type CheckoutTypeName = (typeof CHECKOUT_TYPES)[number];

/*
 * The defaults below live beside the types and not in license-options.ts or the lease, so an option table can import
 * them without the License Manager SDK.
 */

/** The `checkoutType` when none is given: a floating unit, checked back in on close. */
export const DEFAULT_CHECKOUT_TYPE: CheckoutTypeName = 'PROVISIONAL';

/** AWS's guidance: check out again (here: look the licence up) every 15 minutes to see expiry and upgrades. */
export const DEFAULT_RECHECK_MS = 15 * 60_000;

/** The `graceMs` when none is given: a lost or expired licence is not tolerated at all. */
export const DEFAULT_GRACE_MS = 0;

/**
 * How long a PROVISIONAL checkout (and each extension) lasts at AWS: 60 minutes, the `MaxTimeToLiveInMinutes` AWS
 * Marketplace sets on its products' licences (docs/pricing-models.md). The lease assumes it when AWS returns no usable
 * `Expiration`; the emulator grants it by default.
 */
export const PROVISIONAL_CHECKOUT_TTL_MS = 60 * 60_000;

/**
 * One entitlement to check out: a contract dimension's API name and unit, e.g.
 * `{ name: 'Users', unit: 'Count', value: '1' }`.
 */
export interface RequestedEntitlement {
  /** The dimension's API name exactly as in the licence (names are unique within a request); matched with `unit`. */
  name: string;
  /** One of License Manager's units (`Count`, `None`, `Gigabytes`, ...): the licence's own unit for this dimension. */
  unit: string;
  /** A quantity as a string (`'1'`), for counted units; absent for tiers and features (`unit: 'None'`). */
  value?: string;
}

/** An entitlement License Manager allowed, as its CheckoutLicense answer listed it in `EntitlementsAllowed`. */
export interface AllowedEntitlement {
  /** The dimension's API name; a request is granted only when each of its names comes back with the same unit. */
  name: string;
  /** License Manager's unit for it (`Count`, `None`, ...), as answered. */
  unit: string;
  /** The quantity or value granted, as AWS's string (e.g. `'1'`); absent when AWS sent none. */
  value?: string;
}

/**
 * Options of `acquireLicense`: what to check out, plus how to reach License Manager (Region, endpoint,
 * credentials, logger, deadline, `signal`, whose abort closes the lease).
 */
export interface AcquireLicenseOptions extends LicenseManagerCallOptions, Omit<ProcessGuardOptions, 'env'> {
  /** The product SKU (product ID) from the AWS Marketplace Management Portal. Its exact form is configuration. */
  productSku: string;
  /** What the container needs; all of it must be allowed. */
  entitlements: RequestedEntitlement[];
  /** PROVISIONAL (floating, returned after use) or PERPETUAL (drawdown, consumed). Default PROVISIONAL. */
  checkoutType?: CheckoutTypeName;
  /** Default: AWS Marketplace's issuer fingerprint (`AWS_MARKETPLACE_KEY_FINGERPRINT`). */
  keyFingerprint?: string;
  /** Optional node-lock id sent as `NodeId`. */
  nodeId?: string;
  /** How often the licence is looked up (GetLicense). Default 15 minutes. */
  recheckMs?: number;
  /** How long a lost or expired licence is tolerated before `status()` turns false and 'lost' fires. Default 0. */
  graceMs?: number;
}

/** The lease's verdict, shaped like the entitlement gate's. */
export interface LeaseStatus {
  /** False once the licence is lost (a problem outlasted `graceMs`) or the lease is closed; true while degraded. */
  entitled: boolean;
  /** Why not entitled (or, within the grace period, what is wrong). */
  reason?: string;
  /** Stable code: `LICENSE_EXPIRED`, `LICENSE_<STATUS>`, `CHECKOUT_LOST`, `CHECKOUT_EXPIRED`, `LEASE_CLOSED`. */
  code?: string;
  /** The product SKU the lease was acquired for. */
  productSku: string;
  /** The licence of the current checkout (a new version's checkout may replace it). */
  licenseArn: string;
  /** The checkout type requested and held. */
  checkoutType: CheckoutTypeName;
  /** When the current checkout expires (ISO 8601), when AWS said. */
  expiration?: string;
  /** The licence's status and end of validity from the last GetLicense. */
  licenseStatus?: string;
  /**
   * The contract's end (`Validity.End`) as GetLicense wrote it (possibly without a zone: read it as UTC); absent before
   * the first lookup.
   */
  validityEnd?: string;
  /** The licence version from the last GetLicense; it changes on an upgrade or renewal (a 'change' event). */
  licenseVersion?: string;
  /** What the current checkout granted (a copy). */
  entitlementsAllowed: AllowedEntitlement[];
  /** Successful ExtendLicenseConsumption calls. */
  extensions: number;
  /** Successful GetLicense rechecks. */
  rechecks: number;
  /** Within `graceMs` of a problem: still entitled, but this is wrong. */
  degradedSince?: string;
}

/**
 * A held licence checkout from `acquireLicense`: extended before it expires (PROVISIONAL), rechecked with
 * GetLicense every `recheckMs`, and checked in by `close()`. Its timers never keep the process alive.
 *
 * @example
 * const lease = await acquireLicense({ productSku, entitlements: [{ name: 'Users', unit: 'Count', value: '1' }] });
 * app.get('/healthz', (req, res) => res.status(lease.status().entitled ? 200 : 503).end());
 */
export interface Lease {
  /** The product SKU that was checked out. */
  readonly productSku: string;
  /** The licence of the current checkout; it can change when a new licence version is checked out again. */
  readonly licenseArn: string;
  /** What the current checkout granted: every requested entitlement (a copy on each read). */
  readonly entitlementsAllowed: AllowedEntitlement[];
  /** The checkout type held: PROVISIONAL is extended and checked in, PERPETUAL is neither. */
  readonly checkoutType: CheckoutTypeName;
  /** When the current checkout expires; undefined when AWS gave no usable time. */
  readonly expiration: Date | undefined;
  /** The current checkout's `LicenseConsumptionToken` (renewed by extensions); may be undefined for PERPETUAL. */
  readonly consumptionToken: string | undefined;
  /** CheckoutLicense calls made for the first checkout, retries included. */
  readonly attempts: number;
  /** The AWS Region License Manager was called in (given, or discovered as for every AWS call). */
  readonly region: string;
  /** The verdict now, without a call to AWS: cheap enough for every health check. */
  status(): LeaseStatus;
  /** 'change': the licence changed (new version, new grant, recovered). 'lost': the licence is gone for good. */
  on(event: 'change' | 'lost', listener: (status: LeaseStatus) => void): this;
  /** Removes a listener added with `on`. */
  off(event: 'change' | 'lost', listener: (status: LeaseStatus) => void): this;
  /** Stops the timers and checks a PROVISIONAL checkout in. Idempotent. */
  close(): Promise<void>;
}
