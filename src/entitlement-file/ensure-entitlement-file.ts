/**
 * "Entitled, with a file to prove it", for processes that write the entitlement file for an app beside them (the
 * `serve` sidecar, the `run --` wrapper): registers from this process and writes the file, then reads it back and
 * requires the registration this process made. With `reuseExistingFile: true` a valid file for this instance is
 * kept instead, so a restart makes no RegisterUsage call: that accepts a file this process did not write, which a
 * buyer can mint (docs/threat-model.md), so it is outside the line and never the default.
 *
 * @example
 * const { claims, attempts } = await ensureEntitlementFile({
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/shared/entitlement.jwt'
 * });
 */
import {
  verifyEntitlementFile,
  type EntitlementFileClaims,
  type VerifyEntitlementFileOptions,
} from './entitlement-file.js';
import { ConfigurationError, EntitlementError } from '../common/errors.js';
import { resolveLogger } from '../common/logger.js';
import { resolveInstanceId } from '../platform/instance-id.js';
import { applyHardenedProfile, checkProcessIntegrity } from '../hardening/process-guards.js';
import { ensureEntitled } from '../registration/register.js';
import { DEFAULT_PUBLIC_KEY_VERSION } from '../registration/public-key-version.js';
import type { EnsureEntitledOptions } from '../registration/types.js';

/**
 * Options of {@link ensureEntitlementFile}: those of `ensureEntitled`, the file, and whether to keep an existing one.
 */
export interface EnsureEntitlementFileOptions extends EnsureEntitledOptions {
  /** Where the signed entitlement file is written (docs/entitlement-file.md). */
  entitlementFile: string;
  /**
   * Keep a valid existing file for this instance instead of registering (no RegisterUsage call on a restart).
   * Outside the line: the kept file was not written by this process, and a buyer can mint one that verifies
   * (docs/threat-model.md). Refused with `hardened: true`. Default `false`: always register.
   */
  reuseExistingFile?: boolean;
}

/**
 * What {@link ensureEntitlementFile} did: kept a valid file (only with `reuseExistingFile`) or registered and wrote a
 * new one.
 */
export interface EntitlementFileOutcome {
  /** True when an existing valid file was kept and AWS was not called (only with `reuseExistingFile: true`). */
  reused: boolean;
  /** The verified claims of the file now in place. */
  claims: EntitlementFileClaims;
  /** RegisterUsage calls made (0 when reused). */
  attempts: number;
  /**
   * What a verifier in this instance should expect (for a gate over the same file); `nonce` when this process
   * registered.
   */
  expectations: Omit<VerifyEntitlementFileOptions, 'now'>;
}

/**
 * Calls RegisterUsage ({@link ensureEntitled}) from this process, writes the entitlement file atomically and reads
 * it back, requiring the nonce this process registered (a file replaced in between is `REGISTRATION_NOT_OURS`).
 * What `serve` and `run` do at every start. With `reuseExistingFile: true` (outside the line), a valid file for
 * this instance is kept instead.
 *
 * @example
 * const { attempts } = await ensureEntitlementFile({
 *   productCode,
 *   publicKey,
 *   entitlementFile: '/var/run/marketplace-entitlement/entitlement.jwt',
 *   hardened: true
 * });
 */
export async function ensureEntitlementFile(options: EnsureEntitlementFileOptions): Promise<EntitlementFileOutcome> {
  // Before the first await: the SIGUSR1 guard must be in place while AWS is called.
  const hardened = applyHardenedProfile(options, 'ensureEntitlementFile', { reachesAws: true });
  checkProcessIntegrity(hardened);
  const path = hardened.entitlementFile;
  const instance = await resolveInstanceId({
    instanceId: hardened.instanceId,
    env: hardened.env,
    binding: hardened.instanceBinding,
  });
  const expectations = {
    publicKey: hardened.publicKey,
    productCode: hardened.productCode,
    publicKeyVersion: hardened.publicKeyVersion ?? DEFAULT_PUBLIC_KEY_VERSION,
    ...(instance && { instanceId: instance.instance }),
  };
  if (hardened.reuseExistingFile === true) {
    try {
      const claims = await verifyEntitlementFile(path, expectations);
      resolveLogger(hardened.logger).info?.(
        `Reusing the valid entitlement file ${path}: no new registration (reuseExistingFile: outside the line)`,
        {
          event: 'register.reused',
          productCode: claims.productCode,
          registeredAt: claims.registeredAt.toISOString(),
          instance: claims.instance,
        },
      );
      return { reused: true, claims, attempts: 0, expectations };
    } catch (err) {
      // A bad key or option will not get better by registering; anything about the file itself will.
      if (!(err instanceof EntitlementError) || err instanceof ConfigurationError) throw err;
      resolveLogger(hardened.logger).info?.(`No reusable entitlement file at ${path} (${err.code}); registering`, {
        event: 'register.file_not_reusable',
        code: err.code,
      });
    }
  }
  const entitlement = await ensureEntitled({ ...hardened, ...(instance && { instanceId: instance.instance }) });
  const ours = { ...expectations, nonce: entitlement.nonce };
  const claims = await verifyEntitlementFile(path, ours);
  return { reused: false, claims, attempts: entitlement.attempts, expectations: ours };
}
