/**
 * Contract and custom-metering answers are not signed, so the endpoint they come from is the whole trust: an
 * `AWS_ENDPOINT_URL*` variable (or an `endpoint_url` in the file `AWS_CONFIG_FILE` names) set in a manifest must not
 * move the calls the seller's own process makes. The real SDK clients we build are asked where they would send a
 * request; a middleware stops each request before it leaves, so no test traffic goes anywhere.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckoutLicenseCommand } from '@aws-sdk/client-license-manager';
import { MeterUsageCommand } from '@aws-sdk/client-marketplace-metering';
import { afterEach, describe, expect, it } from 'vitest';
import { licenseManagerClient } from '../../src/license/index.js';
import { meteringClient } from '../../src/metering/index.js';
import { useTempDir } from '../cli/helpers.js';
import { DUMMY_CREDENTIALS, recordingLogger } from '../support/index.js';

const tempDir = useTempDir();
const FAKE = 'http://127.0.0.1:9';
const base = { region: 'us-east-1', credentials: DUMMY_CREDENTIALS };
const saved = { ...process.env };
afterEach(() => {
  for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
  Object.assign(process.env, saved);
});

/** The host the client would have sent `command` to. */
async function destination(
  client: { middlewareStack: any; send(command: any): Promise<unknown> },
  command: unknown,
): Promise<string> {
  let host = '';
  client.middlewareStack.add(
    () => async (args: { request: { protocol: string; hostname: string; port?: number } }) => {
      host = `${args.request.protocol}//${args.request.hostname}${args.request.port ? `:${args.request.port}` : ''}`;
      throw new Error('stopped before sending');
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  await expect(client.send(command)).rejects.toThrow('stopped before sending');
  return host;
}

const checkout = () =>
  new CheckoutLicenseCommand({
    ProductSKU: 'sku',
    CheckoutType: 'PROVISIONAL',
    KeyFingerprint: 'fp',
    Entitlements: [{ Name: 'Users', Unit: 'Count' }],
    ClientToken: 't',
  });
const meter = () =>
  new MeterUsageCommand({ ProductCode: 'prod', Timestamp: new Date(), UsageDimension: 'd', DryRun: true });

describe('endpoints configured outside the seller code are ignored', () => {
  it.each([
    ['AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL: FAKE }],
    ['AWS_ENDPOINT_URL_LICENSE_MANAGER', { AWS_ENDPOINT_URL_LICENSE_MANAGER: FAKE }],
  ])('License Manager: %s does not move CheckoutLicense', async (_label, env) => {
    Object.assign(process.env, env);
    const { client } = await licenseManagerClient(base, recordingLogger());
    expect(await destination(client, checkout())).toBe('https://license-manager.us-east-1.amazonaws.com');
  });

  it.each([
    ['AWS_ENDPOINT_URL', { AWS_ENDPOINT_URL: FAKE }],
    ['AWS_ENDPOINT_URL_MARKETPLACE_METERING', { AWS_ENDPOINT_URL_MARKETPLACE_METERING: FAKE }],
  ])('Metering: %s does not move MeterUsage', async (_label, env) => {
    Object.assign(process.env, env);
    const { client } = await meteringClient(base, recordingLogger());
    expect(await destination(client, meter())).toBe('https://metering.marketplace.us-east-1.amazonaws.com');
  });

  it('an endpoint_url in the file AWS_CONFIG_FILE names does not move them either', async () => {
    const config = join(tempDir(), 'config');
    writeFileSync(config, `[default]\nendpoint_url = ${FAKE}\n`);
    Object.assign(process.env, { AWS_CONFIG_FILE: config, AWS_PROFILE: 'default' });
    const { client: lm } = await licenseManagerClient(base, recordingLogger());
    expect(await destination(lm, checkout())).toBe('https://license-manager.us-east-1.amazonaws.com');
    const { client: metering } = await meteringClient(base, recordingLogger());
    expect(await destination(metering, meter())).toBe('https://metering.marketplace.us-east-1.amazonaws.com');
  });

  it('the endpoint option, set in the seller code, does move them', async () => {
    const { client } = await licenseManagerClient({ ...base, endpoint: FAKE }, recordingLogger());
    expect(await destination(client, checkout())).toBe(FAKE);
  });
});
