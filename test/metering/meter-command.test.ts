/**
 * `marketplace-entitlement meter`: the built CLI (dist/cli.cjs) as a child process against the emulator.
 */
import { describe, expect, it } from 'vitest';
import { emulatorEnv, runCli } from '../cli/helpers.js';
import { TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const emulator = useEmulator();
const meter = (...extra: string[]) =>
  runCli(['meter', '--product-code', TEST_PRODUCT_CODE, '--dimension', 'requests', '--deadline', '10s', ...extra], {
    env: emulatorEnv(emulator()),
  });

describe('meter', () => {
  it('sends one MeterUsage with the quantity and tags, and says what AWS recorded', async () => {
    const result = await meter('--quantity', '120', '--tags', 'tenant=acme,plan=pro');

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^metered 120 requests: record [0-9a-f-]{36} after 1 attempt\(s\) \(eu-west-1\)\n$/);
    expect(emulator().calls).toHaveLength(1);
    expect(emulator().calls[0]?.input).toMatchObject({
      ProductCode: TEST_PRODUCT_CODE,
      UsageDimension: 'requests',
      UsageQuantity: 120,
      UsageAllocations: [
        {
          AllocatedUsageQuantity: 120,
          Tags: [
            { Key: 'tenant', Value: 'acme' },
            { Key: 'plan', Value: 'pro' },
          ],
        },
      ],
    });
  });

  it('retries throttling until the record is accepted', async () => {
    emulator().scenario.throttleFirst = 2;
    const result = await meter('--quantity', '1');

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('after 3 attempt(s)');
  });

  it('--dry-run checks the permission: exit 0 when permitted, 78 naming the IAM action when not', async () => {
    const permitted = await meter('--quantity', '0', '--dry-run');
    expect(permitted.code, permitted.stderr).toBe(0);
    expect(permitted.stdout).toMatch(/^dry run: MeterUsage for requests is permitted/);

    emulator().scenario.meteringDenied = true;
    const denied = await meter('--quantity', '0', '--dry-run');
    expect(denied.code).toBe(78);
    expect(denied.failure()).toMatch(/ACCESS_DENIED: .*aws-marketplace:MeterUsage/);
  });

  it('a bad value is a usage error naming the option (exit 64), and nothing is sent', async () => {
    const negative = await meter('--quantity', '-1');
    const badTags = await meter('--quantity', '1', '--tags', 'team|x=blue');

    expect(negative.code).toBe(64);
    expect(negative.stderr).toContain('--quantity: UsageQuantity must be a whole number from 0 to 2147483647; got -1.');
    expect(badTags.code).toBe(64);
    expect(badTags.failure()).toContain('--tags: UsageAllocations[0].Tags[0].Key must be');
    expect(emulator().calls).toEqual([]);
  });

  it('another quantity for the same dimension and hour is refused by AWS: exit 78 DUPLICATE_REQUEST', async () => {
    const timestamp = new Date(Math.floor(Date.now() / 3_600_000) * 3_600_000).toISOString();
    expect((await meter('--quantity', '5', '--timestamp', timestamp)).code).toBe(0);
    const again = await meter('--quantity', '6', '--timestamp', timestamp);

    expect(again.code).toBe(78);
    expect(again.stderr).toContain('DUPLICATE_REQUEST');
  });
});
