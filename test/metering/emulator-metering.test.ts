/**
 * The emulator's MeterUsage, BatchMeterUsage and ResolveCustomer, driven by the bare AWS SDK (no validation
 * of ours in front), so what is asserted is the service behaviour the library's tests rely on.
 */
import {
  BatchMeterUsageCommand,
  MeterUsageCommand,
  ResolveCustomerCommand,
  type MarketplaceMeteringClient,
  type MeterUsageCommandInput,
} from '@aws-sdk/client-marketplace-metering';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { emulatorClient, TEST_PRODUCT_CODE, useEmulator } from '../support/index.js';

const emulator = useEmulator();
let client: MarketplaceMeteringClient;
beforeEach(() => {
  client = emulatorClient(emulator());
});
afterEach(() => client.destroy());

const HOUR = 3_600_000;
/** 10:00 of the previous hour: safely inside the 6-hour window. */
const lastHour = (): number => Math.floor(Date.now() / HOUR) * HOUR - HOUR;

function meter(input: Partial<MeterUsageCommandInput> = {}): Promise<{ MeteringRecordId?: string }> {
  return client.send(
    new MeterUsageCommand({
      ProductCode: TEST_PRODUCT_CODE,
      Timestamp: new Date(lastHour() + 60_000),
      UsageDimension: 'requests',
      UsageQuantity: 5,
      ...input,
    }),
  );
}

/** The AWS error a call rejects with: its name and HTTP status. */
async function awsError(call: Promise<unknown>): Promise<{ name: string; status: number | undefined }> {
  const err = (await call.then(
    () => expect.fail('expected the call to fail'),
    (e: unknown) => e,
  )) as { name: string; $metadata?: { httpStatusCode?: number } };
  return { name: err.name, status: err.$metadata?.httpStatusCode };
}

describe('MeterUsage', () => {
  it('rounds the timestamp down to the hour: an identical repeat later in the hour is idempotent', async () => {
    const first = await meter({ Timestamp: new Date(lastHour() + 60_000) });
    const repeat = await meter({ Timestamp: new Date(lastHour() + 59 * 60_000) });

    expect(first.MeteringRecordId).toMatch(/^[0-9a-f-]{36}$/);
    expect(repeat.MeteringRecordId).toBe(first.MeteringRecordId);
  });

  it('a different quantity in the same hour and dimension is DuplicateRequestException; another hour or dimension is not', async () => {
    await meter({ UsageQuantity: 5 });

    expect(await awsError(meter({ UsageQuantity: 6, Timestamp: new Date(lastHour() + 30 * 60_000) }))).toEqual({
      name: 'DuplicateRequestException',
      status: 400,
    });
    await expect(meter({ UsageQuantity: 6, UsageDimension: 'storage' })).resolves.toHaveProperty('MeteringRecordId');
    await expect(meter({ UsageQuantity: 6, Timestamp: new Date(lastHour() - HOUR) })).resolves.toHaveProperty(
      'MeteringRecordId',
    );
  });

  it('the hour is per caller (task or pod): another access key may meter the same hour', async () => {
    await meter({ UsageQuantity: 5 });
    const otherPod = emulatorClient(emulator(), { credentials: { accessKeyId: 'AKIDOTHERPOD', secretAccessKey: 'x' } });
    try {
      const other = await otherPod.send(
        new MeterUsageCommand({
          ProductCode: TEST_PRODUCT_CODE,
          Timestamp: new Date(lastHour()),
          UsageDimension: 'requests',
          UsageQuantity: 9,
        }),
      );
      expect(other.MeteringRecordId).toBeDefined();
    } finally {
      otherPod.destroy();
    }
  });

  it('a ClientToken reused with other parameters is IdempotencyConflictException (HTTP 409); the same request returns the same record', async () => {
    const first = await meter({ ClientToken: 'token-1' });

    expect((await meter({ ClientToken: 'token-1' })).MeteringRecordId).toBe(first.MeteringRecordId);
    expect(await awsError(meter({ ClientToken: 'token-1', UsageQuantity: 7 }))).toEqual({
      name: 'IdempotencyConflictException',
      status: 409,
    });
  });

  it('allocations: order of tags and allocations does not matter for idempotency; their sum must match', async () => {
    const tags = [
      { Key: 'a', Value: '1' },
      { Key: 'b', Value: '2' },
    ];
    const first = await meter({
      UsageQuantity: 5,
      UsageAllocations: [{ AllocatedUsageQuantity: 2, Tags: tags }, { AllocatedUsageQuantity: 3 }],
    });
    const again = await meter({
      UsageQuantity: 5,
      UsageAllocations: [{ AllocatedUsageQuantity: 3 }, { AllocatedUsageQuantity: 2, Tags: [...tags].reverse() }],
    });

    expect(again.MeteringRecordId).toBe(first.MeteringRecordId);
    expect(
      (
        await awsError(
          meter({ UsageDimension: 'x', UsageQuantity: 5, UsageAllocations: [{ AllocatedUsageQuantity: 4 }] }),
        )
      ).name,
    ).toBe('InvalidUsageAllocationsException');
    const sixTags = Array.from({ length: 6 }, (_, i) => ({ Key: `k${i}`, Value: 'v' }));
    expect(
      (
        await awsError(
          meter({
            UsageDimension: 'y',
            UsageQuantity: 1,
            UsageAllocations: [{ AllocatedUsageQuantity: 1, Tags: sixTags }],
          }),
        )
      ).name,
    ).toBe('InvalidTagException');
  });

  it('DryRun answers DryRunOperation when permitted, UnauthorizedException when denied, and meters nothing', async () => {
    expect(await awsError(meter({ DryRun: true }))).toEqual({ name: 'DryRunOperation', status: 412 });
    emulator().scenario.meteringDenied = true;
    expect(await awsError(meter({ DryRun: true }))).toEqual({ name: 'UnauthorizedException', status: 403 });
    expect((await awsError(meter())).name).toBe('AccessDeniedException');
    emulator().scenario.meteringDenied = false;

    await meter({ UsageQuantity: 8 }); // no DuplicateRequest: the dry runs recorded nothing
  });

  it('accepts usage up to 6 hours old, not older and not in the future', async () => {
    const now = Date.now();
    await expect(meter({ Timestamp: new Date(now - 6 * HOUR + 60_000) })).resolves.toBeDefined();
    expect((await awsError(meter({ Timestamp: new Date(now - 6 * HOUR - 60_000) }))).name).toBe(
      'TimestampOutOfBoundsException',
    );
    expect((await awsError(meter({ Timestamp: new Date(now + HOUR) }))).name).toBe('TimestampOutOfBoundsException');
  });

  it('unknown dimensions, unknown products and unsubscribed customers are refused', async () => {
    emulator().scenario.dimensions = ['requests'];
    emulator().scenario.productCodes = [TEST_PRODUCT_CODE];
    expect((await awsError(meter({ UsageDimension: 'nope' }))).name).toBe('InvalidUsageDimensionException');
    expect((await awsError(meter({ ProductCode: 'other-product' }))).name).toBe('InvalidProductCodeException');
    emulator().scenario.entitled = false;
    expect((await awsError(meter())).name).toBe('CustomerNotEntitledException');
  });

  it('a missing required field is a ValidationException', async () => {
    expect((await awsError(meter({ UsageDimension: undefined }))).name).toBe('ValidationException');
  });
});

describe('BatchMeterUsage', () => {
  const record = (customer: string, quantity: number, minute = 1) => ({
    CustomerIdentifier: customer,
    Dimension: 'api_calls',
    Quantity: quantity,
    Timestamp: new Date(lastHour() + minute * 60_000),
  });
  const batch = (records: ReturnType<typeof record>[]) =>
    client.send(new BatchMeterUsageCommand({ ProductCode: TEST_PRODUCT_CODE, UsageRecords: records }));

  it('per-record statuses: Success, DuplicateRecord (other quantity, same hour), CustomerNotSubscribed', async () => {
    emulator().scenario.subscribedCustomers = ['alice', 'bob'];
    const first = await batch([record('alice', 1), record('bob', 2)]);
    const second = await batch([record('alice', 1, 30), record('bob', 3), record('carol', 4)]);

    expect(first.Results?.map((r) => r.Status)).toEqual(['Success', 'Success']);
    expect(second.Results?.map((r) => [r.UsageRecord?.CustomerIdentifier, r.Status])).toEqual([
      ['alice', 'Success'],
      ['bob', 'DuplicateRecord'],
      ['carol', 'CustomerNotSubscribed'],
    ]);
    expect(second.Results?.[0]?.MeteringRecordId).toBe(first.Results?.[0]?.MeteringRecordId);
    expect(second.Results?.[1]?.MeteringRecordId).toBeUndefined();
  });

  it('unprocessedFirst leaves every other record unprocessed, echoed back for the retry', async () => {
    emulator().scenario.unprocessedFirst = 1;
    const answer = await batch([record('a', 1), record('b', 1), record('c', 1)]);

    expect(answer.Results?.map((r) => r.UsageRecord?.CustomerIdentifier)).toEqual(['b']);
    expect(answer.UnprocessedRecords?.map((r) => r.CustomerIdentifier)).toEqual(['a', 'c']);
    expect(answer.UnprocessedRecords?.[0]?.Timestamp).toEqual(record('a', 1).Timestamp);
  });

  it('one record 6 hours old or more rejects the whole batch; more than 25 records is a ValidationException', async () => {
    const late = { ...record('late', 1), Timestamp: new Date(Date.now() - 6 * HOUR - 60_000) };
    expect((await awsError(batch([record('ok', 1), late]))).name).toBe('TimestampOutOfBoundsException');
    expect((await awsError(batch(Array.from({ length: 26 }, (_, i) => record(`c${i}`, 1))))).name).toBe(
      'ValidationException',
    );
    expect((await batch([record('ok', 1)])).Results?.[0]?.Status).toBe('Success'); // nothing of the rejected batch was kept
  });
});

describe('ResolveCustomer', () => {
  beforeEach(() => {
    emulator().scenario.registrationTokens = {
      'token-valid': {
        customerIdentifier: 'cust-1',
        customerAWSAccountId: '123456789012',
        productCode: TEST_PRODUCT_CODE,
      },
      'token-expired': {
        customerIdentifier: 'cust-2',
        productCode: TEST_PRODUCT_CODE,
        expiresAt: new Date(Date.now() - 1000),
      },
    };
  });
  const resolve = (token: string) => client.send(new ResolveCustomerCommand({ RegistrationToken: token }));

  it('a valid token resolves to the customer and product', async () => {
    await expect(resolve('token-valid')).resolves.toMatchObject({
      CustomerIdentifier: 'cust-1',
      CustomerAWSAccountId: '123456789012',
      ProductCode: TEST_PRODUCT_CODE,
    });
  });

  it('an expired token is ExpiredTokenException, an unknown one InvalidTokenException', async () => {
    expect((await awsError(resolve('token-expired'))).name).toBe('ExpiredTokenException');
    expect((await awsError(resolve('token-forged'))).name).toBe('InvalidTokenException');
  });
});

describe('the ledger belongs to the scenario', () => {
  it('reset() forgets what was metered', async () => {
    await meter({ UsageQuantity: 5 });
    emulator().reset();
    await expect(meter({ UsageQuantity: 6 })).resolves.toHaveProperty('MeteringRecordId');
  });
});
