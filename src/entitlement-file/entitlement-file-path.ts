/**
 * Where the entitlement file lives by default, kept apart from the verification code so that a CLI's
 * help text can show it without loading any crypto library.
 *
 * @example
 * const path = process.env[ENTITLEMENT_FILE_ENV] ?? DEFAULT_ENTITLEMENT_FILE;
 */

/** The default path: a shared emptyDir (Kubernetes) or bind-mounted volume (ECS) in the pod or task. */
export const DEFAULT_ENTITLEMENT_FILE = '/var/run/marketplace-entitlement/entitlement.jwt';

/** The variable `marketplace-entitlement run` sets for the wrapped program: the path of the written file. */
export const ENTITLEMENT_FILE_ENV = 'MARKETPLACE_ENTITLEMENT_FILE';
