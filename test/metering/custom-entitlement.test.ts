import { describe, expect, it } from 'vitest';
import { ConfigurationError, NotEntitledError } from '../../src/errors.js';
import { ensureMeteringEntitled } from '../../src/metering/index.js';
import { emulatorCallOptions, rejectionOf, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const emulator = useEmulator();
const check = (overrides: Partial<Parameters<typeof ensureMeteringEntitled>[0]> = {}) =>
  ensureMeteringEntitled({
    productCode: TEST_PRODUCT_CODE,
    dimension: 'requests',
    ...emulatorCallOptions(emulator()),
    ...overrides,
  });

describe('ensureMeteringEntitled: custom metering checks entitlement with a MeterUsage dry run', () => {
  it('is entitled when AWS permits the dry run; RegisterUsage is never called and nothing is metered', async () => {
    const result = await check();
    expect(result).toMatchObject({ productCode: TEST_PRODUCT_CODE, dimension: 'requests', attempts: 1 });
    expect(emulator().calls.map((call) => [call.operation, call.input.DryRun, call.errorType])).toEqual([
      ['MeterUsage', true, 'DryRunOperation'],
    ]);
  });

  it('a buyer without a subscription is NotEntitledError (exit 77)', async () => {
    emulator().scenario.entitled = false;
    expect((await rejectionOf(check(), NotEntitledError)).exitCode).toBe(77);
  });

  it('a role without aws-marketplace:MeterUsage is a configuration error naming the action', async () => {
    emulator().scenario.meteringDenied = true;
    const err = await rejectionOf(check(), ConfigurationError);
    expect(err.code).toBe('ACCESS_DENIED');
    expect(err.message).toContain('aws-marketplace:MeterUsage');
  });

  it('a dimension the product does not have is a configuration error', async () => {
    emulator().scenario.dimensions = ['users'];
    expect((await rejectionOf(check(), ConfigurationError)).code).toBe('INVALID_USAGE_DIMENSION');
  });

  it('throttling is retried', async () => {
    emulator().scenario.throttleFirst = 2;
    expect((await check()).attempts).toBe(3);
  });

  it('no dimension is refused before any call', async () => {
    await rejectionOf(check({ dimension: '' }), ConfigurationError);
    expect(emulator().calls).toHaveLength(0);
  });
});
