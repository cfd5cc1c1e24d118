/**
 * The emulator's MeterUsage, BatchMeterUsage and ResolveCustomer, with the service's semantics:
 *
 * - MeterUsage: `Timestamp` rounded down to the hour; one record per caller (the SigV4 access key: "this
 *   task or pod"), dimension and hour: an identical repeat is idempotent (same MeteringRecordId), another
 *   quantity or allocation is `DuplicateRequestException`. A `ClientToken` reused with other parameters is
 *   `IdempotencyConflictException` (HTTP 409). `DryRun` answers `DryRunOperation` (or `UnauthorizedException`
 *   with `scenario.meteringDenied`, `CustomerNotEntitledException` when not entitled). Usage older than 6 hours or
 *   in the future: `TimestampOutOfBoundsException`.
 * - BatchMeterUsage: at most 25 records; one timestamp 6 hours old or more rejects the batch; per-record
 *   `Success` / `CustomerNotSubscribed` / `DuplicateRecord` (same product, customer, dimension and hour, other
 *   quantity); `scenario.unprocessedFirst` leaves records in `UnprocessedRecords`.
 * - ResolveCustomer: `scenario.registrationTokens` are valid (or expired from `expiresAt`); others invalid.
 *
 * Input rules are the client's own validators (src/metering/validation.ts), answered as AWS would; any modelled
 * error of any operation can also be forced with `scenario.errors` (modelled-errors.ts).
 * The ledger belongs to the scenario object: `emulator.reset()` (a fresh scenario) starts an empty one.
 * Assumptions where AWS documents nothing: DryRunOperation is HTTP 412 (as in EC2), UnauthorizedException
 * 403, and BatchMeterUsage de-duplicates per hour like MeterUsage.
 *
 * @example
 * const emulator = await startMeteringEmulator({ scenario: { dimensions: ['requests'], unprocessedFirst: 1 } });
 */
import { randomUUID } from 'node:crypto';
import type { Tag, UsageAllocation } from '@aws-sdk/client-marketplace-metering';
import { ValidationError } from '../common/errors.js';
import {
  tagSetKey,
  validateBatchMeterUsageInput,
  validateMeterUsageInput,
  validateResolveCustomerInput,
  type BatchMeterUsageInput,
  type MeterUsageInput,
  type ResolveCustomerInput,
} from '../metering/validation.js';
import { EmulatorServiceError, type EmulatorScenario, type OperationContext, type OperationHandler } from './types.js';

const HOUR_MS = 3_600_000;

interface MeteredRecord {
  fingerprint: string;
  meteringRecordId: string;
}

interface Ledger {
  /** MeterUsage: caller|product|dimension|hour. */
  hourly: Map<string, MeteredRecord>;
  /** MeterUsage: caller|ClientToken. */
  tokens: Map<string, MeteredRecord>;
  /** BatchMeterUsage: product|customer|dimension|hour. */
  batch: Map<string, MeteredRecord>;
  batchCalls: number;
}

const ledgers = new WeakMap<EmulatorScenario, Ledger>();

function ledgerOf(scenario: EmulatorScenario): Ledger {
  let ledger = ledgers.get(scenario);
  if (!ledger) {
    ledger = { hourly: new Map(), tokens: new Map(), batch: new Map(), batchCalls: 0 };
    ledgers.set(scenario, ledger);
  }
  return ledger;
}

/** MeterUsage, BatchMeterUsage and ResolveCustomer, by operation name, for the emulator's `operations` map. */
export const meteringOperations: Record<string, OperationHandler> = {
  MeterUsage: meterUsage,
  BatchMeterUsage: batchMeterUsage,
  ResolveCustomer: resolveCustomer,
};

function meterUsage(input: Record<string, unknown>, ctx: OperationContext): unknown {
  const request = asAwsError(() => validateMeterUsageInput(input as unknown as MeterUsageInput, ctx.now()));
  const { scenario } = ctx;
  checkProductAndDimensions(scenario, request.ProductCode, [request.UsageDimension!]);
  if (request.DryRun && scenario.meteringDenied)
    throw new EmulatorServiceError('UnauthorizedException', 'Not authorized to call MeterUsage', 403);
  if (scenario.meteringDenied) throw accessDenied('MeterUsage');
  // A dry run answers what the call would: a buyer without a subscription is not entitled (custom metering's check).
  if (!scenario.entitled)
    throw new EmulatorServiceError('CustomerNotEntitledException', 'Customer is not entitled to this product');
  if (request.DryRun)
    throw new EmulatorServiceError('DryRunOperation', 'Request would have succeeded, but the DryRun flag is set', 412);

  const ledger = ledgerOf(scenario);
  const caller = ctx.accessKeyId ?? '';
  const usage = fingerprint(request.UsageQuantity!, request.UsageAllocations);
  const tokenKey = request.ClientToken === undefined ? undefined : `${caller}|${request.ClientToken}`;
  const requestPrint = JSON.stringify([
    request.ProductCode,
    request.Timestamp!.getTime(),
    request.UsageDimension,
    usage,
  ]);
  const previousToken = tokenKey === undefined ? undefined : ledger.tokens.get(tokenKey);
  if (previousToken) {
    if (previousToken.fingerprint !== requestPrint) {
      throw new EmulatorServiceError(
        'IdempotencyConflictException',
        'ClientToken was already used with different parameters',
        409,
      );
    }
    return { MeteringRecordId: previousToken.meteringRecordId };
  }
  const hourKey = [caller, request.ProductCode, request.UsageDimension, hourOf(request.Timestamp!)].join('|');
  const metered = ledger.hourly.get(hourKey);
  if (metered && metered.fingerprint !== usage) {
    throw new EmulatorServiceError(
      'DuplicateRequestException',
      `A metering record with a different quantity was already emitted for ${request.UsageDimension} in this hour`,
    );
  }
  const record = metered ?? { fingerprint: usage, meteringRecordId: randomUUID() };
  ledger.hourly.set(hourKey, record);
  if (tokenKey !== undefined)
    ledger.tokens.set(tokenKey, { fingerprint: requestPrint, meteringRecordId: record.meteringRecordId });
  return { MeteringRecordId: record.meteringRecordId };
}

function batchMeterUsage(input: Record<string, unknown>, ctx: OperationContext): unknown {
  const request = asAwsError(() => validateBatchMeterUsageInput(input as unknown as BatchMeterUsageInput, ctx.now()));
  const { scenario } = ctx;
  const records = request.UsageRecords!;
  checkProductAndDimensions(
    scenario,
    request.ProductCode,
    records.map((r) => r.Dimension!),
  );
  if (scenario.meteringDenied) throw accessDenied('BatchMeterUsage');

  const ledger = ledgerOf(scenario);
  ledger.batchCalls += 1;
  const leaveUnprocessed = ledger.batchCalls <= (scenario.unprocessedFirst ?? 0);
  const wire = input.UsageRecords as unknown[];
  const results: unknown[] = [];
  const unprocessed: unknown[] = [];
  for (const [i, record] of records.entries()) {
    if (leaveUnprocessed && i % 2 === 0) {
      unprocessed.push(wire[i]);
      continue;
    }
    const customer = record.CustomerAWSAccountId ?? record.CustomerIdentifier!;
    if (scenario.subscribedCustomers && !scenario.subscribedCustomers.includes(customer)) {
      results.push({ UsageRecord: wire[i], Status: 'CustomerNotSubscribed' });
      continue;
    }
    const key = [request.ProductCode ?? record.LicenseArn, customer, record.Dimension, hourOf(record.Timestamp!)].join(
      '|',
    );
    const usage = fingerprint(record.Quantity!, record.UsageAllocations);
    const metered = ledger.batch.get(key);
    if (metered && metered.fingerprint !== usage) {
      results.push({ UsageRecord: wire[i], Status: 'DuplicateRecord' });
      continue;
    }
    const saved = metered ?? { fingerprint: usage, meteringRecordId: randomUUID() };
    ledger.batch.set(key, saved);
    results.push({ UsageRecord: wire[i], MeteringRecordId: saved.meteringRecordId, Status: 'Success' });
  }
  return { Results: results, UnprocessedRecords: unprocessed };
}

function resolveCustomer(input: Record<string, unknown>, ctx: OperationContext): unknown {
  const { RegistrationToken: token } = asAwsError(() =>
    validateResolveCustomerInput(input as unknown as ResolveCustomerInput),
  );
  const grant = Object.hasOwn(ctx.scenario.registrationTokens ?? {}, token!)
    ? ctx.scenario.registrationTokens![token!]
    : undefined;
  if (!grant) throw new EmulatorServiceError('InvalidTokenException', 'Registration token is invalid');
  if (grant.expiresAt !== undefined && new Date(grant.expiresAt).getTime() <= ctx.now().getTime()) {
    throw new EmulatorServiceError('ExpiredTokenException', 'Registration token has expired');
  }
  return {
    CustomerIdentifier: grant.customerIdentifier,
    CustomerAWSAccountId: grant.customerAWSAccountId,
    ProductCode: grant.productCode,
    LicenseArn: grant.licenseArn,
  };
}

/**
 * Runs a client validator and answers its failure as the AWS exception the service uses for that field.
 *
 * @example
 * const request = asAwsError(() => validateResolveCustomerInput(input as unknown as ResolveCustomerInput));
 */
export function asAwsError<T>(validate: () => T): T {
  try {
    return validate();
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new EmulatorServiceError(awsErrorFor(err), err.message);
  }
}

function awsErrorFor(err: ValidationError): string {
  // A parsed Date as the value means the timestamp was well-formed but outside the window.
  if (/Timestamp$/.test(err.field) && err.value instanceof Date) return 'TimestampOutOfBoundsException';
  if (/\.Tags\b/.test(err.field)) return 'InvalidTagException';
  if (/UsageAllocations/.test(err.field)) return 'InvalidUsageAllocationsException';
  if (/ProductCode$/.test(err.field)) return 'InvalidProductCodeException';
  if (/PublicKeyVersion$/.test(err.field)) return 'InvalidPublicKeyVersionException';
  // A missing required member is a ValidationException; a present but invalid one, the field's modelled error.
  if (err.value === undefined) return 'ValidationException';
  if (/(CustomerIdentifier|CustomerAWSAccountId)$/.test(err.field)) return 'InvalidCustomerIdentifierException';
  if (/LicenseArn$/.test(err.field)) return 'InvalidLicenseException';
  if (/(UsageDimension|\.Dimension)$/.test(err.field)) return 'InvalidUsageDimensionException';
  return 'ValidationException';
}

function checkProductAndDimensions(
  scenario: EmulatorScenario,
  productCode: string | undefined,
  dimensions: string[],
): void {
  if (productCode !== undefined && scenario.productCodes && !scenario.productCodes.includes(productCode)) {
    throw new EmulatorServiceError('InvalidProductCodeException', `Unknown product code ${productCode}`);
  }
  const unknown = scenario.dimensions && dimensions.find((d) => !scenario.dimensions!.includes(d));
  if (unknown !== undefined)
    throw new EmulatorServiceError('InvalidUsageDimensionException', `Unknown usage dimension ${unknown}`);
}

function accessDenied(operation: string): EmulatorServiceError {
  return new EmulatorServiceError(
    'AccessDeniedException',
    `User is not authorized to perform: aws-marketplace:${operation}`,
  );
}

/** The usage itself (quantity and allocations, tag order ignored): what must match for a repeat to be idempotent. */
function fingerprint(quantity: number, allocations: UsageAllocation[] | undefined): string {
  const buckets = (allocations ?? []).map((a) => [tagSetKey(a.Tags as Tag[] | undefined), a.AllocatedUsageQuantity]);
  return JSON.stringify([quantity, buckets.sort(([a], [b]) => String(a).localeCompare(String(b)))]);
}

function hourOf(timestamp: Date): number {
  return Math.floor(timestamp.getTime() / HOUR_MS) * HOUR_MS;
}
