/**
 * The Metering API's input rules (AWS API model `marketplace-metering.json`), checked before any network
 * call so a bad record fails at once with the field, the rule and the value, instead of as a 400 after a
 * round trip (or, worse, after 30 minutes of retrying something else first). Inputs use the API's own
 * PascalCase shapes, as the AWS SDK and the DataFire client do; timestamps may be a Date, an ISO 8601
 * string or epoch seconds (what aws-sdk v2, under DataFire, accepted).
 *
 * @example
 * const request = validateMeterUsageInput({
 *   ProductCode: 'abc',
 *   Timestamp: new Date(),
 *   UsageDimension: 'users',
 *   UsageQuantity: 3
 * });
 * await client.send(new MeterUsageCommand(request));
 */
import type {
  BatchMeterUsageCommandInput,
  MeterUsageCommandInput,
  RegisterUsageCommandInput,
  ResolveCustomerCommandInput,
  Tag,
  UsageAllocation,
  UsageRecord,
} from '@aws-sdk/client-marketplace-metering';
import { ValidationError } from '../common/errors.js';
import { isPublicKeyVersion, MAX_PUBLIC_KEY_VERSION } from '../registration/public-key-version.js';
import {
  BATCH_METER_USAGE_MAX_AGE_MS,
  FUTURE_TOLERANCE_MS,
  MAX_ALLOCATIONS,
  MAX_BATCH_RECORDS,
  MAX_TAGS,
  MAX_USAGE_QUANTITY,
  METER_USAGE_MAX_AGE_MS,
} from './limits.js';

/** Date, ISO 8601 string, or epoch seconds. */
export type TimestampInput = Date | string | number;

/** A tag of a usage allocation: key and value, as AWS spells them. */
export interface TagInput {
  /** Tag key (1-100 characters). */
  Key: string;
  /** Tag value (1-256 characters). */
  Value: string;
}

/** A share of a usage quantity attributed to a set of tags. */
export interface UsageAllocationInput {
  /** This share; all shares sum to the record's quantity. */
  AllocatedUsageQuantity: number;
  /** The tags this share is attributed to; none for the untagged remainder. */
  Tags?: TagInput[] | undefined;
}

/** MeterUsage's input, as AWS names it; checked against the API's rules before any call. */
export interface MeterUsageInput {
  /** The product code. */
  ProductCode: string;
  /** When the usage happened: at most 6 hours ago, not in the future. */
  Timestamp: TimestampInput;
  /** The dimension's API name. */
  UsageDimension: string;
  /** Default 0. */
  UsageQuantity?: number | undefined;
  /** Split of `UsageQuantity` by tags (at most 2,500). */
  UsageAllocations?: UsageAllocationInput[] | undefined;
  /** Only checks permissions: AWS answers `DryRunOperation` when the call would be allowed. */
  DryRun?: boolean | undefined;
  /** Idempotency token, 1-64 characters. Default: one random token per call, reused by its retries. */
  ClientToken?: string | undefined;
}

/** One record of BatchMeterUsage (SaaS): a customer's usage of a dimension at a time. */
export interface UsageRecordInput {
  /** When the usage happened: at most 24 hours ago. */
  Timestamp: TimestampInput;
  /** From ResolveCustomer (older integrations); or give `CustomerAWSAccountId`. */
  CustomerIdentifier?: string | undefined;
  /** The buyer's AWS account id (instead of `CustomerIdentifier`). */
  CustomerAWSAccountId?: string | undefined;
  /** The buyer's License Manager license ARN. */
  LicenseArn?: string | undefined;
  /** The dimension's API name. */
  Dimension: string;
  /** Default 0. */
  Quantity?: number | undefined;
  /** Split of `Quantity` by tags. */
  UsageAllocations?: UsageAllocationInput[] | undefined;
}

/** BatchMeterUsage's input, as AWS names it. */
export interface BatchMeterUsageInput {
  /** Required unless every record carries a `LicenseArn` (AWS's newer integration). */
  ProductCode?: string | undefined;
  /** At most 25 records, under 1 MB serialized. */
  UsageRecords: UsageRecordInput[];
}

/** ResolveCustomer's input. */
export interface ResolveCustomerInput {
  /** The `x-amzn-marketplace-token` the buyer's browser posted. */
  RegistrationToken: string;
}

/** RegisterUsage's input, as AWS names it. */
export interface RegisterUsageInput {
  /** The product code. */
  ProductCode: string;
  /** The version of the product key AWS should sign with. */
  PublicKeyVersion: number;
  /** Echoed in the signed token; use a fresh random value. */
  Nonce?: string | undefined;
}

const HOUR_MS = 3_600_000;
const MAX_BATCH_BYTES = 1024 * 1024;

const PRODUCT_CODE = /^[-a-zA-Z0-9/=:_.@]{1,255}$/;
// AWS's own pattern, quirk included: ` -=` is the range space..'=', so it also allows !"#$%&'()*,;< and digits.
const TAG_TEXT = /^[a-zA-Z0-9+ -=._:/@]+$/;
const ACCOUNT_ID = /^[0-9]{1,255}$/;
const LICENSE_ARN =
  /^arn:aws[a-zA-Z-]*:[A-Za-z0-9][A-Za-z0-9_/.-]{0,62}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9_/.-]{0,63}:[A-Za-z0-9][A-Za-z0-9:_/+=,@.-]{0,1023}$/;

/** Checks a MeterUsage request; returns it ready for the SDK (Timestamp as a Date). */
export function validateMeterUsageInput(input: MeterUsageInput, now: Date = new Date()): MeterUsageCommandInput {
  const request = requireObject<MeterUsageInput>(input, 'MeterUsage input');
  const quantity = quantityOf(request.UsageQuantity, 'UsageQuantity');
  const validated: MeterUsageCommandInput = {
    ProductCode: productCode(request.ProductCode, 'ProductCode'),
    Timestamp: timestampWithin(request.Timestamp, 'Timestamp', now, METER_USAGE_MAX_AGE_MS),
    UsageDimension: dimension(request.UsageDimension, 'UsageDimension'),
    UsageQuantity: quantity,
  };
  if (request.UsageAllocations !== undefined)
    validated.UsageAllocations = allocations(request.UsageAllocations, quantity, 'UsageAllocations');
  if (request.DryRun !== undefined) {
    if (typeof request.DryRun !== 'boolean')
      throw new ValidationError('DryRun', 'must be true or false', request.DryRun);
    validated.DryRun = request.DryRun;
  }
  if (request.ClientToken !== undefined) validated.ClientToken = text(request.ClientToken, 'ClientToken', 1, 64);
  return validated;
}

/** Checks a BatchMeterUsage request (1 MB, 25 records, one product, 6-hour window). */
export function validateBatchMeterUsageInput(
  input: BatchMeterUsageInput,
  now: Date = new Date(),
): BatchMeterUsageCommandInput {
  const request = requireObject<BatchMeterUsageInput>(input, 'BatchMeterUsage input');
  if (!Array.isArray(request.UsageRecords) || request.UsageRecords.length > MAX_BATCH_RECORDS) {
    throw new ValidationError(
      'UsageRecords',
      `must be an array of at most ${MAX_BATCH_RECORDS} usage records`,
      request.UsageRecords,
    );
  }
  const records = request.UsageRecords.map((record, i) => usageRecord(record, `UsageRecords[${i}]`, now));
  const validated: BatchMeterUsageCommandInput = { UsageRecords: records };
  // An empty batch has no record carrying a LicenseArn, so it names no product unless ProductCode does.
  if (request.ProductCode !== undefined || records.length === 0 || !records.every((r) => r.LicenseArn)) {
    validated.ProductCode = productCode(request.ProductCode, 'ProductCode');
  }
  const bytes = Buffer.byteLength(JSON.stringify(validated));
  if (bytes >= MAX_BATCH_BYTES)
    throw new ValidationError('UsageRecords', 'must serialize to less than 1 MB (split the batch)', `${bytes} bytes`);
  return validated;
}

/** Checks a ResolveCustomer request. The token's value never appears in an error. */
export function validateResolveCustomerInput(input: ResolveCustomerInput): ResolveCustomerCommandInput {
  const request = requireObject<ResolveCustomerInput>(input, 'ResolveCustomer input');
  const token = request.RegistrationToken;
  if (typeof token !== 'string' || token.length === 0) {
    // Only an empty or non-string token gets here, so the value shown is never a secret.
    throw new ValidationError(
      'RegistrationToken',
      "is required: the x-amzn-marketplace-token the buyer's browser posted",
      token,
    );
  }
  return { RegistrationToken: token };
}

/** Checks a RegisterUsage request (the DataFire client's; `ensureEntitled` has its own, stricter checks). */
export function validateRegisterUsageInput(input: RegisterUsageInput): RegisterUsageCommandInput {
  const request = requireObject<RegisterUsageInput>(input, 'RegisterUsage input');
  const code = productCode(request.ProductCode, 'ProductCode');
  if (!isPublicKeyVersion(request.PublicKeyVersion)) {
    throw new ValidationError(
      'PublicKeyVersion',
      `must be a whole number from 1 to ${MAX_PUBLIC_KEY_VERSION} ` +
        '(the version shown beside the key in the Management Portal)',
      request.PublicKeyVersion,
    );
  }
  const validated: RegisterUsageCommandInput = { ProductCode: code, PublicKeyVersion: request.PublicKeyVersion };
  if (request.Nonce !== undefined) validated.Nonce = text(request.Nonce, 'Nonce', 0, 255);
  return validated;
}

/**
 * Checks the tags of one allocation: 1-5 tags, distinct keys, keys 1-100 and values 1-256 characters of
 * AWS's tag alphabet. Exported for the usage meter, which checks tags when usage is recorded.
 *
 * @example validateTags([{ Key: 'team', Value: 'blue' }], 'tags') // the tags, or a ValidationError
 */
export function validateTags(tags: unknown, field: string): TagInput[] {
  if (!Array.isArray(tags) || tags.length < 1 || tags.length > MAX_TAGS) {
    throw new ValidationError(
      field,
      `must be an array of 1 to ${MAX_TAGS} tags (leave it out for untagged usage)`,
      tags,
    );
  }
  const keys = new Set<string>();
  return tags.map((tag: unknown, i) => {
    const { Key, Value } = requireObject<TagInput>(tag, `${field}[${i}]`);
    const key = text(Key, `${field}[${i}].Key`, 1, 100, TAG_TEXT);
    if (keys.has(key))
      throw new ValidationError(`${field}[${i}].Key`, 'must not repeat a key of the same tag set', key);
    keys.add(key);
    return { Key: key, Value: text(Value, `${field}[${i}].Value`, 1, 256, TAG_TEXT) };
  });
}

/**
 * A canonical string for a tag set, order-insensitive: two allocations with the same tags get the same key.
 *
 * @example
 * tagSetKey([{ Key: 'b', Value: '2' }, { Key: 'a', Value: '1' }]) ===
 *   tagSetKey([{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }])
 */
export function tagSetKey(tags: readonly Tag[] | undefined): string {
  if (!tags || tags.length === 0) return '';
  return JSON.stringify(tags.map((t) => [t.Key, t.Value]).sort(([a], [b]) => (a! < b! ? -1 : a! > b! ? 1 : 0)));
}

/**
 * A usage dimension name: 1-255 characters.
 *
 * @example dimension('users', 'UsageDimension') // 'users'
 */
export function dimension(value: unknown, field: string): string {
  return text(value, field, 1, 255);
}

/**
 * A usage quantity: a whole number from 0 to 2147483647; undefined means 0, as for the API.
 *
 * @example quantityOf(undefined, 'UsageQuantity') // 0
 */
export function quantityOf(value: unknown, field: string): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_USAGE_QUANTITY) {
    throw new ValidationError(field, `must be a whole number from 0 to ${MAX_USAGE_QUANTITY}`, value);
  }
  return value;
}

/**
 * A product code as the API accepts it.
 *
 * @example productCode('abc123', 'ProductCode') // 'abc123'
 */
export function productCode(value: unknown, field: string): string {
  if (typeof value !== 'string' || !PRODUCT_CODE.test(value)) {
    throw new ValidationError(
      field,
      'must be 1-255 characters of letters, digits and -/=:_.@ (the code from the Management Portal)',
      value,
    );
  }
  return value;
}

/**
 * A Date from what aws-sdk v2 accepted: Date, ISO 8601 string, or epoch seconds.
 *
 * @example toDate('2026-01-01T10:00:00Z', 'Timestamp').getTime() // 1767261600000
 */
export function toDate(value: unknown, field: string): Date {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(value * 1000)
        : typeof value === 'string' && value !== ''
          ? new Date(value)
          : undefined;
  if (!date || Number.isNaN(date.getTime())) {
    throw new ValidationError(field, 'must be a Date, an ISO 8601 string or epoch seconds', value);
  }
  return date;
}

function usageRecord(input: unknown, field: string, now: Date): UsageRecord {
  const record = requireObject<UsageRecordInput>(input, field);
  const quantity = quantityOf(record.Quantity, `${field}.Quantity`);
  const validated: UsageRecord = {
    Timestamp: timestampWithin(record.Timestamp, `${field}.Timestamp`, now, BATCH_METER_USAGE_MAX_AGE_MS),
    Dimension: dimension(record.Dimension, `${field}.Dimension`),
    Quantity: quantity,
  };
  if (record.CustomerIdentifier !== undefined && record.CustomerIdentifier !== '') {
    validated.CustomerIdentifier = text(record.CustomerIdentifier, `${field}.CustomerIdentifier`, 1, 255);
  }
  if (record.CustomerAWSAccountId !== undefined) {
    validated.CustomerAWSAccountId = text(
      record.CustomerAWSAccountId,
      `${field}.CustomerAWSAccountId`,
      1,
      255,
      ACCOUNT_ID,
    );
    if (validated.CustomerIdentifier) {
      // AWS: the two are mutually exclusive; a record naming both is refused.
      throw new ValidationError(
        `${field}.CustomerAWSAccountId`,
        'and CustomerIdentifier are mutually exclusive: give one, not both',
        record.CustomerAWSAccountId,
      );
    }
  }
  if (!validated.CustomerIdentifier && !validated.CustomerAWSAccountId) {
    throw new ValidationError(
      `${field}.CustomerIdentifier`,
      'or CustomerAWSAccountId is required: whose usage this is',
      record.CustomerIdentifier,
    );
  }
  if (record.LicenseArn !== undefined)
    validated.LicenseArn = text(record.LicenseArn, `${field}.LicenseArn`, 1, 2048, LICENSE_ARN);
  if (record.UsageAllocations !== undefined)
    validated.UsageAllocations = allocations(record.UsageAllocations, quantity, `${field}.UsageAllocations`);
  return validated;
}

function allocations(value: unknown, quantity: number, field: string): UsageAllocation[] {
  if (!Array.isArray(value) || value.length < 1 || value.length > MAX_ALLOCATIONS) {
    throw new ValidationError(field, `must be an array of 1 to ${MAX_ALLOCATIONS} allocations`, value);
  }
  const tagSets = new Set<string>();
  let sum = 0;
  const result = value.map((item: unknown, i) => {
    const allocation = requireObject<UsageAllocationInput>(item, `${field}[${i}]`);
    const allocated = allocation.AllocatedUsageQuantity;
    if (allocated === undefined)
      throw new ValidationError(`${field}[${i}].AllocatedUsageQuantity`, 'is required', allocated);
    const validated: UsageAllocation = {
      AllocatedUsageQuantity: quantityOf(allocated, `${field}[${i}].AllocatedUsageQuantity`),
    };
    if (allocation.Tags !== undefined) validated.Tags = validateTags(allocation.Tags, `${field}[${i}].Tags`);
    const key = tagSetKey(validated.Tags);
    if (tagSets.has(key))
      throw new ValidationError(
        `${field}[${i}].Tags`,
        "must differ from every other allocation's tag set",
        allocation.Tags ?? 'no tags',
      );
    tagSets.add(key);
    sum += validated.AllocatedUsageQuantity!;
    return validated;
  });
  if (sum !== quantity)
    throw new ValidationError(
      field,
      `must have AllocatedUsageQuantity values summing to the usage quantity ${quantity}`,
      `a sum of ${sum}`,
    );
  return result;
}

function timestampWithin(value: unknown, field: string, now: Date, maxAgeMs: number): Date {
  const date = toDate(value, field);
  const age = now.getTime() - date.getTime();
  if (age > maxAgeMs || age < -FUTURE_TOLERANCE_MS) {
    throw new ValidationError(
      field,
      `must lie within the last ${maxAgeMs / HOUR_MS} hours (AWS refuses ` +
        `older usage) and not in the future; now is ${now.toISOString()}`,
      date,
    );
  }
  return date;
}

/** Lengths as the API model counts them: characters (code points), not UTF-16 units (an emoji is one, not two). */
function characterCount(value: string): number {
  return [...value].length;
}

function text(value: unknown, field: string, min: number, max: number, pattern?: RegExp): string {
  const length = typeof value === 'string' ? characterCount(value) : -1;
  if (typeof value !== 'string' || length < min || length > max || (pattern && !pattern.test(value))) {
    const alphabet =
      pattern === TAG_TEXT
        ? " of AWS's tag alphabet [a-zA-Z0-9+ -=._:/@] (the space-to-= range includes !\"#$%&'()*,;<)"
        : pattern
          ? ` matching ${pattern.source}`
          : '';
    throw new ValidationError(field, `must be a string of ${min}-${max} characters${alphabet}`, value);
  }
  return value;
}

function requireObject<T>(value: unknown, field: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ValidationError(field, 'must be an object', value);
  return value as T;
}
