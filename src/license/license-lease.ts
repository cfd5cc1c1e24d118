/**
 * The held lease behind `acquireLicense`: a PROVISIONAL checkout extended halfway through the time it has left, the
 * licence rechecked with GetLicense every `recheckMs`, a new licence version checked out again beside the held one,
 * a problem tolerated for `graceMs` before 'lost', and the unit checked in on close. Its timers never keep the
 * process alive.
 *
 * @example
 * const lease = new LicenseLease(request, await checkOut(request, options), options, region);
 */
import { EventEmitter } from 'node:events';
import { ExtendLicenseConsumptionCommand, GetLicenseCommand, type License } from '@aws-sdk/client-license-manager';
import { NotEntitledError } from '../common/errors.js';
import { describeError } from '../common/logger.js';
import { parseAwsTime } from './aws-time.js';
import { callLicenseManager } from './call.js';
import { CHECK_IN_DEADLINE_MS, checkIn, checkOut, type Checkout, type LeaseCallOptions } from './checkout.js';
import {
  PROVISIONAL_CHECKOUT_TTL_MS,
  type AllowedEntitlement,
  type CheckoutTypeName,
  type Lease,
  type LeaseStatus,
} from './lease-types.js';
import type { CheckedRequest } from './license-options.js';

/** Floor of an extension delay, so a checkout answered already expired is not extended in a busy loop. */
const MIN_TIMER_MS = 50;

interface Trouble {
  code: string;
  reason: string;
  since: number;
}

/** The {@link Lease} `acquireLicense` hands out, from its first checkout. */
export class LicenseLease extends EventEmitter implements Lease {
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
    private readonly options: LeaseCallOptions,
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
    if (this.closing && !this.lost)
      return {
        ...base,
        entitled: false,
        code: 'LEASE_CLOSED',
        reason: 'The licence was checked in: this process is stopping.',
      };
    const trouble = this.trouble;
    if (!trouble) return base;
    if (this.lost || Date.now() >= trouble.since + this.request.graceMs)
      return { ...base, entitled: false, code: trouble.code, reason: trouble.reason };
    return {
      ...base,
      code: trouble.code,
      reason: trouble.reason,
      degradedSince: new Date(trouble.since).toISOString(),
    };
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
      await checkIn(token, {
        ...this.options,
        signal: undefined,
        deadlineMs: Math.min(this.options.deadlineMs ?? CHECK_IN_DEADLINE_MS, CHECK_IN_DEADLINE_MS),
      });
      this.options.logger.info?.('Licence checked in', {
        event: 'license.checked_in',
        licenseArn: this.checkout.licenseArn,
      });
    } catch (err) {
      // Nothing more to do on the way out: the unit returns to the pool when the checkout expires.
      this.options.logger.warn?.(
        'CheckInLicense failed; the unit returns to the pool ' +
          `at ${this.checkout.expiration?.toISOString() ?? 'the end of its time-to-live'}`,
        {
          event: 'license.check_in_failed',
          error: describeError(err),
        },
      );
    }
  }

  private stopTimers(): void {
    this.stopping.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private schedule(task: () => Promise<void>, delayMs: number): NodeJS.Timeout | undefined {
    if (this.stopping.signal.aborted) return undefined;
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (!this.stopping.signal.aborted) void task();
      },
      Math.max(delayMs, 0),
    );
    timer.unref(); // a lease never keeps a process alive on its own
    this.timers.add(timer);
    return timer;
  }

  /** Extend halfway through the time left, whatever its length (an hour at AWS, seconds in tests). */
  private scheduleExtension(): void {
    const expiresAt = this.checkout.expiration?.getTime() ?? Date.now() + PROVISIONAL_CHECKOUT_TTL_MS;
    if (this.extensionTimer) {
      clearTimeout(this.extensionTimer);
      this.timers.delete(this.extensionTimer);
    }
    this.extensionTimer = this.schedule(() => this.extend(), Math.max((expiresAt - Date.now()) / 2, MIN_TIMER_MS));
  }

  /** Options for a call made by a timer: bounded by the time that matters, stopped by close(). */
  private timedOptions(deadlineMs: number): LeaseCallOptions {
    const cap = this.options.deadlineMs ?? deadlineMs;
    return { ...this.options, signal: this.stopping.signal, deadlineMs: Math.max(Math.min(cap, deadlineMs), 1) };
  }

  private async extend(): Promise<void> {
    const token = this.checkout.token!;
    const expiresAt = this.checkout.expiration?.getTime() ?? Date.now() + PROVISIONAL_CHECKOUT_TTL_MS;
    const command = new ExtendLicenseConsumptionCommand({ LicenseConsumptionToken: token });
    try {
      const { value } = await callLicenseManager(
        'ExtendLicenseConsumption',
        (client, signal) => client.send(command, { abortSignal: signal }),
        this.timedOptions(expiresAt - Date.now()),
      );
      if (this.checkout.token !== token) return; // swapped for an upgraded checkout meanwhile
      this.checkout = {
        ...this.checkout,
        token: value.LicenseConsumptionToken ?? token,
        expiration: parseAwsTime(value.Expiration) ?? this.checkout.expiration,
      };
      this.extensions += 1;
      this.options.logger.debug?.('Checkout extended', {
        event: 'license.extended',
        expiration: this.checkout.expiration?.toISOString(),
      });
      this.scheduleExtension();
    } catch (err) {
      if (this.stopping.signal.aborted || this.checkout.token !== token) return;
      if (err instanceof NotEntitledError) {
        return this.troubled('CHECKOUT_LOST', `ExtendLicenseConsumption refused the held checkout: ${err.message}`);
      }
      if (Date.now() >= expiresAt) {
        return this.troubled(
          'CHECKOUT_EXPIRED',
          `The checkout expired at ${new Date(expiresAt).toISOString()} before it could be ` +
            `extended: ${describeError(err).message}`,
        );
      }
      this.options.logger.warn?.('ExtendLicenseConsumption failed; trying again before the checkout expires', {
        event: 'license.extend_failed',
        error: describeError(err),
      });
      this.scheduleExtension();
    }
  }

  private async recheck(): Promise<void> {
    const command = new GetLicenseCommand({ LicenseArn: this.checkout.licenseArn });
    try {
      const { value } = await callLicenseManager(
        'GetLicense',
        (client, signal) => client.send(command, { abortSignal: signal }),
        this.timedOptions(this.request.recheckMs),
      );
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
      if (err instanceof NotEntitledError)
        this.troubled('LICENSE_NOT_FOUND', `GetLicense no longer finds the licence: ${err.message}`);
      // Not only for PROVISIONAL leases, whose extensions would fail too: a PERPETUAL one has nothing else that
      // would ever notice a contract ending while GetLicense is blocked (a role edited, the network cut).
      else
        this.troubled(
          'RECHECK_FAILED',
          `The licence recheck (GetLicense) failed: ${describeError(err).message}. Entitlement that cannot be ` +
            'confirmed ends after graceMs.',
        );
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
        logger.info?.(`The licence changed (version ${from} -> ${to}); checked out again`, {
          ...fields,
          entitlements: fresh.entitlementsAllowed.map((e) => e.name),
        });
      } catch (err) {
        logger.warn?.(
          `The licence changed (version ${from} -> ${to}) but a new ` +
            'checkout failed (a full pool?); keeping the held one',
          {
            ...fields,
            error: describeError(err),
          },
        );
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
    if (dueIn <= 0) {
      this.loseLicense();
      return;
    }
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
    return {
      code: `LICENSE_${license.Status}`,
      reason: `The licence is ${license.Status} (not AVAILABLE): the contract ended or was cancelled.`,
    };
  }
  const end = parseAwsTime(license.Validity?.End);
  if (end && end.getTime() <= Date.now())
    return { code: 'LICENSE_EXPIRED', reason: `The licence expired at ${end.toISOString()}: renew the contract.` };
  return undefined;
}
