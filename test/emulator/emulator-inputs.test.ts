/**
 * The emulator's scenario from text: the registration tokens file, the licence items and file, and the scenario's
 * option checks (src/emulator/registration-tokens-file.ts, license-input.ts, scenario-options.ts). Files are real
 * files on disk; what parses is then served by a real emulator and asked for through the official SDK.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckoutLicenseCommand, LicenseManagerClient } from '@aws-sdk/client-license-manager';
import { ResolveCustomerCommand } from '@aws-sdk/client-marketplace-metering';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../src/common/errors.js';
import { parseLicenseFile, parseLicenseItems } from '../../src/emulator/license-input.js';
import { MODELLED_ERRORS } from '../../src/emulator/modelled-errors.js';
import {
  REGISTRATION_TOKEN_GRANT_FIELDS,
  parseRegistrationTokens,
} from '../../src/emulator/registration-tokens-file.js';
import {
  callCountOption,
  callRateOption,
  operationErrorsOption,
  registerUsageErrorOption,
} from '../../src/emulator/scenario-options.js';
import { startMeteringEmulator } from '../../src/emulator/server.js';
import { AWS_MARKETPLACE_KEY_FINGERPRINT } from '../../src/license/fingerprint.js';
import { DUMMY_CREDENTIALS, emulatorClient, TEST_PRODUCT_CODE, TEST_REGION } from '../support/index.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'me-emulator-inputs-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let files = 0;
/** Writes `content` to a fresh file and reads it back, as the CLI does: the parsers get the file's own text. */
async function fileWith(content: string): Promise<{ file: string; text: string }> {
  const file = join(dir, `input-${++files}.json`);
  await writeFile(file, content);
  return { file, text: await readFile(file, 'utf8') };
}

/** The error `call` throws: it must be a ConfigurationError with `code`. */
function refusal(call: () => unknown, code: string): ConfigurationError {
  let caught: unknown;
  try {
    call();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigurationError);
  expect((caught as ConfigurationError).code).toBe(code);
  return caught as ConfigurationError;
}

describe('parseRegistrationTokens', () => {
  it('reads every grant field, and the emulator resolves the tokens through the SDK (an expired one as expired)', async () => {
    const { file, text } = await fileWith(
      JSON.stringify({
        'token-1': {
          productCode: TEST_PRODUCT_CODE,
          customerIdentifier: 'cust-1',
          customerAWSAccountId: '123456789012',
          licenseArn: 'arn:aws:license-manager::1:license:l-1',
        },
        'token-old': {
          productCode: TEST_PRODUCT_CODE,
          customerIdentifier: 'cust-2',
          expiresAt: '2001-01-01T00:00:00Z',
        },
      }),
    );
    const registrationTokens = parseRegistrationTokens(text, file);
    expect(registrationTokens['token-1']).toEqual({
      productCode: TEST_PRODUCT_CODE,
      customerIdentifier: 'cust-1',
      customerAWSAccountId: '123456789012',
      licenseArn: 'arn:aws:license-manager::1:license:l-1',
    });
    const emulator = await startMeteringEmulator({ scenario: { registrationTokens } });
    const client = emulatorClient(emulator);
    try {
      await expect(client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-1' }))).resolves.toMatchObject({
        CustomerIdentifier: 'cust-1',
        CustomerAWSAccountId: '123456789012',
        ProductCode: TEST_PRODUCT_CODE,
      });
      await expect(client.send(new ResolveCustomerCommand({ RegistrationToken: 'token-old' }))).rejects.toMatchObject({
        name: 'ExpiredTokenException',
      });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it('names exactly the fields of RegistrationTokenGrant', () => {
    expect([...REGISTRATION_TOKEN_GRANT_FIELDS].sort()).toEqual([
      'customerAWSAccountId',
      'customerIdentifier',
      'expiresAt',
      'licenseArn',
      'productCode',
    ]);
  });

  it.each([
    ['not JSON', '{"t":', ['not JSON', 'expected an object like']],
    ['an array', '[]', ['expected an object like', 'not an array']],
    ['a token without productCode', '{"t":{"customerIdentifier":"c"}}', ['token "t" needs a "productCode" string']],
    ['a grant that is not an object', '{"t":"abc123"}', ['token "t" needs a "productCode" string']],
    [
      'a misspelt field',
      '{"t":{"productCode":"p","customerId":"c"}}',
      ['token "t": "customerId" is not one of productCode', 'fix or remove it'],
    ],
    [
      'a field that is not a string',
      '{"t":{"productCode":"p","customerIdentifier":7}}',
      ['token "t": "customerIdentifier" is not one of'],
    ],
    [
      'an expiresAt that is no time',
      '{"t":{"productCode":"p","expiresAt":"tomorrow"}}',
      ['token "t": "expiresAt" "tomorrow" is not an ISO 8601 time, e.g. 2030-01-01T00:00:00Z'],
    ],
  ])('refuses %s, naming the file, the token and the fix', async (_, content, says) => {
    const { file, text } = await fileWith(content);
    const err = refusal(() => parseRegistrationTokens(text, file), 'INVALID_REGISTRATION_TOKENS');
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    for (const part of says) expect(err.message).toContain(part);
  });
});

describe('parseLicenseItems and parseLicenseFile', () => {
  it('groups SKU:NAME:UNIT:MAX items by SKU, in order, with unlimited', () => {
    expect(parseLicenseItems(['sku-1:Users:Count:5', 'sku-2:Seats:Count:0', 'sku-1:Premium:None:unlimited'])).toEqual([
      {
        productSku: 'sku-1',
        entitlements: [
          { name: 'Users', unit: 'Count', maxCount: 5 },
          { name: 'Premium', unit: 'None', unlimited: true },
        ],
      },
      { productSku: 'sku-2', entitlements: [{ name: 'Seats', unit: 'Count', maxCount: 0 }] },
    ]);
  });

  it.each([
    ['sku:Users:Count', 'is not SKU:NAME:UNIT:MAX, e.g. sku-1:Users:Count:5'],
    ['sku:Users:Count:5:extra', 'is not SKU:NAME:UNIT:MAX'],
    ['sku:Users:Count:many', '"sku:Users:Count:many": the maximum "many" is not a whole number or "unlimited"'],
    ['sku:Users:Count:-1', 'the maximum "-1" is not a whole number'],
    ['sku:Users:Count:1.5', 'the maximum "1.5" is not a whole number'],
  ])('refuses the item %j', (item, says) => {
    expect(refusal(() => parseLicenseItems([item]), 'INVALID_LICENSE').message).toContain(says);
  });

  it('reads a licence file whose licences the emulator then serves to a real checkout', async () => {
    const { file, text } = await fileWith(
      JSON.stringify([
        {
          productSku: 'sku-file',
          entitlements: [
            { name: 'Users', unit: 'Count', maxCount: 1 },
            { name: 'Premium', unit: 'None', unlimited: true },
          ],
          productName: 'From a file',
          validityEnd: '2099-01-01T00:00:00Z',
        },
      ]),
    );
    const licenses = parseLicenseFile(text, file);
    expect(licenses).toEqual([
      {
        productSku: 'sku-file',
        entitlements: [
          { name: 'Users', unit: 'Count', maxCount: 1 },
          { name: 'Premium', unit: 'None', unlimited: true },
        ],
        productName: 'From a file',
        validityEnd: '2099-01-01T00:00:00Z',
      },
    ]);
    const emulator = await startMeteringEmulator({ licenses });
    const client = new LicenseManagerClient({
      region: TEST_REGION,
      endpoint: emulator.url,
      credentials: DUMMY_CREDENTIALS,
      maxAttempts: 1,
    });
    const checkout = (value: string) =>
      client.send(
        new CheckoutLicenseCommand({
          ProductSKU: 'sku-file',
          CheckoutType: 'PROVISIONAL',
          KeyFingerprint: AWS_MARKETPLACE_KEY_FINGERPRINT,
          Entitlements: [{ Name: 'Users', Unit: 'Count', Value: value }],
          ClientToken: crypto.randomUUID(),
        }),
      );
    try {
      await expect(checkout('1')).resolves.toMatchObject({
        EntitlementsAllowed: [{ Name: 'Users', Unit: 'Count', Value: '1' }],
      });
      // The file's maxCount of 1 is in use now.
      await expect(checkout('1')).rejects.toMatchObject({ name: 'NoEntitlementsAllowedException' });
    } finally {
      client.destroy();
      await emulator.close();
    }
  });

  it.each([
    ['not JSON', '[{', ['not JSON', 'expected an array like']],
    ['an object', '{"productSku":"s"}', ['expected an array like [{"productSku": "sku-1"']],
    ['a licence without productSku', '[{"entitlements":[]}]', ['licence 0 needs a "productSku" string']],
    [
      'a licence without entitlements',
      '[{"productSku":"s","entitlements":[]}]',
      ['licence 0 needs a non-empty "entitlements" array'],
    ],
    [
      'a misspelt licence field',
      '[{"productSku":"s","entitlements":[{"name":"U","unit":"Count","maxCount":1}],"keyFingerPrint":"x"}]',
      ['licence 0: "keyFingerPrint" is not one of', 'fix or remove it'],
    ],
    [
      'a status that is not a string',
      '[{"productSku":"s","entitlements":[{"name":"U","unit":"Count","maxCount":1}],"status":1}]',
      ['licence 0: "status" must be a string'],
    ],
    [
      'a validityEnd that is no time',
      '[{"productSku":"s","entitlements":[{"name":"U","unit":"Count","maxCount":1}],"validityEnd":"soon"}]',
      ['licence 0: "validityEnd" "soon" is not an ISO 8601 time'],
    ],
    [
      'an entitlement without unit',
      '[{"productSku":"s","entitlements":[{"name":"U","maxCount":1}]}]',
      ['licence 0 entitlement 0 needs "name" and "unit" strings'],
    ],
    [
      'a misspelt entitlement field',
      '[{"productSku":"s","entitlements":[{"name":"U","unit":"Count","max":1}]}]',
      ['licence 0 entitlement 0: "max" is not one of name, unit, maxCount, unlimited'],
    ],
    [
      'an entitlement without maximum',
      '[{"productSku":"s","entitlements":[{"name":"U","unit":"Count"}]}]',
      ['licence 0 entitlement 0 "maxCount": the maximum undefined is not a whole number'],
    ],
    [
      'a null maxCount',
      '[{"productSku":"s","entitlements":[{"name":"U","unit":"Count","maxCount":null}]}]',
      ['licence 0 entitlement 0 "maxCount": the maximum null is not a whole number'],
    ],
  ])('refuses a file with %s, naming the file, where in it, and the fix', async (_, content, says) => {
    const { file, text } = await fileWith(content);
    const err = refusal(() => parseLicenseFile(text, file), 'INVALID_LICENSE');
    expect(err.message.startsWith(`${file}: `)).toBe(true);
    for (const part of says) expect(err.message).toContain(part);
  });
});

describe('scenario options', () => {
  it('accepts call counts, rates, RegisterUsage errors and per-operation modelled errors', () => {
    expect(callCountOption('--throttle-first', 0)).toBe(0);
    expect(callCountOption('--throttle-first', 3)).toBe(3);
    expect(callRateOption('--rate-limit', 0.5)).toBe(0.5);
    expect(registerUsageErrorOption('--error', 'PlatformNotSupportedException')).toBe('PlatformNotSupportedException');
    expect(
      operationErrorsOption('--operation-errors', [
        'MeterUsage=InvalidEndpointRegionException',
        'ResolveCustomer=DisabledApiException',
      ]),
    ).toEqual({
      MeterUsage: 'InvalidEndpointRegionException',
      ResolveCustomer: 'DisabledApiException',
    });
  });

  it.each([
    [
      'a negative count',
      () => callCountOption('--fail-first', -1),
      '--fail-first -1 is not valid: expected a whole number of calls, 0 or more.',
    ],
    [
      'a fractional count',
      () => callCountOption('--fail-first', 1.5),
      '--fail-first 1.5 is not valid: expected a whole number of calls, 0 or more.',
    ],
    ['a NaN count', () => callCountOption('--fail-first', Number.NaN), '--fail-first NaN is not valid'],
    [
      'a rate of 0',
      () => callRateOption('--rate-limit', 0),
      '--rate-limit 0 is not valid: expected calls per second above 0.',
    ],
    [
      'an infinite rate',
      () => callRateOption('--rate-limit', Number.POSITIVE_INFINITY),
      '--rate-limit Infinity is not valid',
    ],
    [
      'an error RegisterUsage does not model',
      () => registerUsageErrorOption('--error', 'NoSuchException'),
      '--error NoSuchException is not a RegisterUsage error; one of CustomerNotEntitledException',
    ],
    [
      'an unknown operation',
      () => operationErrorsOption('--operation-errors', ['Meter=ThrottlingException']),
      'expected OPERATION=Exception with OPERATION one of RegisterUsage',
    ],
    [
      'an inherited name as operation',
      () => operationErrorsOption('--operation-errors', ['toString=ThrottlingException']),
      'expected OPERATION=Exception',
    ],
    [
      'two equals signs',
      () => operationErrorsOption('--operation-errors', ['MeterUsage=A=B']),
      'expected OPERATION=Exception',
    ],
    [
      'an error the operation does not model',
      () => operationErrorsOption('--operation-errors', ['MeterUsage=InvalidLicenseException']),
      `MeterUsage models ${Object.keys(MODELLED_ERRORS.MeterUsage!).join(', ')}.`,
    ],
  ])('refuses %s with INVALID_OPTION naming the option', (_, call, says) => {
    expect(refusal(call, 'INVALID_OPTION').message).toContain(says);
  });
});
