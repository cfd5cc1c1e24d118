/**
 * What every AWS SDK client of this package is built with, whichever service it calls: the endpoint checked, the
 * Region discovered (never assumed), the SDK's own retries off (our loop owns them), per-attempt timeouts, the
 * trusted roots pinned (src/aws/tls-roots.ts, with `--tls-keylog` refused), a copy of static credentials, and the
 * service's warning for credentials from EKS Pod Identity. Each service builds its own client from this config
 * (src/metering/client.ts, src/license/call.ts).
 *
 * @example
 * const { config, region } = await awsClientConfig(LICENSE_MANAGER, { endpoint: emulator.url }, logger, 'license');
 * const client = new LicenseManagerClient(config);
 */
// The credential type is the same for every v3 client; it is taken from a client package this one depends on, so the
// emitted types name no package a consumer may lack (@smithy/types is not a dependency of ours).
import type { MarketplaceMeteringClientConfig } from '@aws-sdk/client-marketplace-metering';
import { Agent } from 'node:https';
import { durationOption } from '../common/duration-option.js';
import { ConfigurationError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { findTlsKeyLog } from '../hardening/integrity.js';
import { resolveRegion } from '../platform/region.js';
import type { AwsService } from './aws-errors.js';
import { checkTlsRoots, tlsAgentOptions, type TlsRoots } from './tls-roots.js';

/** Per-attempt HTTP timeout: a hung connection is abandoned and retried long before the deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The EKS Pod Identity agent's address, as the SDK's container credential provider is pointed at it. */
const POD_IDENTITY_HOST = '169.254.170.23';

/** How to reach an AWS service: the same options for every service this package calls. */
export interface AwsClientOptions {
  /** Default: discovered (AWS_REGION, ECS task metadata, EC2 IMDSv2). Never assumed. */
  region?: string;
  /** Endpoint override for every AWS call (Metering and License Manager), e.g. the emulator's URL. */
  endpoint?: string;
  /** Handed to the SDK; default: its credential chain (IRSA on EKS, task role on ECS). */
  credentials?: MarketplaceMeteringClientConfig['credentials'];
  /**
   * Which certificate authorities may vouch for AWS's servers (and for STS, when the default credential chain
   * assumes an IRSA role). Default `'aws'`: Amazon's roots from Node's bundled store only, whatever
   * `NODE_EXTRA_CA_CERTS` or `NODE_TLS_REJECT_UNAUTHORIZED` say. `'system'`: Node's default store, still verified.
   * A PEM bundle: only those CAs. A plain-http `endpoint` (the local emulator) has no TLS to check.
   */
  tlsRoots?: TlsRoots;
  /** Per-attempt HTTP timeout. Default 10 s. */
  requestTimeoutMs?: number;
  /** Environment to read discovery variables from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** What every AWS client of this package is built with. */
export interface AwsClientConfig {
  region: string;
  maxAttempts: 1;
  requestHandler: { requestTimeout: number; throwOnRequestTimeout: true; connectionTimeout: number; httpsAgent: Agent };
  endpoint?: string;
  /** Always true: only the `endpoint` option moves our AWS calls (see {@link awsClientConfig}). */
  ignoreConfiguredEndpointUrls: true;
  credentials?: AwsClientOptions['credentials'];
}

/**
 * The shared SDK client configuration for `service`; `eventPrefix` starts the names of the events it logs
 * (`<eventPrefix>.region`, `<eventPrefix>.pod_identity`).
 *
 * @example
 * const { config } = await awsClientConfig(METERING, { endpoint: emulator.url }, logger, 'metering.MeterUsage');
 * const client = new MarketplaceMeteringClient(config);
 */
export async function awsClientConfig(
  service: Pick<AwsService, 'podIdentityAdvice'>,
  options: AwsClientOptions,
  logger: Logger,
  eventPrefix: string,
): Promise<{ config: AwsClientConfig; region: string }> {
  checkEndpoint(options.endpoint);
  const requestTimeoutMs = durationOption(
    'requestTimeoutMs',
    options.requestTimeoutMs,
    { unit: 'milliseconds', allowZero: false },
    DEFAULT_REQUEST_TIMEOUT_MS,
  );
  const env = options.env ?? process.env;
  const roots = checkTlsRoots(options.tlsRoots);
  if (roots !== 'system') refuseTlsKeyLog(env);
  const httpsAgent = new Agent({ keepAlive: true, ...tlsAgentOptions(roots) });
  if (!options.credentials && env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.includes(POD_IDENTITY_HOST)) {
    logger.warn?.(service.podIdentityAdvice, { event: `${eventPrefix}.pod_identity` });
  }
  const { region, source } = await resolveRegion({ region: options.region, env, logger });
  logger.debug?.(`Using Region ${region} (from ${source})`, { event: `${eventPrefix}.region`, region, source });
  const config: AwsClientConfig = {
    region,
    maxAttempts: 1, // our loop owns retries: deadline, jitter and abort in one place
    requestHandler: {
      requestTimeout: requestTimeoutMs,
      throwOnRequestTimeout: true, // without it the SDK only logs a warning and the attempt hangs on
      connectionTimeout: 3_000,
      // The SDK hands this handler to the STS client its default credential chain builds (IRSA), so the same roots
      // vouch for STS too.
      httpsAgent,
    },
    ...(options.endpoint && { endpoint: options.endpoint }),
    // The SDK would otherwise take an endpoint from AWS_ENDPOINT_URL(_<SERVICE>) or an endpoint_url in the file
    // AWS_CONFIG_FILE names: a manifest edit that sends License Manager and MeterUsage, whose answers are unsigned,
    // to a server that says "entitled". Only the `endpoint` option, set in the seller's code, moves our calls.
    ignoreConfiguredEndpointUrls: true,
    // The SDK writes onto a static credentials object it is given: hand it a copy, never the caller's.
    ...(options.credentials && {
      credentials: typeof options.credentials === 'function' ? options.credentials : { ...options.credentials },
    }),
  };
  return { config, region };
}

/**
 * Pinned roots prove who answers only while the session keys stay in this process: `--tls-keylog` writes them to a
 * file, from which a relay in the pod could read and rewrite AWS's answers. Refused (exit 78 `TLS_KEYLOG`).
 */
function refuseTlsKeyLog(env: NodeJS.ProcessEnv): void {
  const findings = findTlsKeyLog(env, process.execArgv);
  if (findings.length === 0) return;
  throw new ConfigurationError(
    'TLS_KEYLOG',
    `Refusing to call AWS with TLS session keys written to a file (${findings.join('; ')}): whoever reads it can ` +
      "read and rewrite AWS's answers. Remove --tls-keylog.",
  );
}

/** An endpoint given but empty or not a URL must not quietly mean "the real AWS endpoint". */
function checkEndpoint(endpoint: string | undefined): void {
  if (endpoint === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(endpoint);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
    throw new ConfigurationError(
      'INVALID_OPTION',
      `The endpoint ${JSON.stringify(endpoint)} is not an http(s) URL. Give the emulator's URL (e.g. ` +
        'http://127.0.0.1:8443), or leave the endpoint out to use AWS.',
    );
  }
}
