/**
 * The DataFire-compatible client: the seed's `create({ accessKeyId, secretAccessKey, region })` and its four
 * actions with the seed's input shapes, through the real AWS SDK to the emulator (SigV4 verified against
 * the keys given), resolving with AWS output shapes; validation first, retries, BatchMeterUsage to completion.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, ServiceUnavailableError, ValidationError, VerificationError } from '../../src/errors.js';
import { UnprocessedRecordsError } from '../../src/metering/index.js';
import { create, type DataFireAccount } from '../../src/metering/datafire.js';
import {
  DUMMY_CREDENTIALS,
  FAST_RETRY,
  recordingLogger,
  TEST_PRODUCT_CODE,
  TEST_REGION,
  useEmulator,
} from '../support/index.js';

const emulator = useEmulator({ credentials: DUMMY_CREDENTIALS });
const HOUR = 3_600_000;
const lastHour = (): Date => new Date(Math.floor(Date.now() / HOUR) * HOUR - HOUR);

/** The seed's account object, aimed at the emulator, with fast retries and a short deadline. */
function account(extra: Partial<DataFireAccount> = {}): DataFireAccount {
  return {
    accessKeyId: DUMMY_CREDENTIALS.accessKeyId,
    secretAccessKey: DUMMY_CREDENTIALS.secretAccessKey,
    region: TEST_REGION,
    endpoint: emulator().url,
    retry: FAST_RETRY,
    deadlineMs: 5_000,
    logger: {},
    ...extra,
  };
}

async function rejection(call: Promise<unknown>): Promise<Error> {
  return (await call.then(
    () => expect.fail('expected a rejection'),
    (e: unknown) => e,
  )) as Error;
}

describe('the seed actions, shapes and promises', () => {
  it('MeterUsage takes the seed input and resolves with { MeteringRecordId }; the DataFire context argument is accepted', async () => {
    const metering = create(account());
    const output = await metering.MeterUsage(
      {
        ProductCode: TEST_PRODUCT_CODE,
        Timestamp: lastHour().toISOString(),
        UsageDimension: 'requests',
        UsageQuantity: 12,
      },
      { accounts: {} },
    );

    expect(Object.keys(output)).toEqual(['MeteringRecordId']);
    expect(emulator().calls).toMatchObject([
      { operation: 'MeterUsage', statusCode: 200, region: TEST_REGION, accessKeyId: DUMMY_CREDENTIALS.accessKeyId },
    ]);
    expect(emulator().calls[0]?.input).toMatchObject({ UsageQuantity: 12, Timestamp: lastHour().getTime() / 1000 });
  });

  it('RegisterUsage resolves with the AWS output (Signature), without SDK metadata', async () => {
    const output = await create(account()).RegisterUsage({
      ProductCode: TEST_PRODUCT_CODE,
      PublicKeyVersion: 1,
      Nonce: 'n-1',
    });

    expect(Object.keys(output)).toEqual(['Signature']);
    expect(output.Signature?.split('.')).toHaveLength(3);
  });

  it('ResolveCustomer resolves with the AWS output shape', async () => {
    emulator().scenario.registrationTokens = {
      'tok-1': { customerIdentifier: 'cust-1', customerAWSAccountId: '111122223333', productCode: TEST_PRODUCT_CODE },
    };
    await expect(create(account()).ResolveCustomer({ RegistrationToken: 'tok-1' })).resolves.toEqual({
      CustomerIdentifier: 'cust-1',
      CustomerAWSAccountId: '111122223333',
      ProductCode: TEST_PRODUCT_CODE,
    });
  });

  it('BatchMeterUsage resolves with every record processed and UnprocessedRecords empty', async () => {
    const output = await create(account()).BatchMeterUsage({
      ProductCode: TEST_PRODUCT_CODE,
      UsageRecords: [{ CustomerIdentifier: 'cust-1', Dimension: 'api_calls', Quantity: 4, Timestamp: lastHour() }],
    });

    expect(output.UnprocessedRecords).toEqual([]);
    expect(output.Results).toMatchObject([
      { Status: 'Success', UsageRecord: { CustomerIdentifier: 'cust-1', Quantity: 4 } },
    ]);
  });

  it('credentials left empty as in the DataFire README come from the default chain', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = DUMMY_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = DUMMY_CREDENTIALS.secretAccessKey;
    try {
      await create(account({ accessKeyId: '', secretAccessKey: '' })).MeterUsage({
        ProductCode: TEST_PRODUCT_CODE,
        Timestamp: lastHour(),
        UsageDimension: 'requests',
      });
      expect(emulator().calls[0]).toMatchObject({ statusCode: 200, accessKeyId: DUMMY_CREDENTIALS.accessKeyId });
    } finally {
      restoreEnv('AWS_ACCESS_KEY_ID', saved.id);
      restoreEnv('AWS_SECRET_ACCESS_KEY', saved.secret);
    }
  });

  it('half a key pair is refused at create()', () => {
    expect(() => create({ accessKeyId: 'AKID' })).toThrow(expect.objectContaining({ code: 'INCOMPLETE_CREDENTIALS' }));
  });
});

describe('validation before any network call', () => {
  it.each([
    [
      'MeterUsage',
      (c: ReturnType<typeof create>) =>
        c.MeterUsage({
          ProductCode: TEST_PRODUCT_CODE,
          Timestamp: new Date(),
          UsageDimension: 'requests',
          UsageQuantity: -1,
        }),
      'UsageQuantity',
    ],
    [
      'BatchMeterUsage',
      (c: ReturnType<typeof create>) =>
        c.BatchMeterUsage({
          ProductCode: TEST_PRODUCT_CODE,
          UsageRecords: [{ CustomerIdentifier: 'c', Dimension: '', Timestamp: new Date() }],
        }),
      'UsageRecords[0].Dimension',
    ],
    [
      'ResolveCustomer',
      (c: ReturnType<typeof create>) => c.ResolveCustomer({ RegistrationToken: '' }),
      'RegistrationToken',
    ],
    [
      'RegisterUsage',
      (c: ReturnType<typeof create>) => c.RegisterUsage({ ProductCode: 'bad code', PublicKeyVersion: 1 }),
      'ProductCode',
    ],
  ])(
    '%s rejects with a ValidationError naming the field, and nothing is sent (not even Region discovery)',
    async (_op, call, field) => {
      // No Region and an empty environment: reaching discovery would fail differently.
      const err = await rejection(call(create(account({ region: undefined, env: {} }))));

      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).field).toBe(field);
      expect(emulator().calls).toEqual([]);
    },
  );
});

describe('retries', () => {
  it('throttling and 5xx are retried until success', async () => {
    emulator().scenario.throttleFirst = 2;
    emulator().scenario.failFirst = 3;
    const logger = recordingLogger();
    await create(account({ logger })).MeterUsage({
      ProductCode: TEST_PRODUCT_CODE,
      Timestamp: lastHour(),
      UsageDimension: 'requests',
      UsageQuantity: 1,
    });

    expect(emulator().calls.map((c) => c.errorType ?? c.statusCode)).toEqual([
      'ThrottlingException',
      'ThrottlingException',
      'InternalServiceErrorException',
      200,
    ]);
    expect(logger.events('info').filter((e) => e.endsWith('.retry'))).toEqual(
      Array(3).fill('metering.MeterUsage.retry'),
    );
    expect(logger.events('warn')).toEqual([]);
    // One ClientToken for the call, reused by every retry, so a lost answer cannot bill twice.
    expect(new Set(emulator().calls.map((c) => c.input.ClientToken)).size).toBe(1);
  });

  it('BatchMeterUsage sends UnprocessedRecords again until none is left', async () => {
    emulator().scenario.unprocessedFirst = 3;
    const records = ['a', 'b', 'c', 'd', 'e'].map((customer) => ({
      CustomerIdentifier: customer,
      Dimension: 'api_calls',
      Quantity: 1,
      Timestamp: lastHour(),
    }));
    const output = await create(account()).BatchMeterUsage({ ProductCode: TEST_PRODUCT_CODE, UsageRecords: records });

    expect(output.Results?.map((r) => r.UsageRecord?.CustomerIdentifier).sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(output.Results?.every((r) => r.Status === 'Success')).toBe(true);
    // 5 records -> a,c,e left -> a,e left -> a left -> done.
    expect(
      emulator().calls.map((c) =>
        (c.input.UsageRecords as { CustomerIdentifier: string }[]).map((r) => r.CustomerIdentifier),
      ),
    ).toEqual([['a', 'b', 'c', 'd', 'e'], ['a', 'c', 'e'], ['a', 'e'], ['a']]);
  });

  it('records still unprocessed at the deadline: ServiceUnavailableError whose cause holds what was and was not done', async () => {
    emulator().scenario.unprocessedFirst = Infinity;
    const records = ['a', 'b'].map((customer) => ({
      CustomerIdentifier: customer,
      Dimension: 'api_calls',
      Quantity: 1,
      Timestamp: lastHour(),
    }));
    const err = await rejection(
      create(account({ deadlineMs: 300 })).BatchMeterUsage({ ProductCode: TEST_PRODUCT_CODE, UsageRecords: records }),
    );

    expect(err).toBeInstanceOf(ServiceUnavailableError);
    expect((err as ServiceUnavailableError).code).toBe('DEADLINE_EXCEEDED');
    const cause = err.cause as UnprocessedRecordsError;
    expect(cause).toBeInstanceOf(UnprocessedRecordsError);
    expect(cause.results.map((r) => r.UsageRecord?.CustomerIdentifier)).toEqual(['b']);
    expect(cause.unprocessedRecords.map((r) => r.CustomerIdentifier)).toEqual(['a']);
  });

  it('a final error is not retried: DuplicateRequestException -> DUPLICATE_REQUEST', async () => {
    const metering = create(account());
    const input = {
      ProductCode: TEST_PRODUCT_CODE,
      Timestamp: lastHour(),
      UsageDimension: 'requests',
      UsageQuantity: 1,
    };
    await metering.MeterUsage(input);
    const err = await rejection(metering.MeterUsage({ ...input, UsageQuantity: 2 }));

    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as ConfigurationError).code).toBe('DUPLICATE_REQUEST');
    // Counted by operation: the deadline test before may leave an aborted BatchMeterUsage arriving late.
    expect(emulator().calls.filter((c) => c.operation === 'MeterUsage')).toHaveLength(2);
  });
});

describe('DryRun and errors', () => {
  it('DryRun: permitted resolves with no record id; denied is ACCESS_DENIED naming the permission', async () => {
    const metering = create(account());
    const input = { ProductCode: TEST_PRODUCT_CODE, Timestamp: new Date(), UsageDimension: 'requests', DryRun: true };
    await expect(metering.MeterUsage(input)).resolves.toEqual({});

    emulator().scenario.meteringDenied = true;
    const err = await rejection(metering.MeterUsage(input));
    expect(err).toMatchObject({ code: 'ACCESS_DENIED', exitCode: 78 });
    expect(err.message).toContain('aws-marketplace:MeterUsage');
  });

  it('ResolveCustomer: invalid and expired tokens are VerificationErrors that do not repeat the token', async () => {
    emulator().scenario.registrationTokens = {
      'secret-expired-token': { customerIdentifier: 'c', productCode: TEST_PRODUCT_CODE, expiresAt: new Date(0) },
    };
    const metering = create(account());
    const expired = await rejection(metering.ResolveCustomer({ RegistrationToken: 'secret-expired-token' }));
    const invalid = await rejection(metering.ResolveCustomer({ RegistrationToken: 'secret-forged-token' }));

    expect(expired).toBeInstanceOf(VerificationError);
    expect(expired).toMatchObject({ code: 'REGISTRATION_TOKEN_EXPIRED', exitCode: 65 });
    expect(invalid).toMatchObject({ code: 'REGISTRATION_TOKEN_INVALID' });
    expect(`${expired.message}${invalid.message}`).not.toContain('secret-');
  });

  it('an unknown dimension is INVALID_USAGE_DIMENSION, not retried', async () => {
    emulator().scenario.dimensions = ['requests'];
    const err = await rejection(
      create(account()).MeterUsage({ ProductCode: TEST_PRODUCT_CODE, Timestamp: lastHour(), UsageDimension: 'reqs' }),
    );

    expect(err).toMatchObject({ code: 'INVALID_USAGE_DIMENSION' });
    expect(emulator().calls.filter((c) => c.operation === 'MeterUsage')).toHaveLength(1);
  });
});

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}
