/**
 * The License Manager calls that take and return a unit: one CheckoutLicense, checked against what was asked (all
 * or nothing; a partial or doubtful grant is handed back at once), and one CheckInLicense.
 *
 * @example
 * const checkout = await checkOut(request, { ...options, logger });
 * await checkIn(checkout.token!, { ...options, logger });
 */
import { randomUUID } from 'node:crypto';
import {
  CheckInLicenseCommand,
  CheckoutLicenseCommand,
  type CheckoutLicenseCommandOutput,
  type EntitlementData,
  type EntitlementDataUnit,
} from '@aws-sdk/client-license-manager';
import { NotEntitledError, VerificationError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { parseAwsTime } from './aws-time.js';
import { callLicenseManager, type LicenseManagerCallOptions } from './call.js';
import type { AllowedEntitlement, RequestedEntitlement } from './lease-types.js';
import type { CheckedRequest } from './license-options.js';

/** How long close() may spend checking in: a SIGTERM grace period is short. */
export const CHECK_IN_DEADLINE_MS = 10_000;

/** A checkout held: the licence, what it granted, its consumption token and when it expires. */
export interface Checkout {
  licenseArn: string;
  entitlementsAllowed: AllowedEntitlement[];
  token: string | undefined;
  expiration: Date | undefined;
  attempts: number;
}

/** License Manager call options with the logger resolved once for the lease. */
export type LeaseCallOptions = LicenseManagerCallOptions & { logger: Logger };

/** One CheckoutLicense (a fresh ClientToken, reused by its retries), checked against what was asked. */
export async function checkOut(request: CheckedRequest, options: LeaseCallOptions): Promise<Checkout> {
  const command = new CheckoutLicenseCommand({
    ProductSKU: request.productSku,
    CheckoutType: request.checkoutType,
    KeyFingerprint: request.keyFingerprint,
    Entitlements: request.entitlements.map((e) => ({
      Name: e.name,
      Unit: e.unit as EntitlementDataUnit,
      ...(e.value !== undefined && { Value: e.value }),
    })),
    ClientToken: randomUUID(),
    ...(request.nodeId !== undefined && { NodeId: request.nodeId }),
  });
  const { value, attempts } = await callLicenseManager(
    'CheckoutLicense',
    (client, signal) => client.send(command, { abortSignal: signal }),
    options,
  );
  const allowed = (value.EntitlementsAllowed ?? []).map(allowedEntitlement);
  const token = value.LicenseConsumptionToken;
  const answerProblem = checkoutAnswerProblem(request, value);
  const missing = request.entitlements.filter(
    (want) => !allowed.some((got) => got.name === want.name && got.unit === want.unit),
  );
  if (answerProblem !== undefined || missing.length > 0) {
    // Hand back what was granted: a partial or doubtful checkout must not hold a floating unit for an hour.
    if (request.checkoutType === 'PROVISIONAL' && token)
      await checkIn(token, { ...options, deadlineMs: CHECK_IN_DEADLINE_MS }).catch(() => undefined);
    if (answerProblem !== undefined)
      throw new VerificationError(
        'LICENSE_ANSWER_MISMATCH',
        `CheckoutLicense answered ${answerProblem}; the checkout is not trusted.`,
      );
    throw new NotEntitledError(
      `AWS License Manager allowed ${allowed.length === 0 ? 'none' : allowed.map(describeEntitlement).join(', ')} ` +
        `but not ${missing.map(describeEntitlement).join(', ')} for product SKU ${request.productSku}: the contract ` +
        'does not include them, or their pool is checked out. Buy or free them, or request only what the contract ' +
        'has (names and units must match the licence).',
    );
  }
  return {
    licenseArn: value.LicenseArn!,
    entitlementsAllowed: allowed,
    token,
    expiration: parseAwsTime(value.Expiration),
    attempts,
  };
}

/** What is wrong with a checkout answer, compared with the request; undefined when nothing. */
function checkoutAnswerProblem(request: CheckedRequest, answer: CheckoutLicenseCommandOutput): string | undefined {
  if (typeof answer.LicenseArn !== 'string' || answer.LicenseArn === '') return 'without a LicenseArn';
  if (answer.CheckoutType !== undefined && answer.CheckoutType !== request.checkoutType) {
    return `checkout type ${answer.CheckoutType} to a ${request.checkoutType} request`;
  }
  if (request.checkoutType === 'PROVISIONAL' && !answer.LicenseConsumptionToken)
    return 'a PROVISIONAL checkout without a LicenseConsumptionToken';
  return undefined;
}

function allowedEntitlement(entitlement: EntitlementData): AllowedEntitlement {
  return {
    name: entitlement.Name ?? '',
    unit: entitlement.Unit ?? '',
    ...(entitlement.Value !== undefined && { value: entitlement.Value }),
  };
}

function describeEntitlement(entitlement: RequestedEntitlement | AllowedEntitlement): string {
  return `${entitlement.name} (${entitlement.unit}${entitlement.value !== undefined ? ` ${entitlement.value}` : ''})`;
}

/** Hands the unit of a checkout back to the pool. */
export async function checkIn(token: string, options: LeaseCallOptions): Promise<void> {
  const command = new CheckInLicenseCommand({ LicenseConsumptionToken: token });
  await callLicenseManager(
    'CheckInLicense',
    (client, signal) => client.send(command, { abortSignal: signal }),
    options,
  );
}
