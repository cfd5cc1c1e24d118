/**
 * The options of `acquireLicense` checked before any call to AWS: what to check out, named and typed as License
 * Manager wants it, and the lease's timings. Bad input is a ConfigurationError `INVALID_OPTION` naming the option.
 *
 * @example
 * const request = checkLicenseOptions({ productSku, entitlements: [{ name: 'Users', unit: 'Count', value: '1' }] });
 */
import { EntitlementDataUnit } from '@aws-sdk/client-license-manager';
import { durationOption } from '../common/duration-option.js';
import { ConfigurationError } from '../common/errors.js';
import { AWS_MARKETPLACE_KEY_FINGERPRINT } from './fingerprint.js';
import {
  CHECKOUT_TYPES,
  DEFAULT_CHECKOUT_TYPE,
  DEFAULT_GRACE_MS,
  DEFAULT_RECHECK_MS,
  type AcquireLicenseOptions,
  type CheckoutTypeName,
  type RequestedEntitlement,
} from './lease-types.js';

const UNITS: ReadonlySet<string> = new Set(Object.values(EntitlementDataUnit));

/** The options of a lease, checked, with the defaults filled in. */
export interface CheckedRequest {
  productSku: string;
  entitlements: RequestedEntitlement[];
  checkoutType: CheckoutTypeName;
  keyFingerprint: string;
  nodeId: string | undefined;
  recheckMs: number;
  graceMs: number;
}

/** Checks `options` and fills in the defaults; throws ConfigurationError `INVALID_OPTION` naming what is wrong. */
export function checkLicenseOptions(options: AcquireLicenseOptions): CheckedRequest {
  const bad = (why: string) => new ConfigurationError('INVALID_OPTION', why);
  if (typeof options.productSku !== 'string' || options.productSku.trim() === '') {
    throw bad(
      'productSku is required: the product ID of your container product in the AWS Marketplace Management Portal.',
    );
  }
  if (!Array.isArray(options.entitlements) || options.entitlements.length === 0) {
    throw bad(
      'entitlements must list at least one { name, unit, value? }: the contract dimensions this container needs.',
    );
  }
  const names = new Set<string>();
  for (const [i, entitlement] of options.entitlements.entries()) {
    const where = `entitlements[${i}]`;
    if (typeof entitlement?.name !== 'string' || entitlement.name === '')
      throw bad(`${where}.name must be a dimension's API name, got ${JSON.stringify(entitlement?.name)}.`);
    if (names.has(entitlement.name)) throw bad(`${where}.name ${JSON.stringify(entitlement.name)} is listed twice.`);
    names.add(entitlement.name);
    if (!UNITS.has(entitlement.unit))
      throw bad(
        `${where}.unit ${JSON.stringify(entitlement.unit)} is not a License Manager unit; one ` +
          `of ${[...UNITS].join(', ')}.`,
      );
    if (entitlement.value !== undefined && (typeof entitlement.value !== 'string' || entitlement.value === '')) {
      throw bad(`${where}.value must be a non-empty string such as "1", got ${JSON.stringify(entitlement.value)}.`);
    }
  }
  const checkoutType = options.checkoutType ?? DEFAULT_CHECKOUT_TYPE;
  if (!CHECKOUT_TYPES.includes(checkoutType))
    throw bad(`checkoutType ${JSON.stringify(checkoutType)} is not one of ${CHECKOUT_TYPES.join(', ')}.`);
  const keyFingerprint = options.keyFingerprint ?? AWS_MARKETPLACE_KEY_FINGERPRINT;
  if (typeof keyFingerprint !== 'string' || keyFingerprint === '')
    throw bad('keyFingerprint must be a non-empty string.');
  const recheckMs = durationOption(
    'recheckMs',
    options.recheckMs,
    { unit: 'milliseconds', allowZero: false },
    DEFAULT_RECHECK_MS,
  );
  const graceMs = durationOption(
    'graceMs',
    options.graceMs,
    { unit: 'milliseconds', allowZero: true },
    DEFAULT_GRACE_MS,
  );
  return {
    productSku: options.productSku,
    entitlements: options.entitlements.map(({ name, unit, value }) => ({
      name,
      unit,
      ...(value !== undefined && { value }),
    })),
    checkoutType,
    keyFingerprint,
    nodeId: options.nodeId,
    recheckMs,
    graceMs,
  };
}
