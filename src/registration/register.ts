/**
 * `ensureEntitled()`: the entitlement check to run once at container start.
 *
 * Configuration is checked before any network call; RegisterUsage is called with a fresh CSPRNG nonce and
 * retried (throttling, 5xx, network) with jittered backoff until the deadline; the signed answer is
 * verified against the product's key and everything that was sent. The result is either a verified
 * {@link Entitlement} or a typed error.
 *
 * @example
 * import { ensureEntitled, NotEntitledError } from 'marketplace-entitlement';
 * const entitlement = await ensureEntitled({
 *   productCode: 'abc123example',
 *   publicKey: process.env.PRODUCT_PUBLIC_KEY!, // the PEM AWS Marketplace issued for your product
 *   hardened: true, // refuse injected and mounted code, trust only Amazon's roots, no inspector on SIGUSR1
 * });
 * console.log(`entitled, registered at ${entitlement.issuedAt.toISOString()}`);
 */
import { randomBytes, type KeyObject } from 'node:crypto';
import { RegisterUsageCommand, type RegisterUsageCommandOutput } from '@aws-sdk/client-marketplace-metering';
import { ConfigurationError } from '../common/errors.js';
import { resolveLogger } from '../common/logger.js';
import { callMetering } from '../metering/call.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';
import { loadProductPublicKey } from './public-key.js';
import { DEFAULT_PUBLIC_KEY_VERSION, isPublicKeyVersion, MAX_PUBLIC_KEY_VERSION } from './public-key-version.js';
import type { EnsureEntitledOptions, Entitlement } from './types.js';
import { DEFAULT_CLOCK_TOLERANCE_SEC, iatBounds, verifyRegistration, type RegistrationClaims } from './verify.js';
import type { Logger } from '../common/logger.js';

/** What RegisterUsage accepts as a product code (API model). */
export const PRODUCT_CODE_PATTERN = /^[-a-zA-Z0-9/=:_.@]{1,255}$/;

export { DEFAULT_REQUEST_TIMEOUT_MS } from '../aws/aws-client.js';

/**
 * Calls RegisterUsage and verifies the answer (and, with `entitlementFile`, writes the signed entitlement file);
 * throws an {@link EntitlementError} subclass otherwise.
 */
export async function ensureEntitled(given: EnsureEntitledOptions): Promise<Entitlement> {
  // Before the first await: the SIGUSR1 guard must be in place while AWS is called.
  const options = applyHardenedProfile(given, 'ensureEntitled', { reachesAws: true });
  const { entitlementFile } = options;
  if (entitlementFile === undefined) return registerUsage(options, newNonce());
  // Configuration first: a bad product code is exit 78 even when the output path is also unwritable.
  const checked = { ...options, publicKey: checkOptions(options).publicKey };
  // Loaded only here: an app that registers without writing a file (the usual in-process use) does not pay at boot
  // for the file's format, its signing and the atomic writer (docs/benchmarks.md, "Importing the package").
  const { prepareEntitlementFile } = await import('../entitlement-file/prepare-entitlement-file.js');
  const pending = await prepareEntitlementFile({ ...checked, entitlementFile });
  return pending.write(await registerUsage(checked, pending.nonce));
}

/** A nonce from the CSPRNG: 256 bits, 43 base64url characters (RegisterUsage allows 255). */
export function newNonce(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The RegisterUsage round trip for a given nonce. Exported for callers that bind the nonce to something
 * (the entitlement file binds it to a key thumbprint); everyone else uses {@link ensureEntitled}.
 */
export async function registerUsage(given: EnsureEntitledOptions, nonce: string): Promise<Entitlement> {
  const options = applyHardenedProfile(given, 'registerUsage', { reachesAws: true });
  const logger = resolveLogger(options.logger);
  const config = checkOptions(options);
  const request = { ProductCode: options.productCode, PublicKeyVersion: config.publicKeyVersion, Nonce: nonce };
  logger.info?.('Calling RegisterUsage', {
    event: 'register.start',
    productCode: request.ProductCode,
    publicKeyVersion: request.PublicKeyVersion,
    endpoint: options.endpoint,
  });
  const {
    value: response,
    attempts,
    region,
  } = await callMetering<RegisterUsageCommandOutput>(
    'RegisterUsage',
    (client, signal) => client.send(new RegisterUsageCommand(request), { abortSignal: signal }),
    { ...options, logger },
    {},
  );

  const claims = await verifyRegistration(response.Signature, {
    publicKey: config.publicKey,
    productCode: request.ProductCode,
    publicKeyVersion: request.PublicKeyVersion,
    nonce,
    ...(options.clockToleranceSec !== undefined && { clockToleranceSec: options.clockToleranceSec }),
    ...(options.maxTokenAgeSec !== undefined && { maxTokenAgeSec: options.maxTokenAgeSec }),
  });
  logIssuedAt(claims, logger);
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
    region,
  });
  return {
    productCode: claims.productCode,
    publicKeyVersion: claims.publicKeyVersion,
    nonce: claims.nonce,
    issuedAt: claims.issuedAt,
    issuedAtSource: claims.issuedAtSource,
    registration: response.Signature!,
    ...(rotation && { publicKeyRotationTimestamp: rotation }),
    attempts,
    region,
  };
}

/** `iat` is advisory: a token far from the local clock is accepted, but operators want to know about the skew. */
function logIssuedAt(claims: RegistrationClaims, logger: Logger): void {
  if (claims.issuedAtSource === 'received') {
    logger.info?.(
      'The RegisterUsage token has no iat in NumericDate seconds; issuedAt is the time the answer arrived',
      {
        event: 'register.iat_absent',
        iat: claims.payload.iat,
      },
    );
  } else if (Math.abs(claims.clockSkewSec!) > DEFAULT_CLOCK_TOLERANCE_SEC) {
    logger.warn?.(
      `The RegisterUsage token's iat is ${claims.clockSkewSec} s from this host's clock (accepted: the nonce proves ` +
        "the answer is fresh). Check this host's clock (NTP).",
      { event: 'register.clock_skew', clockSkewSec: claims.clockSkewSec, iat: claims.payload.iat },
    );
  }
}

interface CheckedOptions {
  publicKey: KeyObject;
  publicKeyVersion: number;
}

function checkOptions(options: EnsureEntitledOptions): CheckedOptions {
  if (typeof options.productCode !== 'string' || !PRODUCT_CODE_PATTERN.test(options.productCode)) {
    throw new ConfigurationError(
      'INVALID_PRODUCT_CODE',
      `Product code ${JSON.stringify(options.productCode)} is not valid: 1-255 characters of letters, digits and ` +
        '-/=:_.@. Copy it from the AWS Marketplace Management Portal.',
    );
  }
  const publicKeyVersion = options.publicKeyVersion ?? DEFAULT_PUBLIC_KEY_VERSION;
  if (!isPublicKeyVersion(publicKeyVersion)) {
    throw new ConfigurationError(
      'INVALID_PUBLIC_KEY_VERSION',
      `Public key version ${JSON.stringify(options.publicKeyVersion)} is not ` +
        `valid: a whole number from 1 to ${MAX_PUBLIC_KEY_VERSION} (RegisterUsage ` +
        'takes a 32-bit integer), as shown beside the key in the Management Portal.',
    );
  }
  // The verification options too: a NaN tolerance found only after AWS answered would waste the registration.
  iatBounds(options);
  checkProcessIntegrity(options);
  return { publicKey: loadProductPublicKey(options.publicKey), publicKeyVersion };
}
