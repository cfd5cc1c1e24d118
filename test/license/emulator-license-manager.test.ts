import {
  CheckInLicenseCommand,
  CheckoutLicenseCommand,
  ExtendLicenseConsumptionCommand,
  GetLicenseCommand,
  LicenseManagerClient,
  ListReceivedLicensesCommand,
  type CheckoutLicenseCommandInput,
} from '@aws-sdk/client-license-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MeteringEmulator } from '../../src/emulator/index.js';
import { AWS_MARKETPLACE_KEY_FINGERPRINT } from '../../src/license/index.js';
import { contract, DUMMY_CREDENTIALS, rejectionOf, TEST_REGION, TEST_SKU, useEmulator } from '../support/index.js';

const emulator = useEmulator({ credentials: DUMMY_CREDENTIALS });
let client: LicenseManagerClient;
beforeAll(() => {
  client = lmClient(emulator());
});
afterAll(() => client.destroy());

function lmClient(target: MeteringEmulator): LicenseManagerClient {
  return new LicenseManagerClient({
    region: TEST_REGION,
    endpoint: target.url,
    credentials: DUMMY_CREDENTIALS,
    maxAttempts: 1,
  });
}

const checkout = (overrides: Partial<CheckoutLicenseCommandInput> = {}) =>
  new CheckoutLicenseCommand({
    ProductSKU: TEST_SKU,
    CheckoutType: 'PROVISIONAL',
    KeyFingerprint: AWS_MARKETPLACE_KEY_FINGERPRINT,
    Entitlements: [{ Name: 'Users', Unit: 'Count', Value: '1' }],
    ClientToken: crypto.randomUUID(),
    ...overrides,
  });

describe('the License Manager emulator, through the official SDK over HTTP', () => {
  it('checks out, extends, checks in, and answers GetLicense and ListReceivedLicenses (SigV4 license-manager verified)', async () => {
    const license = emulator().licenseManager.addLicense(contract(2));
    const out = await client.send(checkout());
    expect(out).toMatchObject({
      CheckoutType: 'PROVISIONAL',
      LicenseArn: license.licenseArn,
      EntitlementsAllowed: [{ Name: 'Users', Unit: 'Count', Value: '1' }],
    });
    expect(Date.parse(out.Expiration!) - Date.parse(out.IssuedAt!)).toBe(60 * 60_000);
    const extended = await client.send(
      new ExtendLicenseConsumptionCommand({ LicenseConsumptionToken: out.LicenseConsumptionToken }),
    );
    expect(extended.LicenseConsumptionToken).toBe(out.LicenseConsumptionToken);
    const got = await client.send(new GetLicenseCommand({ LicenseArn: license.licenseArn }));
    expect(got.License).toMatchObject({
      ProductSKU: TEST_SKU,
      Status: 'AVAILABLE',
      Version: '1',
      Issuer: { KeyFingerprint: AWS_MARKETPLACE_KEY_FINGERPRINT },
    });
    const listed = await client.send(
      new ListReceivedLicensesCommand({ Filters: [{ Name: 'ProductSKU', Values: [TEST_SKU] }] }),
    );
    expect(listed.Licenses?.map((l) => l.LicenseArn)).toEqual([license.licenseArn]);
    await client.send(new CheckInLicenseCommand({ LicenseConsumptionToken: out.LicenseConsumptionToken }));
    expect(emulator().licenseManager.inUse(license.licenseArn, 'Users')).toBe(0);
    expect(emulator().calls.every((call) => call.region === TEST_REGION && call.statusCode === 200)).toBe(true);
  });

  it('answers ValidationException to a checkout without ClientToken (the SDK sends it anyway)', async () => {
    emulator().licenseManager.addLicense(contract(1));
    const err = await rejectionOf(client.send(checkout({ ClientToken: undefined })), Error);
    expect(err.name).toBe('ValidationException');
    expect(err.message).toContain('ClientToken');
  });

  it('the same ClientToken answers the same checkout and holds one unit', async () => {
    const license = emulator().licenseManager.addLicense(contract(1));
    const command = checkout();
    const [a, b] = [await client.send(command), await client.send(command)];
    expect(b.LicenseConsumptionToken).toBe(a.LicenseConsumptionToken);
    expect(emulator().licenseManager.inUse(license.licenseArn, 'Users')).toBe(1);
  });

  it('a partial PROVISIONAL grant returns what fits', async () => {
    emulator().licenseManager.addLicense(contract(1));
    const out = await client.send(
      checkout({
        Entitlements: [
          { Name: 'Users', Unit: 'Count', Value: '1' },
          { Name: 'Admins', Unit: 'Count', Value: '1' },
        ],
      }),
    );
    expect(out.EntitlementsAllowed?.map((e) => e.Name)).toEqual(['Users']);
  });

  it('a unit held by a holder that never checks in returns to the pool when its time-to-live ends', async () => {
    const lm = emulator().licenseManager;
    const license = lm.addLicense(contract(1));
    await client.send(checkout());
    expect((await rejectionOf(client.send(checkout()), Error)).name).toBe('NoEntitlementsAllowedException');
    lm.advanceClock(60 * 60_000);
    await client.send(checkout());
    expect(lm.inUse(license.licenseArn, 'Users')).toBe(1);
  });

  it.each([429, 400] as const)('RateLimitExceededException as HTTP %i', async (status) => {
    Object.assign(emulator().licenseManager.scenario, { rateLimitFirst: 1, rateLimitStatus: status });
    const err = (await rejectionOf(client.send(checkout()), Error)) as Error & {
      $metadata: { httpStatusCode: number };
    };
    expect(err.name).toBe('RateLimitExceededException');
    expect(err.$metadata.httpStatusCode).toBe(status);
  });

  it('RedirectException (308) carries Location in the body', async () => {
    emulator().licenseManager.scenario.redirectTo = 'https://license-manager.ap-south-1.amazonaws.com';
    const err = (await rejectionOf(client.send(checkout()), Error)) as Error & { Location?: string };
    expect(err.name).toBe('RedirectException');
    expect(err.Location).toBe('https://license-manager.ap-south-1.amazonaws.com');
  });

  it('refuses a License Manager call signed for another service', async () => {
    const res = await fetch(emulator().url, {
      method: 'POST',
      headers: {
        'x-amz-target': 'AWSLicenseManager.GetLicense',
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-date': '20260101T000000Z',
        authorization: `AWS4-HMAC-SHA256 Credential=${DUMMY_CREDENTIALS.accessKeyId}/20260101/${TEST_REGION}/aws-marketplace/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`,
      },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({
      __type: 'InvalidSignatureException',
      Message: expect.stringContaining("'license-manager'"),
    });
  });
});
