/**
 * Where the entitlement file lives by default, kept apart from the verification code so that a CLI's
 * help text can show it without loading any crypto library.
 *
 * @example
 * const path = entitlementFilePath(); // MARKETPLACE_ENTITLEMENT_FILE, else the default path
 */

/** The default path: a shared emptyDir (Kubernetes) or bind-mounted volume (ECS) in the pod or task. */
export const DEFAULT_ENTITLEMENT_FILE = '/var/run/marketplace-entitlement/entitlement.jwt';

/**
 * The one variable for the entitlement file's path: every command reads it (`register`/`run`/`serve` `--out`,
 * `check --file`; the command line wins), `run` sets it for the program it wraps, and the library's gate defaults
 * to it. The older `MARKETPLACE_OUT` and `MARKETPLACE_FILE` are read after it, by the commands that had them.
 */
export const ENTITLEMENT_FILE_ENV = 'MARKETPLACE_ENTITLEMENT_FILE';

/**
 * The entitlement file's path: `MARKETPLACE_ENTITLEMENT_FILE` when set and not empty, else
 * {@link DEFAULT_ENTITLEMENT_FILE}.
 *
 * @example
 * const claims = await verifyEntitlementFile(entitlementFilePath(), { publicKey });
 */
export function entitlementFilePath(env: NodeJS.ProcessEnv = process.env): string {
  const path = env[ENTITLEMENT_FILE_ENV];
  return path === undefined || path === '' ? DEFAULT_ENTITLEMENT_FILE : path;
}
