/**
 * The emulator's AWS License Manager (the part a contract-priced container uses): CheckoutLicense,
 * ExtendLicenseConsumption, CheckInLicense, GetLicense and ListReceivedLicenses over AWS JSON 1.1
 * (`X-Amz-Target: AWSLicenseManager.<Op>`, SigV4 service `license-manager`), served by the same server as
 * Metering. Errors are `{"__type", "Message"}` with the statuses of the SDK's model (RedirectException 308 with
 * `Location` in the body; RateLimitExceeded as 429, or as 400 when told).
 *
 * Licences have a SKU, an issuer fingerprint, entitlements (name, unit, a max count or unlimited), a validity
 * end, a status and a version. A PROVISIONAL checkout holds its units until checked in or until its time-to-live
 * ends (`ttlMs`, 60 minutes like AWS; the clock is `now()` plus `advanceClock()`); a PERPETUAL checkout draws
 * down for good. PROVISIONAL grants are partial (what fits comes back); PERPETUAL is all or nothing.
 *
 * Assumptions where AWS documents nothing (docs/pricing-models.md, "What AWS leaves unconfirmed"): no licence
 * for the SKU answers NoEntitlementsAllowedException; extending a checkout whose licence is no longer AVAILABLE
 * answers ResourceNotFoundException; the newest licence (highest version, then last added) of a SKU is used.
 *
 * @example
 * const emulator = await startMeteringEmulator({
 *   licenses: [{ productSku: 'sku-1', entitlements: [{ name: 'Users', unit: 'Count', maxCount: 1 }] }]
 * });
 * emulator.licenseManager.expire(emulator.licenseManager.licenses[0].licenseArn); // mid-run expiry
 */
import { randomUUID } from 'node:crypto';
import { AWS_MARKETPLACE_KEY_FINGERPRINT } from '../license/fingerprint.js';
import { PROVISIONAL_CHECKOUT_TTL_MS } from '../license/lease-types.js';
import { EmulatorServiceError } from './types.js';

export const LICENSE_MANAGER_TARGET_PREFIX = 'AWSLicenseManager.';
export const LICENSE_MANAGER_SIGNING_NAME = 'license-manager';

/** Status codes of License Manager's errors (the SDK model's httpError traits). */
const STATUS: Record<string, number> = {
  NoEntitlementsAllowedException: 400,
  ResourceNotFoundException: 400,
  ValidationException: 400,
  InvalidParameterValueException: 400,
  AccessDeniedException: 401,
  AuthorizationException: 403,
  RedirectException: 308,
  ConflictException: 409,
  RateLimitExceededException: 429,
  ServerInternalException: 500,
};

/** One entitlement of an emulated licence: what a checkout can ask for, and its pool. */
export interface EmulatedEntitlement {
  /** The dimension's API name; a checkout must name it with the same unit. */
  name: string;
  /** `Count`, `None`, `Gigabytes`, ... */
  unit: string;
  /** Units available at once (PROVISIONAL) or in all (PERPETUAL); absent with `unlimited`. */
  maxCount?: number;
  /** Every checkout of it fits, whatever is in use (GetLicense shows `Unlimited: true`). */
  unlimited?: boolean;
}

/** A licence as given to the emulator; the rest is filled in. */
export interface EmulatedLicenseInput {
  /** The SKU a CheckoutLicense must send as `ProductSKU` to get this licence. */
  productSku: string;
  /** What the contract grants (copied). */
  entitlements: EmulatedEntitlement[];
  /** Default: a fresh `arn:aws:license-manager::294406891311:license:l-...`. */
  licenseArn?: string;
  /**
   * The issuer fingerprint a checkout must send. Default: AWS Marketplace's ({@link AWS_MARKETPLACE_KEY_FINGERPRINT}).
   */
  keyFingerprint?: string;
  /** Default: a year from the emulator's clock. */
  validityEnd?: Date | string;
  /** Default AVAILABLE. */
  status?: string;
  /** GetLicense's `ProductName` and `LicenseName`. Default `Emulated product <productSku>`. */
  productName?: string;
}

/** A licence the emulator holds: {@link EmulatedLicenseInput} completed. Mutable: a test may edit it between calls. */
export interface EmulatedLicense {
  /** Its ARN, what GetLicense and the checkout answer name. */
  licenseArn: string;
  /** The SKU a checkout is matched on. */
  productSku: string;
  /** Shown by GetLicense as `ProductName` and `LicenseName`. */
  productName: string;
  /** The issuer fingerprint a checkout must send to match. */
  keyFingerprint: string;
  /** What it grants now; `upgrade()` replaces them. */
  entitlements: EmulatedEntitlement[];
  /** The emulator's clock when it was added (or at `reset()`): GetLicense's `Validity.Begin`. */
  validityStart: Date;
  /** At or after it the licence no longer checks out or extends (`Validity.End`). */
  validityEnd: Date;
  /** Only AVAILABLE checks out and extends; `expire()` sets EXPIRED. */
  status: string;
  /** Starts at 1; `expire()` and `upgrade()` add one. A checkout uses the SKU's highest version. */
  version: number;
}

/** What a test steers. */
export interface LicenseManagerScenario {
  /** How long a PROVISIONAL checkout (and each extension) lasts. Default 60 minutes. */
  ttlMs: number;
  /** The first N License Manager calls answer RateLimitExceededException. */
  rateLimitFirst: number;
  /** 429 (the model) or 400 (what the reference says AWS's docs list). Default 429. */
  rateLimitStatus: 429 | 400;
  /** Every call answers RedirectException with this `Location`. */
  redirectTo?: string | undefined;
  /** Every call answers this modelled error. */
  error?: string | undefined;
}

export const DEFAULT_LICENSE_MANAGER_SCENARIO: Readonly<LicenseManagerScenario> = Object.freeze({
  ttlMs: PROVISIONAL_CHECKOUT_TTL_MS,
  rateLimitFirst: 0,
  rateLimitStatus: 429,
});

interface Consumption {
  token: string;
  licenseArn: string;
  checkoutType: 'PROVISIONAL' | 'PERPETUAL';
  entitlements: { name: string; count: number }[];
  expiresAt: number;
}

/**
 * The emulated License Manager from {@link createLicenseManagerEmulator} (or `startMeteringEmulator().licenseManager`):
 * its licences, checkouts and clock, to steer a contract-pricing test.
 *
 * @example
 * const lm = createLicenseManagerEmulator([
 *   { productSku: 'sku-1', entitlements: [{ name: 'Users', unit: 'Count', maxCount: 1 }] }
 * ]);
 * lm.advanceClock(61 * 60_000); // unextended PROVISIONAL checkouts return to the pool
 */
export interface LicenseManagerEmulator {
  /** The licences that exist, searched by every call; mutable (push, edit) or use `addLicense`, `expire`, `upgrade`. */
  licenses: EmulatedLicense[];
  /** Mutable: change it to change what the next calls see; `reset()` restores the one given at creation. */
  scenario: LicenseManagerScenario;
  /** The emulator's clock: the system clock plus `advanceClock` offsets. */
  now(): Date;
  /** Moves the clock forward: checkouts past their time-to-live return to the pool. */
  advanceClock(ms: number): void;
  /** Adds a licence (e.g. a new contract) and returns it. */
  addLicense(input: EmulatedLicenseInput): EmulatedLicense;
  /** The contract ends now: status EXPIRED, validity end now. */
  expire(licenseArn: string): void;
  /** A new licence version with these entitlements (an upgrade or a renewal). */
  upgrade(licenseArn: string, entitlements: EmulatedEntitlement[]): void;
  /** Units of `name` held now by live PROVISIONAL checkouts, or drawn down by PERPETUAL ones. */
  inUse(licenseArn: string, name: string): number;
  /** Live consumption tokens. */
  consumptions(): string[];
  /** Answers one call; throws EmulatorServiceError for modelled errors. */
  handle(operation: string, input: Record<string, unknown>): unknown;
  /**
   * Back to the start: the initial licences (fresh versions and validity), scenario and clock; no checkouts, no seen
   * ClientTokens.
   */
  reset(): void;
}

/**
 * A License Manager emulator over `initial` licences and scenario, without a server (`startMeteringEmulator`
 * serves one at its URL).
 *
 * @example
 * const lm = createLicenseManagerEmulator(
 *   [{ productSku: 'sku-1', entitlements: [{ name: 'Users', unit: 'Count', maxCount: 1 }] }],
 *   { ttlMs: 1_000 }
 * );
 * lm.handle('GetLicense', { LicenseArn: lm.licenses[0].licenseArn });
 */
export function createLicenseManagerEmulator(
  initial: EmulatedLicenseInput[] = [],
  scenario: Partial<LicenseManagerScenario> = {},
): LicenseManagerEmulator {
  let offsetMs = 0;
  let consumptions = new Map<string, Consumption>();
  let answered = new Map<string, { request: string; response: unknown }>();
  let calls = 0;
  const now = () => new Date(Date.now() + offsetMs);

  const emulator: LicenseManagerEmulator = {
    licenses: [],
    scenario: { ...DEFAULT_LICENSE_MANAGER_SCENARIO, ...scenario },
    now,
    advanceClock(ms) {
      offsetMs += ms;
    },
    addLicense(input) {
      const license = completeLicense(input, now());
      emulator.licenses.push(license);
      return license;
    },
    expire(licenseArn) {
      const license = licenseByArn(licenseArn);
      license.status = 'EXPIRED';
      license.validityEnd = now();
      license.version += 1;
    },
    upgrade(licenseArn, entitlements) {
      const license = licenseByArn(licenseArn);
      license.entitlements = entitlements.map((e) => ({ ...e }));
      license.version += 1;
    },
    inUse,
    consumptions: () => [...live()].map((c) => c.token),
    handle(operation, input) {
      calls += 1;
      const s = emulator.scenario;
      if (calls <= s.rateLimitFirst)
        throw new EmulatorServiceError('RateLimitExceededException', 'Rate exceeded', s.rateLimitStatus);
      if (s.redirectTo !== undefined) throw new RedirectError(s.redirectTo);
      if (s.error !== undefined) throw lmError(s.error, `Emulated ${s.error}`);
      const handler = OPERATIONS[operation];
      if (!handler)
        throw new EmulatorServiceError('UnknownOperationException', `Operation ${operation} is not emulated`);
      return handler(input);
    },
    reset() {
      offsetMs = 0;
      consumptions = new Map();
      answered = new Map();
      calls = 0;
      emulator.scenario = { ...DEFAULT_LICENSE_MANAGER_SCENARIO, ...scenario };
      emulator.licenses = initial.map((input) => completeLicense(input, now()));
    },
  };

  function licenseByArn(arn: string): EmulatedLicense {
    const license = emulator.licenses.find((l) => l.licenseArn === arn);
    if (!license) throw new Error(`No emulated licence ${arn}`);
    return license;
  }

  function* live(): Iterable<Consumption> {
    const t = now().getTime();
    for (const c of consumptions.values()) {
      if (c.checkoutType === 'PERPETUAL' || c.expiresAt > t) yield c;
      else consumptions.delete(c.token); // its time-to-live ended: back to the pool
    }
  }

  function inUse(licenseArn: string, name: string): number {
    let total = 0;
    for (const c of live())
      if (c.licenseArn === licenseArn) total += c.entitlements.find((e) => e.name === name)?.count ?? 0;
    return total;
  }

  const OPERATIONS: Record<string, (input: Record<string, unknown>) => unknown> = {
    CheckoutLicense(input) {
      const sku = requiredString(input, 'ProductSKU');
      const checkoutType = requiredString(input, 'CheckoutType');
      const fingerprint = requiredString(input, 'KeyFingerprint');
      const clientToken = requiredString(input, 'ClientToken');
      if (checkoutType !== 'PROVISIONAL' && checkoutType !== 'PERPETUAL')
        throw lmError('ValidationException', `CheckoutType ${checkoutType} is not PROVISIONAL or PERPETUAL`);
      const requested = requestedEntitlements(input.Entitlements);
      const fingerprintOf = JSON.stringify([sku, checkoutType, fingerprint, requested, input.NodeId]);
      const previous = answered.get(clientToken);
      if (previous) {
        if (previous.request !== fingerprintOf)
          throw lmError('ValidationException', 'ClientToken was already used with other parameters');
        return previous.response;
      }
      const license = emulator.licenses
        .filter((l) => l.productSku === sku && l.keyFingerprint === fingerprint)
        .reduce<EmulatedLicense | undefined>(
          (newest, l) => (!newest || l.version >= newest.version ? l : newest),
          undefined,
        );
      const t = now();
      if (license?.status !== 'AVAILABLE' || license.validityEnd.getTime() <= t.getTime())
        throw lmError('NoEntitlementsAllowedException', 'No Entitlements Allowed');
      const granted = requested.filter((want) => fits(license, want, checkoutType));
      if (granted.length === 0 || (checkoutType === 'PERPETUAL' && granted.length < requested.length)) {
        throw lmError('NoEntitlementsAllowedException', 'No Entitlements Allowed');
      }
      const token = randomUUID();
      const expiresAt = t.getTime() + emulator.scenario.ttlMs;
      consumptions.set(token, {
        token,
        licenseArn: license.licenseArn,
        checkoutType,
        entitlements: granted.filter((g) => g.unit !== 'None').map((g) => ({ name: g.name, count: g.quantity })),
        expiresAt,
      });
      const response = {
        CheckoutType: checkoutType,
        LicenseConsumptionToken: token,
        EntitlementsAllowed: granted.map((g) => ({
          Name: g.name,
          Unit: g.unit,
          Value: g.value ?? (g.unit === 'None' ? 'Enabled' : String(g.quantity)),
        })),
        ...(typeof input.NodeId === 'string' && { NodeId: input.NodeId }),
        IssuedAt: t.toISOString(),
        Expiration: new Date(expiresAt).toISOString(),
        LicenseArn: license.licenseArn,
      };
      answered.set(clientToken, { request: fingerprintOf, response });
      return response;
    },
    ExtendLicenseConsumption(input) {
      const consumption = liveConsumption(requiredString(input, 'LicenseConsumptionToken'));
      const license = licenseByArn(consumption.licenseArn);
      if (license.status !== 'AVAILABLE' || license.validityEnd.getTime() <= now().getTime()) {
        throw lmError('ResourceNotFoundException', 'The licence of this consumption is no longer available');
      }
      if (input.DryRun === true)
        return {
          LicenseConsumptionToken: consumption.token,
          Expiration: new Date(consumption.expiresAt).toISOString(),
        };
      consumption.expiresAt = now().getTime() + emulator.scenario.ttlMs;
      return { LicenseConsumptionToken: consumption.token, Expiration: new Date(consumption.expiresAt).toISOString() };
    },
    CheckInLicense(input) {
      const consumption = liveConsumption(requiredString(input, 'LicenseConsumptionToken'));
      consumptions.delete(consumption.token);
      return {};
    },
    GetLicense(input) {
      const arn = requiredString(input, 'LicenseArn');
      const license = emulator.licenses.find((l) => l.licenseArn === arn);
      if (!license) throw lmError('ResourceNotFoundException', `License ${arn} not found`);
      return { License: describeLicense(license, emulator.scenario.ttlMs) };
    },
    ListReceivedLicenses(input) {
      const arns = Array.isArray(input.LicenseArns) ? input.LicenseArns : undefined;
      const filters = Array.isArray(input.Filters) ? (input.Filters as { Name?: string; Values?: string[] }[]) : [];
      const skus = filters.find((f) => f.Name === 'ProductSKU')?.Values;
      const licenses = emulator.licenses.filter(
        (l) => (!arns || arns.includes(l.licenseArn)) && (!skus || skus.includes(l.productSku)),
      );
      return { Licenses: licenses.map((l) => describeLicense(l, emulator.scenario.ttlMs)) };
    },
  };

  function liveConsumption(token: string): Consumption {
    for (const c of live()) if (c.token === token && c.checkoutType === 'PROVISIONAL') return c;
    throw lmError('ResourceNotFoundException', 'License consumption token not found or expired');
  }

  function fits(license: EmulatedLicense, want: Requested, checkoutType: string): boolean {
    const entitlement = license.entitlements.find((e) => e.name === want.name && e.unit === want.unit);
    if (!entitlement) return false;
    if (want.unit === 'None' || entitlement.unlimited) return true;
    const held =
      checkoutType === 'PERPETUAL' ? drawnDown(license.licenseArn, want.name) : inUse(license.licenseArn, want.name);
    return held + want.quantity <= (entitlement.maxCount ?? 0);
  }

  function drawnDown(licenseArn: string, name: string): number {
    let total = 0;
    for (const c of consumptions.values())
      if (c.licenseArn === licenseArn && c.checkoutType === 'PERPETUAL')
        total += c.entitlements.find((e) => e.name === name)?.count ?? 0;
    return total;
  }

  emulator.reset();
  return emulator;
}

interface Requested {
  name: string;
  unit: string;
  value: string | undefined;
  quantity: number;
}

function requestedEntitlements(value: unknown): Requested[] {
  if (!Array.isArray(value) || value.length === 0)
    throw lmError('ValidationException', 'Entitlements must list at least one entitlement');
  return value.map((item: unknown, i) => {
    const e = (item ?? {}) as Record<string, unknown>;
    if (typeof e.Name !== 'string' || typeof e.Unit !== 'string')
      throw lmError('ValidationException', `Entitlements[${i}] needs Name and Unit`);
    const quantity = e.Value === undefined ? 1 : Number(e.Value);
    if (!(Number.isInteger(quantity) && quantity > 0) && e.Unit !== 'None')
      throw lmError('ValidationException', `Entitlements[${i}].Value must be a positive whole number`);
    return { name: e.Name, unit: e.Unit, value: typeof e.Value === 'string' ? e.Value : undefined, quantity };
  });
}

function requiredString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value === '')
    throw lmError(
      'ValidationException',
      `1 validation error detected: Value at '${field}' failed to satisfy constraint: Member must not be null`,
    );
  return value;
}

function completeLicense(input: EmulatedLicenseInput, now: Date): EmulatedLicense {
  return {
    licenseArn: input.licenseArn ?? `arn:aws:license-manager::294406891311:license:l-${randomUUID().replace(/-/g, '')}`,
    productSku: input.productSku,
    productName: input.productName ?? `Emulated product ${input.productSku}`,
    keyFingerprint: input.keyFingerprint ?? AWS_MARKETPLACE_KEY_FINGERPRINT,
    entitlements: input.entitlements.map((e) => ({ ...e })),
    validityStart: now,
    validityEnd:
      input.validityEnd === undefined ? new Date(now.getTime() + 365 * 86_400_000) : new Date(input.validityEnd),
    status: input.status ?? 'AVAILABLE',
    version: 1,
  };
}

function describeLicense(license: EmulatedLicense, ttlMs: number): unknown {
  return {
    LicenseArn: license.licenseArn,
    LicenseName: license.productName,
    ProductName: license.productName,
    ProductSKU: license.productSku,
    Issuer: { Name: 'AWS/Marketplace', KeyFingerprint: license.keyFingerprint },
    HomeRegion: 'us-east-1',
    Status: license.status,
    Validity: { Begin: license.validityStart.toISOString(), End: license.validityEnd.toISOString() },
    Entitlements: license.entitlements.map((e) => ({
      Name: e.name,
      Unit: e.unit,
      ...(e.maxCount !== undefined && { MaxCount: e.maxCount }),
      ...(e.unlimited && { Unlimited: true }),
      AllowCheckIn: true,
    })),
    ConsumptionConfiguration: {
      RenewType: 'None',
      ProvisionalConfiguration: { MaxTimeToLiveInMinutes: Math.ceil(ttlMs / 60_000) },
    },
    Version: String(license.version),
  };
}

function lmError(name: string, message: string): EmulatorServiceError {
  return new EmulatorServiceError(name, message, STATUS[name] ?? 400);
}

/** RedirectException carries the Region's endpoint in `Location`, in the body. */
class RedirectError extends EmulatorServiceError {
  constructor(readonly location: string) {
    super('RedirectException', 'This licence is managed in another Region', 308);
  }
}

/** The JSON error body License Manager answers (`Message`, and `Location` for a redirect). */
export function licenseManagerErrorBody(err: EmulatorServiceError): Record<string, string> {
  return {
    __type: err.errorType,
    Message: err.message,
    ...(err instanceof RedirectError && { Location: err.location }),
  };
}
