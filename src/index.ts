// The public types use Node's (KeyObject, NodeJS.ProcessEnv, http handlers): TypeScript 7 loads no @types by default,
// so the emitted .d.ts of every entry point names them itself. A consumer needs @types/node installed, and no "types"
// setting.
/// <reference types="node" preserve="true" />
/**
 * marketplace-entitlement: what a seller of an hourly-priced container calls at start-up. RegisterUsage with a
 * fresh nonce, AWS's signed answer verified against the product key, and the typed errors with their exit codes.
 * Everything else has its own entry point, named after the folder it lives in (README, "API"):
 * `marketplace-entitlement/entitlement-file`, `/gates`, `/metering`, `/metering/datafire`, `/license`, `/platform`,
 * `/hardening`, `/aws`, `/emulator` and `/errors`. Importing the root loads none of them.
 *
 * @example
 * import { ensureEntitled, NotEntitledError } from 'marketplace-entitlement';
 * try {
 *   await ensureEntitled({ productCode: 'abc123example', publicKey: process.env.PRODUCT_PUBLIC_KEY! });
 * } catch (err) {
 *   if (err instanceof NotEntitledError) process.exit(err.exitCode); // 77
 *   throw err;
 * }
 */
export {
  ensureEntitled,
  registerUsage,
  newNonce,
  PRODUCT_CODE_PATTERN,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './registration/register.js';
export type { EnsureEntitledOptions, Entitlement } from './registration/types.js';
export { verifyRegistration, DEFAULT_CLOCK_TOLERANCE_SEC, PLAUSIBLE_IAT_RANGE_SEC } from './registration/verify.js';
export type { VerifyRegistrationOptions, RegistrationClaims } from './registration/verify.js';
export {
  loadProductPublicKey,
  publicKeyFingerprint,
  AWS_DOC_PLACEHOLDER_KEY_SHA256,
  MIN_RSA_BITS,
  MAX_RSA_BITS,
  RSA_PUBLIC_EXPONENT,
} from './registration/public-key.js';
export type { PublicKeyInput } from './registration/public-key.js';
export * from './errors.js';
export type { Logger, LoggerLike, LogFields } from './common/logger.js';
