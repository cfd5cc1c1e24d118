/**
 * One AWS License Manager call under the shared call loop (src/aws/aws-call.ts): the official
 * `@aws-sdk/client-license-manager` built from the configuration every AWS client of this package shares
 * (src/aws/aws-client.ts: same endpoint option, Region discovery, timeouts, trusted roots, SDK retries off),
 * failures judged by License Manager's own table and advice (./errors.ts).
 *
 * @example
 * const { value } = await callLicenseManager('GetLicense', (client, signal) =>
 *   client.send(new GetLicenseCommand({ LicenseArn }), { abortSignal: signal }), options);
 */
import { LicenseManagerClient } from '@aws-sdk/client-license-manager';
import { callAws, type AwsCallOptions, type CallResult } from '../aws/aws-call.js';
import { awsClientConfig, type AwsClientOptions } from '../aws/aws-client.js';
import type { Logger } from '../common/logger.js';
import { LICENSE_MANAGER } from './errors.js';

/**
 * The License Manager operations this package calls; the name appears in log events (`license.<Operation>.*`) and
 * errors.
 */
export type LicenseManagerOperation =
  | 'CheckoutLicense'
  | 'ExtendLicenseConsumption'
  | 'CheckInLicense'
  | 'GetLicense'
  | 'ListReceivedLicenses';

/**
 * How to reach License Manager: `region`, `endpoint` (the same URL as Metering's), `credentials`, `tlsRoots`,
 * `requestTimeoutMs`, `env`.
 */
export interface LicenseManagerClientOptions extends AwsClientOptions {
  /**
   * An existing client; `region`, `endpoint`, `credentials` and `tlsRoots` are then ignored: its own settings apply.
   */
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
  const { config, region } = await awsClientConfig(LICENSE_MANAGER, options, logger, 'license');
  return { client: new LicenseManagerClient(config), region };
}

/** Runs `attempt` with the retry policy; final failures become typed errors (./errors.ts). */
export function callLicenseManager<T>(
  operation: LicenseManagerOperation,
  attempt: (client: LicenseManagerClient, signal: AbortSignal) => Promise<T>,
  options: LicenseManagerCallOptions,
): Promise<CallResult<T>> {
  return callAws(
    {
      service: LICENSE_MANAGER,
      operation,
      eventPrefix: `license.${operation}`,
      makeClient: (logger) => licenseManagerClient(options, logger),
      attempt,
    },
    options,
  );
}
