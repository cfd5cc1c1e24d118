/**
 * `ensureEntitled()`: the entitlement check to run once at container start.
 *
 * Configuration is checked before any network call; RegisterUsage is called with a fresh CSPRNG nonce and
 * retried (throttling, 5xx, network) with full-jitter backoff until the deadline; the signed answer is
 * verified against the product's key and everything that was sent. The result is either a verified
 * {@link Entitlement} or a typed error.
 *
 * @example
 * import { ensureEntitled, NotEntitledError } from 'marketplace-entitlement';
 * const entitlement = await ensureEntitled({
 *   productCode: 'abc123example',
 *   publicKey: process.env.PRODUCT_PUBLIC_KEY!, // the PEM AWS Marketplace issued for your product
 * });
 * console.log(`entitled, registered at ${entitlement.issuedAt.toISOString()}`);
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import {
  MarketplaceMeteringClient,
  RegisterUsageCommand,
  type MarketplaceMeteringClientConfig,
  type RegisterUsageCommandOutput,
} from '@aws-sdk/client-marketplace-metering';
import { classifyMeteringError } from './aws-errors.js';
import { ConfigurationError } from './errors.js';
import { defaultLogger, describeError, type Logger } from './logger.js';
import { loadProductPublicKey, type PublicKeyInput } from './public-key.js';
import { resolveRegion } from './region.js';
import { DEFAULT_DEADLINE_MS, retryUntilDeadline, type RetryPolicy } from './retry.js';
import { verifyRegistration } from './verify.js';

/** What RegisterUsage accepts as a product code (API model). */
export const PRODUCT_CODE_PATTERN = /^[-a-zA-Z0-9/=:_.@]{1,255}$/;

/** Per-attempt HTTP timeout: a hung connection is abandoned and retried long before the deadline. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** The EKS Pod Identity agent's address: AWS Marketplace does not support these credentials. */
const POD_IDENTITY_HOST = '169.254.170.23';

export interface EnsureEntitledOptions {
  /** The product code from the AWS Marketplace Management Portal. */
  productCode: string;
  /** The public key AWS issued for this product and `publicKeyVersion` (PEM or KeyObject). There is no default. */
  publicKey: PublicKeyInput;
  /** The version of `publicKey`. Default 1. */
  publicKeyVersion?: number;
  /** Default: discovered (AWS_REGION, ECS task metadata, EC2 IMDSv2). Never assumed. */
  region?: string;
  /** Metering endpoint override, e.g. the emulator's URL. */
  endpoint?: string;
  /** Handed to the SDK; default: its credential chain (IRSA on EKS, task role on ECS). */
  credentials?: MarketplaceMeteringClientConfig['credentials'];
  /** An existing client; `region`, `endpoint` and `credentials` are then ignored. */
  client?: MarketplaceMeteringClient;
  /** Total retry budget. Default 30 minutes (AWS guidance). */
  deadlineMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Per-attempt HTTP timeout. Default 10 s. */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
  clockToleranceSec?: number;
  maxTokenAgeSec?: number;
  logger?: Logger;
  /** Environment to read discovery variables from. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** A verified registration. */
export interface Entitlement {
  productCode: string;
  publicKeyVersion: number;
  /** The nonce sent and found again in the signed answer. */
  nonce: string;
  /** When AWS signed the registration (`iat`). */
  issuedAt: Date;
  /** The AWS JWT, verbatim. */
  registration: string;
  /** Present when AWS says `publicKeyVersion` has expired: rotate to the new key. */
  publicKeyRotationTimestamp?: Date;
  /** RegisterUsage calls made, retries included. */
  attempts: number;
  /** The Region the call went to. */
  region: string;
}

/** Calls RegisterUsage and verifies the answer; throws an {@link EntitlementError} subclass otherwise. */
export async function ensureEntitled(options: EnsureEntitledOptions): Promise<Entitlement> {
  return registerUsage(options, newNonce());
}

/** A nonce from the CSPRNG: 256 bits, 43 base64url characters (RegisterUsage allows 255). */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The RegisterUsage round trip for a given nonce. Exported for callers that bind the nonce to something
 * (the entitlement file binds it to a key thumbprint); everyone else uses {@link ensureEntitled}.
 */
export async function registerUsage(options: EnsureEntitledOptions, nonce: string): Promise<Entitlement> {
  const logger = options.logger ?? defaultLogger;
  const config = checkOptions(options);
  const { client, region } = await meteringClient(options, logger);
  const request = { ProductCode: options.productCode, PublicKeyVersion: config.publicKeyVersion, Nonce: nonce };

  logger.info?.('Calling RegisterUsage', {
    event: 'register.start',
    productCode: request.ProductCode,
    publicKeyVersion: request.PublicKeyVersion,
    region,
    endpoint: options.endpoint,
  });
  const { value: response, attempts } = await retryUntilDeadline<RegisterUsageCommandOutput>(
    (signal) => client.send(new RegisterUsageCommand(request), { abortSignal: signal }),
    {
      operation: 'RegisterUsage',
      deadlineMs: config.deadlineMs,
      policy: options.retry,
      signal: options.signal,
      isRetryable: (err) => classifyMeteringError(err).retryable,
      onRetry: ({ error, attempt, delayMs }) =>
        logger.warn?.(`RegisterUsage attempt ${attempt} failed, retrying in ${delayMs} ms`, {
          event: 'register.retry',
          attempt,
          delayMs,
          error: describeError(error),
        }),
    },
  ).catch((err: unknown) => {
    const verdict = classifyMeteringError(err);
    throw verdict.retryable ? err : verdict.error;
  });

  const claims = await verifyRegistration(response.Signature, {
    publicKey: config.publicKey,
    productCode: request.ProductCode,
    publicKeyVersion: request.PublicKeyVersion,
    nonce,
    ...(options.clockToleranceSec !== undefined && { clockToleranceSec: options.clockToleranceSec }),
    ...(options.maxTokenAgeSec !== undefined && { maxTokenAgeSec: options.maxTokenAgeSec }),
  });
  const rotation = response.PublicKeyRotationTimestamp;
  if (rotation) {
    logger.warn?.(
      `AWS reports that public key version ${request.PublicKeyVersion} expired at ${rotation.toISOString()}: ` +
        'configure the newer key and its version from the AWS Marketplace Management Portal.',
      { event: 'register.key_rotation', publicKeyVersion: request.PublicKeyVersion, rotatedAt: rotation.toISOString() },
    );
  }
  logger.info?.('Entitlement verified', {
    event: 'register.verified',
    productCode: claims.productCode,
    issuedAt: claims.issuedAt.toISOString(),
    attempts,
  });
  return {
    productCode: claims.productCode,
    publicKeyVersion: claims.publicKeyVersion,
    nonce: claims.nonce,
    issuedAt: claims.issuedAt,
    registration: response.Signature!,
    ...(rotation && { publicKeyRotationTimestamp: rotation }),
    attempts,
    region,
  };
}

interface CheckedOptions {
  publicKey: KeyObject;
  publicKeyVersion: number;
  deadlineMs: number;
}

function checkOptions(options: EnsureEntitledOptions): CheckedOptions {
  if (typeof options.productCode !== 'string' || !PRODUCT_CODE_PATTERN.test(options.productCode)) {
    throw new ConfigurationError(
      'INVALID_PRODUCT_CODE',
      `Product code ${JSON.stringify(options.productCode)} is not valid: 1-255 characters of letters, digits and -/=:_.@. ` +
        'Copy it from the AWS Marketplace Management Portal.',
    );
  }
  const publicKeyVersion = options.publicKeyVersion ?? 1;
  if (!Number.isSafeInteger(publicKeyVersion) || publicKeyVersion < 1) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY_VERSION',
      `Public key version ${JSON.stringify(options.publicKeyVersion)} is not valid: a whole number >= 1, as shown beside the key in the Management Portal.`,
    );
  }
  if (options.publicKey === undefined || options.publicKey === null || options.publicKey === '') {
    throw new ConfigurationError(
      'MISSING_PUBLIC_KEY',
      'No product public key given. There is no global AWS key: pass the RSA public key AWS Marketplace issued for ' +
        'this product (Management Portal) as publicKey / --public-key-file.',
    );
  }
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  if (!(deadlineMs > 0) || !Number.isFinite(deadlineMs)) {
    throw new ConfigurationError('INVALID_OPTION', `deadlineMs must be a positive number of milliseconds, got ${String(options.deadlineMs)}.`);
  }
  return { publicKey: loadProductPublicKey(options.publicKey), publicKeyVersion, deadlineMs };
}

async function meteringClient(
  options: EnsureEntitledOptions,
  logger: Logger,
): Promise<{ client: MarketplaceMeteringClient; region: string }> {
  if (options.client) return { client: options.client, region: await options.client.config.region() };
  const env = options.env ?? process.env;
  warnOnUnsupportedCredentials(env, options, logger);
  const { region, source } = await resolveRegion({ region: options.region, env, logger });
  logger.debug?.(`Using Region ${region} (from ${source})`, { event: 'register.region', region, source });
  const client = new MarketplaceMeteringClient({
    region,
    maxAttempts: 1, // our loop owns retries: deadline, jitter and abort in one place
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, connectionTimeout: 3_000 },
    ...(options.endpoint && { endpoint: options.endpoint }),
    ...(options.credentials && { credentials: options.credentials }),
  });
  return { client, region };
}

function warnOnUnsupportedCredentials(env: NodeJS.ProcessEnv, options: EnsureEntitledOptions, logger: Logger): void {
  if (options.credentials || !env.AWS_CONTAINER_CREDENTIALS_FULL_URI?.includes(POD_IDENTITY_HOST)) return;
  logger.warn?.(
    'Credentials come from EKS Pod Identity, which AWS Marketplace does not support for RegisterUsage: ' +
      'use IAM Roles for Service Accounts (IRSA) for this pod.',
    { event: 'register.pod_identity' },
  );
}
