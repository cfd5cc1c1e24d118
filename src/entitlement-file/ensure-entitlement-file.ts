/**
 * "Entitled, with a file to prove it", for processes that may restart inside the same pod (a sidecar, an
 * entrypoint wrapper): a valid entitlement file for this instance is reused, so a restart neither calls
 * RegisterUsage again nor fails where the first start succeeded; otherwise it registers and writes one.
 *
 * @example
 * const { reused, claims } = await ensureEntitlementFile({ productCode, publicKey, entitlementFile: '/shared/entitlement.jwt' });
 */
import { verifyEntitlementFile, type EntitlementFileClaims, type VerifyEntitlementFileOptions } from './entitlement-file.js';
import { ConfigurationError, EntitlementError } from '../common/errors.js';
import { resolveLogger } from '../common/logger.js';
import { resolveInstanceId } from '../platform/instance-id.js';
import { checkProcessIntegrity } from '../hardening/process-guards.js';
import { ensureEntitled, type EnsureEntitledOptions } from '../registration/register.js';

/** What {@link ensureEntitlementFile} did: kept a valid file or registered and wrote a new one. */
export interface EntitlementFileOutcome {
  /** True when an existing valid file was kept and AWS was not called. */
  reused: boolean;
  /** The verified claims of the file now in place. */
  claims: EntitlementFileClaims;
  /** RegisterUsage calls made (0 when reused). */
  attempts: number;
  /** What a verifier in this instance should expect (for a gate over the same file). */
  expectations: Omit<VerifyEntitlementFileOptions, 'now'>;
}

/**
 * Keeps a valid entitlement file for this instance, or calls RegisterUsage ({@link ensureEntitled}) and writes a
 * new one atomically. What `register`, `serve` and `run` do at start.
 *
 * @example
 * const { reused, attempts } = await ensureEntitlementFile({ productCode, publicKey, entitlementFile: '/var/run/marketplace-entitlement/entitlement.jwt' });
 */
export async function ensureEntitlementFile(options: EnsureEntitledOptions & { entitlementFile: string }): Promise<EntitlementFileOutcome> {
  checkProcessIntegrity(options);
  const path = options.entitlementFile;
  const instance = await resolveInstanceId({ instanceId: options.instanceId, env: options.env, binding: options.instanceBinding });
  const expectations = {
    publicKey: options.publicKey,
    productCode: options.productCode,
    publicKeyVersion: options.publicKeyVersion ?? 1,
    ...(instance && { instanceId: instance.instance }),
  };
  try {
    const claims = await verifyEntitlementFile(path, expectations);
    resolveLogger(options.logger).info?.(`Reusing the valid entitlement file ${path}: no new registration`, {
      event: 'register.reused',
      productCode: claims.productCode,
      registeredAt: claims.registeredAt.toISOString(),
      instance: claims.instance,
    });
    return { reused: true, claims, attempts: 0, expectations };
  } catch (err) {
    // A bad key or option will not get better by registering; anything about the file itself will.
    if (!(err instanceof EntitlementError) || err instanceof ConfigurationError) throw err;
    resolveLogger(options.logger).info?.(`No reusable entitlement file at ${path} (${err.code}); registering`, { event: 'register.file_not_reusable', code: err.code });
  }
  const entitlement = await ensureEntitled({ ...options, ...(instance && { instanceId: instance.instance }) });
  const claims = await verifyEntitlementFile(path, expectations);
  return { reused: false, claims, attempts: entitlement.attempts, expectations };
}
