/**
 * Real-AWS fidelity of the library and the emulator (issue 11), through the real AWS SDK over HTTP: `iat` is
 * advisory, a key version beyond 32 bits never leaves the process, an empty batch names its product, every answer
 * carries a request id, and every modelled error can be produced (and some arise from input on their own).
 */
import { BatchMeterUsageCommand, MeterUsageCommand, RegisterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, ensureEntitled, ValidationError, VerificationError } from '../../src/index.js';
import { TOKEN_IAT_VARIANTS } from '../../src/emulator/index.js';
import { batchMeterUsage } from '../../src/metering/index.js';
import {
  emulatorClient,
  emulatorOptions,
  recordingLogger,
  rejectionOf,
  TEST_PRODUCT_CODE,
  useEmulator,
} from '../support/index.js';

const emulator = useEmulator();

describe('iat is advisory: whatever AWS sends there, the registration is accepted', () => {
  it.each(TOKEN_IAT_VARIANTS)('iat %s', async (variant) => {
    emulator().scenario.tokenIat = variant;
    const logger = recordingLogger();
    const before = Date.now();
    const entitlement = await ensureEntitled(emulatorOptions(emulator(), { logger }));

    const fromToken = variant === 'hour-old' || variant === 'hour-ahead';
    expect(entitlement.issuedAtSource).toBe(fromToken ? 'token' : 'received');
    if (fromToken) {
      // Far from the local clock: accepted, and operators are told.
      const skew = entitlement.issuedAt.getTime() - before;
      expect(Math.abs(skew)).toBeGreaterThan(3_500_000);
      expect(logger.events('warn')).toContain('register.clock_skew');
    } else {
      expect(entitlement.issuedAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(logger.events('info')).toContain('register.iat_absent');
      expect(logger.events('warn')).not.toContain('register.clock_skew');
    }
  });

  it('a token issued now logs no skew warning', async () => {
    const logger = recordingLogger();
    await expect(ensureEntitled(emulatorOptions(emulator(), { logger }))).resolves.toMatchObject({
      issuedAtSource: 'token',
    });
    expect(logger.events()).not.toContain('register.clock_skew');
  });

  it.each([
    ['hour-old', { maxTokenAgeSec: 600 }, 'TOKEN_TOO_OLD'],
    ['hour-ahead', { clockToleranceSec: 300 }, 'IAT_IN_FUTURE'],
    ['missing', { maxTokenAgeSec: 600 }, 'IAT_MISSING'],
  ] as const)('iat %s with %o set by the caller is refused (%s)', async (variant, bound, code) => {
    emulator().scenario.tokenIat = variant;
    const error = await rejectionOf(ensureEntitled(emulatorOptions(emulator(), bound)), VerificationError);
    expect(error.code).toBe(code);
  });
});

describe("PublicKeyVersion is the model's 32-bit integer", () => {
  it('2^31 is a ConfigurationError before any call; 2^31-1 registers', async () => {
    const error = await rejectionOf(
      ensureEntitled(emulatorOptions(emulator(), { publicKeyVersion: 2 ** 31 })),
      ConfigurationError,
    );
    expect(error).toMatchObject({ code: 'INVALID_PUBLIC_KEY_VERSION', exitCode: 78 });
    expect(error.message).toContain('2147483647');
    expect(emulator().calls).toHaveLength(0);
    await expect(ensureEntitled(emulatorOptions(emulator(), { publicKeyVersion: 2 ** 31 - 1 }))).resolves.toMatchObject(
      { publicKeyVersion: 2 ** 31 - 1 },
    );
  });
});

describe('an empty BatchMeterUsage names no product', () => {
  it('is refused by the library before any call and by the emulator', async () => {
    const error = await rejectionOf(
      batchMeterUsage({ UsageRecords: [] }, emulatorOptions(emulator())),
      ValidationError,
    );
    expect(error.field).toBe('ProductCode');
    expect(emulator().calls).toHaveLength(0);

    const client = emulatorClient(emulator());
    try {
      await expect(client.send(new BatchMeterUsageCommand({ UsageRecords: [] }))).rejects.toMatchObject({
        name: 'InvalidProductCodeException',
      });
      await expect(
        client.send(new BatchMeterUsageCommand({ ProductCode: TEST_PRODUCT_CODE, UsageRecords: [] })),
      ).resolves.toMatchObject({ Results: [] });
    } finally {
      client.destroy();
    }
  });
});

describe('the emulator answers like AWS', () => {
  it('every answer, success or error, carries an x-amzn-RequestId the SDK reports', async () => {
    const client = emulatorClient(emulator());
    try {
      const ok = await client.send(new RegisterUsageCommand({ ProductCode: TEST_PRODUCT_CODE, PublicKeyVersion: 1 }));
      emulator().scenario.entitled = false;
      const failed = await client
        .send(new RegisterUsageCommand({ ProductCode: TEST_PRODUCT_CODE, PublicKeyVersion: 1 }))
        .catch((err: unknown) => err as { $metadata: { requestId?: string } });
      const [first, second] = emulator().calls;
      expect(ok.$metadata.requestId).toBe(first!.requestId);
      expect(failed.$metadata.requestId).toBe(second!.requestId);
      expect(first!.requestId).toMatch(/^[0-9a-f-]{36}$/);
      expect(first!.requestId).not.toBe(second!.requestId);
    } finally {
      client.destroy();
    }
  });

  it('scenario.errors makes an operation answer any error it models, and only those', async () => {
    const client = emulatorClient(emulator());
    const meter = () =>
      client.send(
        new MeterUsageCommand({
          ProductCode: TEST_PRODUCT_CODE,
          Timestamp: new Date(),
          UsageDimension: 'requests',
          UsageQuantity: 1,
        }),
      );
    try {
      emulator().scenario.errors = { MeterUsage: 'InvalidEndpointRegionException' };
      await expect(meter()).rejects.toMatchObject({
        name: 'InvalidEndpointRegionException',
        $metadata: { httpStatusCode: 400 },
      });
      emulator().scenario.errors = { MeterUsage: 'InvalidLicenseException' }; // a BatchMeterUsage error
      await expect(meter()).rejects.toMatchObject({
        name: 'EmulatorScenarioError',
        $metadata: { httpStatusCode: 500 },
      });
    } finally {
      client.destroy();
    }
  });

  it.each([
    ['a malformed CustomerAWSAccountId', { CustomerAWSAccountId: '12345x' }, 'InvalidCustomerIdentifierException'],
    ['a malformed LicenseArn', { CustomerIdentifier: 'cust-1', LicenseArn: 'license-1' }, 'InvalidLicenseException'],
  ])('BatchMeterUsage with %s answers %s', async (_label, record, name) => {
    const client = emulatorClient(emulator());
    try {
      const usage = { ...record, Timestamp: new Date(), Dimension: 'requests', Quantity: 1 };
      await expect(
        client.send(new BatchMeterUsageCommand({ ProductCode: TEST_PRODUCT_CODE, UsageRecords: [usage] })),
      ).rejects.toMatchObject({ name });
    } finally {
      client.destroy();
    }
  });
});
