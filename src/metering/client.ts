/**
 * The one place a Metering SDK client is built, from the configuration every AWS client of this package shares
 * (src/aws/aws-client.ts: Region discovered, SDK retries off, per-attempt timeouts, trusted roots pinned) and
 * Metering's warning for EKS Pod Identity credentials. RegisterUsage and the metering calls share it.
 *
 * @example
 * const { client, region } = await meteringClient({ endpoint: emulator.url, region: 'us-east-1' }, console);
 * await client.send(new MeterUsageCommand(input));
 */
import { MarketplaceMeteringClient } from '@aws-sdk/client-marketplace-metering';
import type { CallPurpose } from '../aws/aws-call.js';
import { awsClientConfig, type AwsClientOptions } from '../aws/aws-client.js';
import type { Logger } from '../common/logger.js';
import { METERING } from './errors.js';

/** How to reach the Metering Service. */
export interface MeteringClientOptions extends AwsClientOptions {
  /**
   * An existing client; `region`, `endpoint`, `credentials` and `tlsRoots` are then ignored: its own settings apply.
   */
  client?: MarketplaceMeteringClient;
}

const REGISTER_PURPOSE: CallPurpose = { operation: 'RegisterUsage', eventPrefix: 'register' };

/**
 * The SDK client to use and the Region it talks to; `purpose.eventPrefix` names the events logged while building it.
 *
 * @example
 * const { client, region } = await meteringClient({}, logger, {
 *   operation: 'MeterUsage',
 *   eventPrefix: 'metering.MeterUsage'
 * });
 */
export async function meteringClient(
  options: MeteringClientOptions,
  logger: Logger,
  purpose: CallPurpose = REGISTER_PURPOSE,
): Promise<{ client: MarketplaceMeteringClient; region: string }> {
  if (options.client) return { client: options.client, region: await options.client.config.region() };
  const { config, region } = await awsClientConfig(METERING, options, logger, purpose.eventPrefix);
  return { client: new MarketplaceMeteringClient(config), region };
}
