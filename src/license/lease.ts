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
 * import { acquireLicense } from 'marketplace-entitlement';
 * const lease = await acquireLicense({
 *   productSku: '1a2b3c4d-example-sku',
 *   entitlements: [{ name: 'ReadOnlyUsers', unit: 'Count', value: '1' }],
 * });
 * lease.on('lost', (status) => server.close());
 * process.once('SIGTERM', () => void lease.close());
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  CheckInLicenseCommand,
  CheckoutLicenseCommand,
  EntitlementDataUnit,
  ExtendLicenseConsumptionCommand,
  GetLicenseCommand,
  type CheckoutLicenseCommandOutput,
  type EntitlementData,
  type License,
} from '@aws-sdk/client-license-manager';
import { ConfigurationError, EntitlementError, NotEntitledError, VerificationError } from '../common/errors.js';
import { describeError, resolveLogger, type Logger } from '../common/logger.js';
import { callLicenseManager, licenseManagerClient, type LicenseManagerCallOptions } from './call.js';
import type { ProcessGuardOptions } from '../hardening/integrity.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';

import { AWS_MARKETPLACE_KEY_FINGERPRINT } from './fingerprint.js';

export { AWS_MARKETPLACE_KEY_FINGERPRINT } from './fingerprint.js';
import { CHECKOUT_TYPES, DEFAULT_RECHECK_MS, type CheckoutTypeName } from './checkout-settings.js';

export { CHECKOUT_TYPES, DEFAULT_RECHECK_MS, type CheckoutTypeName } from './checkout-settings.js';

/** The checkout lifetime assumed when AWS returns no usable `Expiration` (AWS documents 60 minutes). */
export const ASSUMED_CHECKOUT_TTL_MS = 60 * 60_000;

/** How long close() may spend checking in: a SIGTERM grace period is short. */
const CHECK_IN_DEADLINE_MS = 10_000;

/** Floor of an extension delay, so a checkout answered already expired is not extended in a busy loop. */
const MIN_TIMER_MS = 50;


const UNITS: ReadonlySet<string> = new Set(Object.values(EntitlementDataUnit));

/** One entitlement to check out: a contract dimension's API name and unit, e.g. `{ name: 'Users', unit: 'Count', value: '1' }`. */
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
 * Options of {@link acquireLicense}: what to check out, plus how to reach License Manager (Region, endpoint,
 * credentials, logger, deadline, `signal`, whose abort closes the lease).
 */
export interface AcquireLicenseOptions extends LicenseManagerCallOptions, Omit<ProcessGuardOptions, 'env'> {
  /** The product SKU (product ID) from the AWS Marketplace Management Portal. Its exact form is configuration. */
  productSku: string;
  /** What the container needs; all of it must be allowed. */
  entitlements: RequestedEntitlement[];
  /** PROVISIONAL (floating, returned after use) or PERPETUAL (drawdown, consumed). Default PROVISIONAL. */
  checkoutType?: CheckoutTypeName;
  /** Default: AWS Marketplace's issuer fingerprint ({@link AWS_MARKETPLACE_KEY_FINGERPRINT}). */
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
  /** The contract's end (`Validity.End`) as GetLicense wrote it (possibly without a zone: read it as UTC); absent before the first lookup. */
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
 * A held licence checkout from {@link acquireLicense}: extended before it expires (PROVISIONAL), rechecked with
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
  /** The AWS Region License Manager was called in (given, or discovered like the Metering client's). */
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

interface Checkout {
  licenseArn: string;
  entitlementsAllowed: AllowedEntitlement[];
  token: string | undefined;
  expiration: Date | undefined;
  attempts: number;
}

interface Trouble {
  code: string;
  reason: string;
  since: number;
}

/**
 * Checks out the licence and returns the held lease; throws NotEntitledError (77), ConfigurationError (78) or
 * ServiceUnavailableError (69) otherwise.
 *
 * @example
 * const lease = await acquireLicense({ productSku: '1a2b3c4d-example-sku', entitlements: [{ name: 'Users', unit: 'Count', value: '1' }] });
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

interface CheckedRequest {
  productSku: string;
  entitlements: RequestedEntitlement[];
  checkoutType: CheckoutTypeName;
  keyFingerprint: string;
  nodeId: string | undefined;
  recheckMs: number;
  graceMs: number;
}

type CallOptions = LicenseManagerCallOptions & { logger: Logger };

function checkLicenseOptions(options: AcquireLicenseOptions): CheckedRequest {
  const bad = (why: string) => new ConfigurationError('INVALID_OPTION', why);
  if (typeof options.productSku !== 'string' || options.productSku.trim() === '') {
    throw bad('productSku is required: the product ID of your container product in the AWS Marketplace Management Portal.');
  }
  if (!Array.isArray(options.entitlements) || options.entitlements.length === 0) {
    throw bad('entitlements must list at least one { name, unit, value? }: the contract dimensions this container needs.');
  }
  const names = new Set<string>();
  for (const [i, entitlement] of options.entitlements.entries()) {
    const where = `entitlements[${i}]`;
    if (typeof entitlement?.name !== 'string' || entitlement.name === '') throw bad(`${where}.name must be a dimension's API name, got ${JSON.stringify(entitlement?.name)}.`);
    if (names.has(entitlement.name)) throw bad(`${where}.name ${JSON.stringify(entitlement.name)} is listed twice.`);
    names.add(entitlement.name);
    if (!UNITS.has(entitlement.unit)) throw bad(`${where}.unit ${JSON.stringify(entitlement.unit)} is not a License Manager unit; one of ${[...UNITS].join(', ')}.`);
    if (entitlement.value !== undefined && (typeof entitlement.value !== 'string' || entitlement.value === '')) {
      throw bad(`${where}.value must be a non-empty string such as "1", got ${JSON.stringify(entitlement.value)}.`);
    }
  }
  const checkoutType = options.checkoutType ?? 'PROVISIONAL';
  if (!CHECKOUT_TYPES.includes(checkoutType)) throw bad(`checkoutType ${JSON.stringify(checkoutType)} is not one of ${CHECKOUT_TYPES.join(', ')}.`);
  const keyFingerprint = options.keyFingerprint ?? AWS_MARKETPLACE_KEY_FINGERPRINT;
  if (typeof keyFingerprint !== 'string' || keyFingerprint === '') throw bad('keyFingerprint must be a non-empty string.');
  const recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
  if (!(recheckMs > 0 && Number.isFinite(recheckMs))) throw bad(`recheckMs must be a positive number of milliseconds, got ${String(options.recheckMs)}.`);
  const graceMs = options.graceMs ?? 0;
  if (!(graceMs >= 0 && Number.isFinite(graceMs))) throw bad(`graceMs must be 0 or more milliseconds, got ${String(options.graceMs)}.`);
  return {
    productSku: options.productSku,
    entitlements: options.entitlements.map(({ name, unit, value }) => ({ name, unit, ...(value !== undefined && { value }) })),
    checkoutType,
    keyFingerprint,
    nodeId: options.nodeId,
    recheckMs,
    graceMs,
  };
}

/** One CheckoutLicense (a fresh ClientToken, reused by its retries), checked against what was asked. */
async function checkOut(request: CheckedRequest, options: CallOptions): Promise<Checkout> {
  const command = new CheckoutLicenseCommand({
    ProductSKU: request.productSku,
    CheckoutType: request.checkoutType,
    KeyFingerprint: request.keyFingerprint,
    Entitlements: request.entitlements.map((e) => ({ Name: e.name, Unit: e.unit as EntitlementDataUnit, ...(e.value !== undefined && { Value: e.value }) })),
    ClientToken: randomUUID(),
    ...(request.nodeId !== undefined && { NodeId: request.nodeId }),
  });
  const { value, attempts } = await callLicenseManager('CheckoutLicense', (client, signal) => client.send(command, { abortSignal: signal }), options);
  const allowed = (value.EntitlementsAllowed ?? []).map(allowedEntitlement);
  const token = value.LicenseConsumptionToken;
  const answerProblem = checkoutAnswerProblem(request, value);
  const missing = request.entitlements.filter((want) => !allowed.some((got) => got.name === want.name && got.unit === want.unit));
  if (answerProblem !== undefined || missing.length > 0) {
    // Hand back what was granted: a partial or doubtful checkout must not hold a floating unit for an hour.
    if (request.checkoutType === 'PROVISIONAL' && token) await checkIn(token, { ...options, deadlineMs: CHECK_IN_DEADLINE_MS }).catch(() => undefined);
    if (answerProblem !== undefined) throw new VerificationError('LICENSE_ANSWER_MISMATCH', `CheckoutLicense answered ${answerProblem}; the checkout is not trusted.`);
    throw new NotEntitledError(
      `AWS License Manager allowed ${allowed.length === 0 ? 'none' : allowed.map(describeEntitlement).join(', ')} but not ` +
        `${missing.map(describeEntitlement).join(', ')} for product SKU ${request.productSku}: the contract does not include ` +
        'them, or their pool is checked out. Buy or free them, or request only what the contract has (names and units must match the licence).',
    );
  }
  return { licenseArn: value.LicenseArn!, entitlementsAllowed: allowed, token, expiration: parseAwsTime(value.Expiration), attempts };
}

/** What is wrong with a checkout answer, compared with the request; undefined when nothing. */
function checkoutAnswerProblem(request: CheckedRequest, answer: CheckoutLicenseCommandOutput): string | undefined {
  if (typeof answer.LicenseArn !== 'string' || answer.LicenseArn === '') return 'without a LicenseArn';
  if (answer.CheckoutType !== undefined && answer.CheckoutType !== request.checkoutType) {
    return `checkout type ${answer.CheckoutType} to a ${request.checkoutType} request`;
  }
  if (request.checkoutType === 'PROVISIONAL' && !answer.LicenseConsumptionToken) return 'a PROVISIONAL checkout without a LicenseConsumptionToken';
  return undefined;
}

function allowedEntitlement(entitlement: EntitlementData): AllowedEntitlement {
  return { name: entitlement.Name ?? '', unit: entitlement.Unit ?? '', ...(entitlement.Value !== undefined && { value: entitlement.Value }) };
}

function describeEntitlement(entitlement: RequestedEntitlement | AllowedEntitlement): string {
  return `${entitlement.name} (${entitlement.unit}${entitlement.value !== undefined ? ` ${entitlement.value}` : ''})`;
}

async function checkIn(token: string, options: CallOptions): Promise<void> {
  const command = new CheckInLicenseCommand({ LicenseConsumptionToken: token });
  await callLicenseManager('CheckInLicense', (client, signal) => client.send(command, { abortSignal: signal }), options);
}

/**
 * An AWS License Manager time. The model requires a zone, yet AWS's own examples have none
 * (`2021-04-22T19:02:36`): both are read, a zoneless one as UTC. Undefined when absent or unreadable.
 *
 * @example parseAwsTime('2021-04-22T19:02:36')?.toISOString() // '2021-04-22T19:02:36.000Z'
 */
export function parseAwsTime(text: string | undefined): Date | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? text : `${text}Z`;
  const date = new Date(zoned);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

class LicenseLease extends EventEmitter implements Lease {
  readonly productSku: string;
  readonly checkoutType: CheckoutTypeName;
  readonly attempts: number;
  readonly region: string;
  private checkout: Checkout;
  private license: License | undefined;
  private trouble: Trouble | undefined;
  private lost = false;
  private closing: Promise<void> | undefined;
  private extensions = 0;
  private rechecks = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private extensionTimer: NodeJS.Timeout | undefined;
  private readonly stopping = new AbortController();

  constructor(
    private readonly request: CheckedRequest,
    checkout: Checkout,
    private readonly options: CallOptions,
    region: string,
  ) {
    super();
    this.productSku = request.productSku;
    this.checkoutType = request.checkoutType;
    this.attempts = checkout.attempts;
    this.region = region;
    this.checkout = checkout;
    if (request.checkoutType === 'PROVISIONAL') this.scheduleExtension();
    // The first lookup at once: the baseline version an upgrade is told from, and the contract's end for status().
    this.schedule(() => this.recheck(), 0);
    // A signal that fired while the checkout was answering has no event left to deliver: check in now.
    if (options.signal?.aborted) void this.close();
    else options.signal?.addEventListener('abort', () => void this.close(), { once: true });
  }

  get licenseArn(): string {
    return this.checkout.licenseArn;
  }

  get entitlementsAllowed(): AllowedEntitlement[] {
    return this.checkout.entitlementsAllowed.map((e) => ({ ...e }));
  }

  get expiration(): Date | undefined {
    return this.checkout.expiration;
  }

  get consumptionToken(): string | undefined {
    return this.checkout.token;
  }

  status(): LeaseStatus {
    const base: LeaseStatus = {
      entitled: true,
      productSku: this.productSku,
      licenseArn: this.checkout.licenseArn,
      checkoutType: this.checkoutType,
      ...(this.checkout.expiration && { expiration: this.checkout.expiration.toISOString() }),
      ...(this.license?.Status !== undefined && { licenseStatus: this.license.Status }),
      ...(this.license?.Validity?.End !== undefined && { validityEnd: this.license.Validity.End }),
      ...(this.license?.Version !== undefined && { licenseVersion: this.license.Version }),
      entitlementsAllowed: this.entitlementsAllowed,
      extensions: this.extensions,
      rechecks: this.rechecks,
    };
    if (this.closing && !this.lost) return { ...base, entitled: false, code: 'LEASE_CLOSED', reason: 'The licence was checked in: this process is stopping.' };
    const trouble = this.trouble;
    if (!trouble) return base;
    if (this.lost || Date.now() >= trouble.since + this.request.graceMs) return { ...base, entitled: false, code: trouble.code, reason: trouble.reason };
    return { ...base, code: trouble.code, reason: trouble.reason, degradedSince: new Date(trouble.since).toISOString() };
  }

  close(): Promise<void> {
    this.closing ??= this.checkInOnClose();
    return this.closing;
  }

  private async checkInOnClose(): Promise<void> {
    this.stopTimers();
    const token = this.checkout.token;
    // Also when lost: a licence that expired may still hold the unit (a checkout AWS forgot only logs a warning).
    if (this.checkoutType !== 'PROVISIONAL' || !token) return;
    try {
      // Not the caller's signal: it has usually just aborted, and the unit must still go back to the pool.
      await checkIn(token, { ...this.options, signal: undefined, deadlineMs: Math.min(this.options.deadlineMs ?? CHECK_IN_DEADLINE_MS, CHECK_IN_DEADLINE_MS) });
      this.options.logger.info?.('Licence checked in', { event: 'license.checked_in', licenseArn: this.checkout.licenseArn });
    } catch (err) {
      // Nothing more to do on the way out: the unit returns to the pool when the checkout expires.
      this.options.logger.warn?.(`CheckInLicense failed; the unit returns to the pool at ${this.checkout.expiration?.toISOString() ?? 'the end of its time-to-live'}`, {
        event: 'license.check_in_failed',
        error: describeError(err),
      });
    }
  }

  private stopTimers(): void {
    this.stopping.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(task: () => Promise<void>, delayMs: number): NodeJS.Timeout | undefined {
    if (this.stopping.signal.aborted) return undefined;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopping.signal.aborted) void task();
    }, Math.max(delayMs, 0));
    timer.unref(); // a lease never keeps a process alive on its own
    this.timers.add(timer);
    return timer;
  }

  /** Extend halfway through the time left, whatever its length (an hour at AWS, seconds in tests). */
  private scheduleExtension(): void {
    const expiresAt = this.checkout.expiration?.getTime() ?? Date.now() + ASSUMED_CHECKOUT_TTL_MS;
    if (this.extensionTimer) {
      clearTimeout(this.extensionTimer);
      this.timers.delete(this.extensionTimer);
    }
    this.extensionTimer = this.schedule(() => this.extend(), Math.max((expiresAt - Date.now()) / 2, MIN_TIMER_MS));
  }

  /** Options for a call made by a timer: bounded by the time that matters, stopped by close(). */
  private timedOptions(deadlineMs: number): CallOptions {
    const cap = this.options.deadlineMs ?? deadlineMs;
    return { ...this.options, signal: this.stopping.signal, deadlineMs: Math.max(Math.min(cap, deadlineMs), 1) };
  }

  private async extend(): Promise<void> {
    const token = this.checkout.token!;
    const expiresAt = this.checkout.expiration?.getTime() ?? Date.now() + ASSUMED_CHECKOUT_TTL_MS;
    const command = new ExtendLicenseConsumptionCommand({ LicenseConsumptionToken: token });
    try {
      const { value } = await callLicenseManager(
        'ExtendLicenseConsumption',
        (client, signal) => client.send(command, { abortSignal: signal }),
        this.timedOptions(expiresAt - Date.now()),
      );
      if (this.checkout.token !== token) return; // swapped for an upgraded checkout meanwhile
      this.checkout = { ...this.checkout, token: value.LicenseConsumptionToken ?? token, expiration: parseAwsTime(value.Expiration) ?? this.checkout.expiration };
      this.extensions += 1;
      this.options.logger.debug?.('Checkout extended', { event: 'license.extended', expiration: this.checkout.expiration?.toISOString() });
      this.scheduleExtension();
    } catch (err) {
      if (this.stopping.signal.aborted || this.checkout.token !== token) return;
      if (err instanceof EntitlementError && !(err instanceof ConfigurationError) && err.exitCode === 77) {
        return this.troubled('CHECKOUT_LOST', `ExtendLicenseConsumption refused the held checkout: ${err.message}`);
      }
      if (Date.now() >= expiresAt) {
        return this.troubled('CHECKOUT_EXPIRED', `The checkout expired at ${new Date(expiresAt).toISOString()} before it could be extended: ${describeError(err).message}`);
      }
      this.options.logger.warn?.('ExtendLicenseConsumption failed; trying again before the checkout expires', { event: 'license.extend_failed', error: describeError(err) });
      this.scheduleExtension();
    }
  }

  private async recheck(): Promise<void> {
    const command = new GetLicenseCommand({ LicenseArn: this.checkout.licenseArn });
    try {
      const { value } = await callLicenseManager('GetLicense', (client, signal) => client.send(command, { abortSignal: signal }), this.timedOptions(this.request.recheckMs));
      const previous = this.license;
      this.license = value.License;
      this.rechecks += 1;
      const problem = licenseProblem(value.License);
      if (problem) {
        this.troubled(problem.code, problem.reason);
      } else {
        const recovered = this.trouble !== undefined;
        this.trouble = undefined;
        const upgraded = previous?.Version !== undefined && previous.Version !== value.License?.Version;
        if (upgraded) await this.takeUpgrade(previous.Version!, value.License!.Version!);
        else if (recovered) this.emit('change', this.status());
      }
    } catch (err) {
      if (this.stopping.signal.aborted) return;
      if (err instanceof NotEntitledError) this.troubled('LICENSE_NOT_FOUND', `GetLicense no longer finds the licence: ${err.message}`);
      // Not only for PROVISIONAL leases, whose extensions would fail too: a PERPETUAL one has nothing else that
      // would ever notice a contract ending while GetLicense is blocked (a role edited, the network cut).
      else this.troubled('RECHECK_FAILED', `The licence recheck (GetLicense) failed: ${describeError(err).message}. Entitlement that cannot be confirmed ends after graceMs.`);
    }
    if (!this.lost) this.schedule(() => this.recheck(), this.request.recheckMs);
  }

  /**
   * A new licence version (an upgrade, a renewal): one new checkout beside the held one, so the grant reflects
   * it. Swapped in on success, the old checkout then checked in; kept as it was when the pool has no room.
   */
  private async takeUpgrade(from: string, to: string): Promise<void> {
    const logger = this.options.logger;
    const fields = { event: 'license.changed', from, to };
    // A new drawdown checkout would consume again: report the new version, keep the grant.
    if (this.checkoutType === 'PROVISIONAL') {
      const held = this.checkout;
      try {
        const fresh = await checkOut(this.request, this.timedOptions(this.request.recheckMs));
        this.checkout = fresh;
        if (held.token) await checkIn(held.token, this.timedOptions(CHECK_IN_DEADLINE_MS)).catch(() => undefined);
        this.scheduleExtension();
        logger.info?.(`The licence changed (version ${from} -> ${to}); checked out again`, { ...fields, entitlements: fresh.entitlementsAllowed.map((e) => e.name) });
      } catch (err) {
        logger.warn?.(`The licence changed (version ${from} -> ${to}) but a new checkout failed (a full pool?); keeping the held one`, {
          ...fields,
          error: describeError(err),
        });
      }
    } else {
      logger.info?.(`The licence changed (version ${from} -> ${to})`, fields);
    }
    this.emit('change', this.status());
  }

  private troubled(code: string, reason: string): void {
    if (this.lost) return;
    const first = this.trouble === undefined;
    this.trouble = { code, reason, since: this.trouble?.since ?? Date.now() };
    if (first) this.options.logger.warn?.(reason, { event: 'license.trouble', code, graceMs: this.request.graceMs });
    const dueIn = this.trouble.since + this.request.graceMs - Date.now();
    if (dueIn <= 0) return this.loseLicense();
    if (first) {
      this.schedule(async () => {
        // A trouble cleared and seen again since has its own, later deadline.
        if (this.trouble && Date.now() >= this.trouble.since + this.request.graceMs) this.loseLicense();
      }, dueIn);
    }
  }

  private loseLicense(): void {
    if (this.lost) return;
    this.lost = true;
    this.stopTimers();
    const status = this.status();
    this.options.logger.error?.(`The licence is lost: ${status.reason}`, { event: 'license.lost', code: status.code });
    this.emit('lost', status);
  }
}

/** Why a licence from GetLicense no longer entitles, or undefined. */
function licenseProblem(license: License | undefined): { code: string; reason: string } | undefined {
  if (!license) return { code: 'LICENSE_NOT_FOUND', reason: 'GetLicense answered without a licence.' };
  if (license.Status !== undefined && license.Status !== 'AVAILABLE') {
    return { code: `LICENSE_${license.Status}`, reason: `The licence is ${license.Status} (not AVAILABLE): the contract ended or was cancelled.` };
  }
  const end = parseAwsTime(license.Validity?.End);
  if (end && end.getTime() <= Date.now()) return { code: 'LICENSE_EXPIRED', reason: `The licence expired at ${end.toISOString()}: renew the contract.` };
  return undefined;
}
