/**
 * One AWS License Manager call under the shared retry loop (src/aws/aws-call.ts): the official
 * `@aws-sdk/client-license-manager` with its own retries off, built like the Metering client (same endpoint
 * option, Region discovery, timeouts), failures classified by ./errors.ts.
 *
 * @example
 * const { value } = await callLicenseManager('GetLicense', (client, signal) =>
 *   client.send(new GetLicenseCommand({ LicenseArn }), { abortSignal: signal }), options);
 */
import { LicenseManagerClient } from '@aws-sdk/client-license-manager';
import { callAws, type AwsCallOptions, type CallResult } from '../aws/aws-call.js';
import type { Logger } from '../common/logger.js';
import { awsClientConfig, type MeteringClientOptions } from '../aws/metering-client.js';
import { classifyLicenseManagerError } from './errors.js';

/** The License Manager operations this package calls; the name appears in log events (`license.<Operation>.*`) and errors. */
export type LicenseManagerOperation = 'CheckoutLicense' | 'ExtendLicenseConsumption' | 'CheckInLicense' | 'GetLicense' | 'ListReceivedLicenses';

/** How to reach License Manager: `region`, `endpoint` (the same URL as Metering's), `credentials`, `requestTimeoutMs`, `env`. */
export interface LicenseManagerClientOptions extends Omit<MeteringClientOptions, 'client'> {
  /** An existing client; `region`, `endpoint`, `credentials` and `tlsRoots` are then ignored: its own settings apply. */
  client?: LicenseManagerClient;
}

/** Options every License Manager call takes: how to reach it, plus the retry deadline, abort `signal` and logger. */
export interface LicenseManagerCallOptions extends LicenseManagerClientOptions, AwsCallOptions {}

/**
 * The SDK client to use and its Region.
 *
 * @example const { client } = await licenseManagerClient({ endpoint: emulator.url, region: 'us-east-1' }, console);
 */
export async function licenseManagerClient(
  options: LicenseManagerClientOptions,
  logger: Logger,
): Promise<{ client: LicenseManagerClient; region: string }> {
  if (options.client) return { client: options.client, region: await options.client.config.region() };
  const { config, region } = await awsClientConfig(options, logger, { operation: 'License Manager', eventPrefix: 'license' });
  return { client: new LicenseManagerClient(config), region };
}

/** Runs `attempt` with the retry policy; final failures become typed errors (./errors.ts). */
export function callLicenseManager<T>(
  operation: LicenseManagerOperation,
  attempt: (client: LicenseManagerClient, signal: AbortSignal) => Promise<T>,
  options: LicenseManagerCallOptions,
): Promise<CallResult<T>> {
  return callAws(
    { operation, eventPrefix: `license.${operation}` },
    (logger) => licenseManagerClient(options, logger),
    attempt,
    options,
    (err) => classifyLicenseManagerError(err),
  );
}
