/**
 * The API's input rules, checked before any network call: each failure is a ValidationError (exit 78,
 * code INVALID_INPUT) naming the field, the rule and the value.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, ExitCode, ValidationError } from '../../src/errors.js';
import {
  validateBatchMeterUsageInput,
  validateMeterUsageInput,
  validateRegisterUsageInput,
  validateResolveCustomerInput,
  type MeterUsageInput,
  type UsageRecordInput,
} from '../../src/metering/index.js';

const NOW = new Date('2026-03-10T12:30:00Z');
const HOUR = 3_600_000;
const valid: MeterUsageInput = {
  ProductCode: 'prod-abc',
  Timestamp: new Date(NOW.getTime() - HOUR),
  UsageDimension: 'requests',
  UsageQuantity: 10,
};

function failure(check: () => unknown): ValidationError {
  try {
    check();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  return expect.fail('expected a ValidationError');
}

describe('MeterUsage input', () => {
  it('a valid request passes and comes back ready for the SDK (Timestamp as Date, quantity default 0)', () => {
    expect(
      validateMeterUsageInput({ ...valid, Timestamp: '2026-03-10T11:00:00Z', UsageQuantity: undefined }, NOW),
    ).toEqual({
      ProductCode: 'prod-abc',
      Timestamp: new Date('2026-03-10T11:00:00Z'),
      UsageDimension: 'requests',
      UsageQuantity: 0,
    });
    // Epoch seconds, as aws-sdk v2 (under DataFire) accepted them.
    expect(validateMeterUsageInput({ ...valid, Timestamp: NOW.getTime() / 1000 }, NOW).Timestamp).toEqual(NOW);
  });

  it.each<[string, Partial<Record<keyof MeterUsageInput, unknown>>, string, RegExp]>([
    ['missing product code', { ProductCode: undefined }, 'ProductCode', /letters, digits and -\/=:_.@/],
    ['product code with a space', { ProductCode: 'prod abc' }, 'ProductCode', /1-255 characters/],
    ['empty dimension', { UsageDimension: '' }, 'UsageDimension', /1-255 characters/],
    ['dimension of 256 characters', { UsageDimension: 'd'.repeat(256) }, 'UsageDimension', /1-255/],
    ['negative quantity', { UsageQuantity: -1 }, 'UsageQuantity', /0 to 2147483647/],
    ['fractional quantity', { UsageQuantity: 1.5 }, 'UsageQuantity', /whole number/],
    ['quantity above the 32-bit range', { UsageQuantity: 2_147_483_648 }, 'UsageQuantity', /2147483647/],
    ['quantity as a string', { UsageQuantity: '5' }, 'UsageQuantity', /whole number/],
    ['unparseable timestamp', { Timestamp: 'yesterday' }, 'Timestamp', /ISO 8601/],
    ['timestamp 7 hours old', { Timestamp: new Date(NOW.getTime() - 7 * HOUR) }, 'Timestamp', /last 6 hours/],
    ['timestamp an hour ahead', { Timestamp: new Date(NOW.getTime() + HOUR) }, 'Timestamp', /not in the future/],
    ['DryRun as a string', { DryRun: 'yes' }, 'DryRun', /true or false/],
    ['ClientToken of 65 characters', { ClientToken: 'c'.repeat(65) }, 'ClientToken', /1-64/],
    [
      'allocations not summing to the quantity',
      { UsageAllocations: [{ AllocatedUsageQuantity: 9 }] },
      'UsageAllocations',
      /summing to the usage quantity 10/,
    ],
    ['empty allocations', { UsageAllocations: [] }, 'UsageAllocations', /1 to 2500/],
    [
      'two untagged allocations',
      { UsageAllocations: [{ AllocatedUsageQuantity: 5 }, { AllocatedUsageQuantity: 5 }] },
      'UsageAllocations[1].Tags',
      /differ from every other/,
    ],
    [
      'the same tag set twice, in another order',
      {
        UsageAllocations: [
          {
            AllocatedUsageQuantity: 5,
            Tags: [
              { Key: 'a', Value: '1' },
              { Key: 'b', Value: '2' },
            ],
          },
          {
            AllocatedUsageQuantity: 5,
            Tags: [
              { Key: 'b', Value: '2' },
              { Key: 'a', Value: '1' },
            ],
          },
        ],
      },
      'UsageAllocations[1].Tags',
      /differ/,
    ],
    [
      'six tags',
      {
        UsageAllocations: [
          { AllocatedUsageQuantity: 10, Tags: Array.from({ length: 6 }, (_, i) => ({ Key: `k${i}`, Value: 'v' })) },
        ],
      },
      'UsageAllocations[0].Tags',
      /1 to 5 tags/,
    ],
    [
      'a tag key with a forbidden character',
      { UsageAllocations: [{ AllocatedUsageQuantity: 10, Tags: [{ Key: 'team|x', Value: 'v' }] }] },
      'UsageAllocations[0].Tags[0].Key',
      /tag alphabet \[a-zA-Z0-9\+ -=\._:\/@\]/,
    ],
    [
      'a tag value of 257 characters',
      { UsageAllocations: [{ AllocatedUsageQuantity: 10, Tags: [{ Key: 'k', Value: 'v'.repeat(257) }] }] },
      'UsageAllocations[0].Tags[0].Value',
      /1-256/,
    ],
    [
      'a repeated tag key',
      {
        UsageAllocations: [
          {
            AllocatedUsageQuantity: 10,
            Tags: [
              { Key: 'k', Value: 'a' },
              { Key: 'k', Value: 'b' },
            ],
          },
        ],
      },
      'UsageAllocations[0].Tags[1].Key',
      /must not repeat a key/,
    ],
  ])('%s', (_name, change, field, rule) => {
    const err = failure(() => validateMeterUsageInput({ ...valid, ...change } as MeterUsageInput, NOW));

    expect(err.field).toBe(field);
    expect(err.rule).toMatch(rule);
    expect(err.message.startsWith(`${field} `)).toBe(true);
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.exitCode).toBe(ExitCode.CONFIGURATION);
    expect(err).toBeInstanceOf(ConfigurationError);
  });

  it('the message shows the offending value, cut short when long', () => {
    expect(failure(() => validateMeterUsageInput({ ...valid, UsageQuantity: -3 }, NOW)).message).toMatch(/; got -3\.$/);
    const long = failure(() => validateMeterUsageInput({ ...valid, UsageDimension: 'd'.repeat(300) }, NOW)).message;
    expect(long).toContain('(300 characters)');
    expect(long.length).toBeLessThan(300);
  });

  it('property: any split of the quantity over distinct tag sets passes; any other sum fails naming UsageAllocations', () => {
    const split = fc.array(fc.nat({ max: 1_000_000 }), { minLength: 1, maxLength: 30 });
    fc.assert(
      fc.property(
        split,
        fc.integer({ min: -5, max: 5 }).filter((d) => d !== 0),
        (parts, delta) => {
          const allocations = parts.map((q, i) => ({
            AllocatedUsageQuantity: q,
            Tags: [{ Key: 'bucket', Value: `b${i}` }],
          }));
          const total = parts.reduce((a, b) => a + b, 0);
          expect(
            validateMeterUsageInput({ ...valid, UsageQuantity: total, UsageAllocations: allocations }, NOW)
              .UsageAllocations,
          ).toHaveLength(parts.length);
          if (total + delta >= 0) {
            expect(
              failure(() =>
                validateMeterUsageInput({ ...valid, UsageQuantity: total + delta, UsageAllocations: allocations }, NOW),
              ).field,
            ).toBe('UsageAllocations');
          }
        },
      ),
    );
  });
});

describe('BatchMeterUsage input', () => {
  const record: UsageRecordInput = {
    CustomerIdentifier: 'cust-1',
    Dimension: 'api_calls',
    Quantity: 3,
    Timestamp: new Date(NOW.getTime() - 5 * HOUR),
  };

  it('accepts 25 records up to 6 hours old (the API model: "aren\'t accepted 6 hours or more after an event")', () => {
    const records = Array.from({ length: 25 }, (_, i) => ({
      ...record,
      CustomerIdentifier: `c${i}`,
      Timestamp: new Date(NOW.getTime() - 6 * HOUR + 1000),
    }));
    expect(
      validateBatchMeterUsageInput({ ProductCode: 'prod-abc', UsageRecords: records }, NOW).UsageRecords,
    ).toHaveLength(25);
  });

  it('an empty batch needs a ProductCode: no record carries a LicenseArn to name the product', () => {
    expect(failure(() => validateBatchMeterUsageInput({ UsageRecords: [] }, NOW)).field).toBe('ProductCode');
    expect(validateBatchMeterUsageInput({ ProductCode: 'prod-abc', UsageRecords: [] }, NOW)).toEqual({
      ProductCode: 'prod-abc',
      UsageRecords: [],
    });
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    ['26 records', { UsageRecords: Array.from({ length: 26 }, () => record) }, 'UsageRecords', /at most 25/],
    ['no records array', { UsageRecords: undefined }, 'UsageRecords', /array/],
    ['no product code and no LicenseArn', { ProductCode: undefined }, 'ProductCode', /1-255/],
    [
      'a record 6 hours and a second old',
      { UsageRecords: [record, { ...record, Timestamp: new Date(NOW.getTime() - 6 * HOUR - 1000) }] },
      'UsageRecords[1].Timestamp',
      /last 6 hours/,
    ],
    [
      'a record without customer',
      { UsageRecords: [{ ...record, CustomerIdentifier: undefined }] },
      'UsageRecords[0].CustomerIdentifier',
      /CustomerAWSAccountId/,
    ],
    [
      'an account id with letters',
      { UsageRecords: [{ ...record, CustomerAWSAccountId: '12345x' }] },
      'UsageRecords[0].CustomerAWSAccountId',
      /\[0-9\]/,
    ],
    [
      // AWS: "These parameters are mutually exclusive. You can't specify both CustomerIdentifier and CustomerAWSAccountID".
      'both a CustomerIdentifier and a CustomerAWSAccountId',
      { UsageRecords: [{ ...record, CustomerAWSAccountId: '123456789012' }] },
      'UsageRecords[0].CustomerAWSAccountId',
      /not both/,
    ],
    [
      'a record without dimension',
      { UsageRecords: [{ ...record, Dimension: undefined }] },
      'UsageRecords[0].Dimension',
      /1-255/,
    ],
    [
      'record allocations not summing up',
      { UsageRecords: [{ ...record, UsageAllocations: [{ AllocatedUsageQuantity: 1 }] }] },
      'UsageRecords[0].UsageAllocations',
      /summing to the usage quantity 3/,
    ],
    [
      'a malformed LicenseArn',
      { UsageRecords: [{ ...record, LicenseArn: 'license-1' }] },
      'UsageRecords[0].LicenseArn',
      /arn:aws/,
    ],
  ])('%s', (_name, change, field, rule) => {
    const err = failure(() =>
      validateBatchMeterUsageInput({ ProductCode: 'prod-abc', UsageRecords: [record], ...change } as never, NOW),
    );
    expect(err.field).toBe(field);
    expect(err.rule).toMatch(rule);
  });

  it('ProductCode may be left out when every record carries a LicenseArn', () => {
    const LicenseArn = 'arn:aws:license-manager::123456789012:license:l-0123456789abcdef';
    expect(
      validateBatchMeterUsageInput({ UsageRecords: [{ ...record, LicenseArn }] }, NOW).ProductCode,
    ).toBeUndefined();
  });

  it('refuses a batch of 1 MB or more', () => {
    const tags = (i: number) =>
      Array.from({ length: 5 }, (_, k) => ({ Key: `key-${k}`.padEnd(100, 'k'), Value: `${i}`.padEnd(256, 'v') }));
    const allocations = Array.from({ length: 100 }, (_, i) => ({ AllocatedUsageQuantity: 1, Tags: tags(i) }));
    const records = Array.from({ length: 25 }, (_, i) => ({
      ...record,
      CustomerIdentifier: `c${i}`,
      Quantity: 100,
      UsageAllocations: allocations,
    }));
    expect(
      failure(() => validateBatchMeterUsageInput({ ProductCode: 'prod-abc', UsageRecords: records }, NOW)).rule,
    ).toMatch(/less than 1 MB/);
  });
});

describe('ResolveCustomer and RegisterUsage input', () => {
  it('an empty registration token is refused without echoing anything secret', () => {
    const err = failure(() => validateResolveCustomerInput({ RegistrationToken: '' }));
    expect(err.field).toBe('RegistrationToken');
    expect(failure(() => validateResolveCustomerInput({} as never)).message).toMatch(/got undefined\.$/);
  });

  it('RegisterUsage needs a product code and a 32-bit key version >= 1; the nonce is at most 255 characters', () => {
    expect(validateRegisterUsageInput({ ProductCode: 'prod-abc', PublicKeyVersion: 1 })).toEqual({
      ProductCode: 'prod-abc',
      PublicKeyVersion: 1,
    });
    expect(
      validateRegisterUsageInput({ ProductCode: 'prod-abc', PublicKeyVersion: 2 ** 31 - 1 }).PublicKeyVersion,
    ).toBe(2 ** 31 - 1);
    for (const version of [0, 2 ** 31, 1.5]) {
      expect(
        failure(() => validateRegisterUsageInput({ ProductCode: 'prod-abc', PublicKeyVersion: version })).field,
      ).toBe('PublicKeyVersion');
    }
    expect(
      failure(() =>
        validateRegisterUsageInput({ ProductCode: 'prod-abc', PublicKeyVersion: 1, Nonce: 'n'.repeat(256) }),
      ).field,
    ).toBe('Nonce');
  });
});

describe('lengths count characters (code points), as the API model does, not UTF-16 units', () => {
  const emoji = '\u{1F600}'; // one character, two UTF-16 units

  it.each([
    [
      'Nonce',
      (text: string) => validateRegisterUsageInput({ ProductCode: 'prod-abc', PublicKeyVersion: 1, Nonce: text }),
      255,
    ],
    ['UsageDimension', (text: string) => validateMeterUsageInput({ ...valid, UsageDimension: text }, NOW), 255],
    ['ClientToken', (text: string) => validateMeterUsageInput({ ...valid, ClientToken: text }, NOW), 64],
  ] as const)('%s: the maximum in emoji passes, one more is refused', (field, validate, max) => {
    expect(emoji.repeat(max).length).toBe(2 * max);
    expect(() => validate(emoji.repeat(max))).not.toThrow();
    expect(failure(() => validate(emoji.repeat(max + 1))).field).toBe(field);
  });
});
